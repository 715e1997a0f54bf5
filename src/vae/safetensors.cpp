#include "vae/safetensors.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <limits>
#include <nlohmann/json.hpp>

#include "core/error.h"
#include "core/files.h"

namespace dw::vae {

// The bytes of a file: a read-only mapping, or a heap copy (fuzzing, tests).
struct SafetensorsFile::Storage {
  const std::uint8_t* data = nullptr;
  std::size_t size = 0;
  void* mapping = nullptr;
  std::vector<std::uint8_t> copy;

  Storage() = default;
  Storage(const Storage&) = delete;
  Storage& operator=(const Storage&) = delete;
  ~Storage() {
    if (mapping) munmap(mapping, size);
  }
};

namespace {

struct DtypeRow {
  const char* name;
  Dtype dtype;
  std::size_t size;
};
constexpr DtypeRow kDtypes[] = {
    {"F64", Dtype::F64, 8},   {"F32", Dtype::F32, 4},        {"F16", Dtype::F16, 2},
    {"BF16", Dtype::BF16, 2}, {"I64", Dtype::I64, 8},        {"I32", Dtype::I32, 4},
    {"I16", Dtype::I16, 2},   {"I8", Dtype::I8, 1},          {"U8", Dtype::U8, 1},
    {"BOOL", Dtype::Bool, 1}, {"F8_E4M3", Dtype::F8E4M3, 1}, {"F8_E5M2", Dtype::F8E5M2, 1},
};

[[noreturn]] void fail(const std::string& what, const std::string& message) {
  throw InputError(what + ": " + message);
}

[[noreturn]] void fail_tensor(const std::string& what, const std::string& tensor,
                              const std::string& message) {
  throw InputError(what + ": tensor '" + tensor + "': " + message);
}

std::uint64_t read_le64(const std::uint8_t* p) {
  std::uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = (v << 8) | p[i];
  return v;
}

std::string short_text(std::string s, std::size_t limit = 80) {
  if (s.size() > limit) s = s.substr(0, limit) + "...";
  return s;
}

}  // namespace

const char* dtype_name(Dtype dtype) {
  for (const DtypeRow& row : kDtypes)
    if (row.dtype == dtype) return row.name;
  return "?";
}

std::size_t dtype_size(Dtype dtype) {
  for (const DtypeRow& row : kDtypes)
    if (row.dtype == dtype) return row.size;
  return 0;
}

bool dtype_is_float(Dtype dtype) {
  return dtype == Dtype::F32 || dtype == Dtype::F16 || dtype == Dtype::BF16 || dtype == Dtype::F64;
}

std::int64_t TensorEntry::numel() const {
  std::int64_t n = 1;
  for (auto d : shape) n *= d;  // checked against overflow when the header was read
  return n;
}

std::string TensorEntry::shape_text() const {
  std::string s = "[";
  for (std::size_t i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + std::to_string(shape[i]);
  return s + "]";
}

float half_to_float(std::uint16_t bits) {
  const std::uint32_t sign = (bits & 0x8000u) << 16;
  std::uint32_t exponent = (bits >> 10) & 0x1fu;
  std::uint32_t mantissa = bits & 0x3ffu;
  std::uint32_t out;
  if (exponent == 0) {
    if (mantissa == 0) {
      out = sign;
    } else {  // subnormal: normalise
      exponent = 127 - 15 + 1;
      while ((mantissa & 0x400u) == 0) {
        mantissa <<= 1;
        --exponent;
      }
      mantissa &= 0x3ffu;
      out = sign | (exponent << 23) | (mantissa << 13);
    }
  } else if (exponent == 0x1f) {
    out = sign | 0x7f800000u | (mantissa << 13);
  } else {
    out = sign | ((exponent + 127 - 15) << 23) | (mantissa << 13);
  }
  float f;
  std::memcpy(&f, &out, sizeof f);
  return f;
}

float bfloat16_to_float(std::uint16_t bits) {
  const std::uint32_t out = static_cast<std::uint32_t>(bits) << 16;
  float f;
  std::memcpy(&f, &out, sizeof f);
  return f;
}

SafetensorsFile SafetensorsFile::open(const std::string& path, const SafetensorsLimits& limits) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) fail(path, std::string("cannot open: ") + std::strerror(errno));
  struct stat st {};
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    fail(path, "not a regular file");
  }
  auto storage = std::make_shared<Storage>();
  storage->size = static_cast<std::size_t>(st.st_size);
  if (storage->size > 0) {
    void* p = mmap(nullptr, storage->size, PROT_READ, MAP_PRIVATE, fd, 0);
    if (p == MAP_FAILED) {
      const int err = errno;
      ::close(fd);
      fail(path, std::string("cannot map: ") + std::strerror(err));
    }
    storage->mapping = p;
    storage->data = static_cast<const std::uint8_t*>(p);
  }
  ::close(fd);
  return SafetensorsFile(std::move(storage), path, limits);
}

SafetensorsFile SafetensorsFile::from_bytes(std::span<const std::uint8_t> bytes,
                                            const std::string& what,
                                            const SafetensorsLimits& limits) {
  auto storage = std::make_shared<Storage>();
  storage->copy.assign(bytes.begin(), bytes.end());
  storage->data = storage->copy.data();
  storage->size = storage->copy.size();
  return SafetensorsFile(std::move(storage), what, limits);
}

SafetensorsFile::SafetensorsFile(std::shared_ptr<const Storage> storage, std::string what,
                                 const SafetensorsLimits& limits)
    : storage_(std::move(storage)), what_(std::move(what)) {
  const std::size_t file_size = storage_->size;
  if (file_size < 8)
    fail(what_, "too short for a safetensors file (" + std::to_string(file_size) + " bytes)");
  const std::uint64_t header_size = read_le64(storage_->data);
  if (header_size > limits.max_header_bytes)
    fail(what_, "header length " + std::to_string(header_size) + " exceeds the limit of " +
                    std::to_string(limits.max_header_bytes) + " bytes (not a safetensors file?)");
  if (header_size > file_size - 8)
    fail(what_, "header length " + std::to_string(header_size) + " runs past the end of the " +
                    std::to_string(file_size) + "-byte file");
  const char* header_begin = reinterpret_cast<const char*>(storage_->data + 8);
  data_ = std::span<const std::uint8_t>(storage_->data + 8 + header_size,
                                        file_size - 8 - static_cast<std::size_t>(header_size));

  nlohmann::json header;
  try {
    header = nlohmann::json::parse(header_begin, header_begin + header_size);
  } catch (const nlohmann::json::exception& e) {
    fail(what_, std::string("header is not valid JSON: ") + e.what());
  }
  if (!header.is_object()) fail(what_, "header is not a JSON object");

  for (auto it = header.begin(); it != header.end(); ++it) {
    const std::string& name = it.key();
    const nlohmann::json& value = it.value();
    if (name == "__metadata__") {
      if (!value.is_object()) fail(what_, "__metadata__ is not an object");
      for (auto m = value.begin(); m != value.end(); ++m) {
        if (!m.value().is_string())
          fail(what_, "__metadata__ entry '" + short_text(m.key()) + "' is not a string");
        metadata_[m.key()] = m.value().get<std::string>();
      }
      continue;
    }
    if (!value.is_object()) fail_tensor(what_, name, "entry is not an object");
    TensorEntry entry;
    entry.name = name;

    const auto dtype_it = value.find("dtype");
    if (dtype_it == value.end() || !dtype_it->is_string())
      fail_tensor(what_, name, "missing or non-string 'dtype'");
    const std::string dtype_text = dtype_it->get<std::string>();
    const DtypeRow* row = nullptr;
    for (const DtypeRow& r : kDtypes)
      if (dtype_text == r.name) row = &r;
    if (!row) fail_tensor(what_, name, "unknown dtype '" + short_text(dtype_text) + "'");
    entry.dtype = row->dtype;

    const auto shape_it = value.find("shape");
    if (shape_it == value.end() || !shape_it->is_array())
      fail_tensor(what_, name, "missing or non-array 'shape'");
    if (shape_it->size() > limits.max_rank)
      fail_tensor(what_, name,
                  "rank " + std::to_string(shape_it->size()) + " exceeds " +
                      std::to_string(limits.max_rank));
    // The element count times the dtype size must fit the data section, which bounds every
    // product below: any dimension that would overflow is already far too large.
    std::uint64_t bytes = row->size;
    for (const auto& d : *shape_it) {
      if (!d.is_number_integer() ||
          (d.is_number_integer() && !d.is_number_unsigned() && d.get<std::int64_t>() < 0))
        fail_tensor(what_, name, "shape entries must be non-negative integers");
      const std::uint64_t dim = d.get<std::uint64_t>();
      if (dim != 0 && bytes > std::numeric_limits<std::uint64_t>::max() / dim)
        fail_tensor(what_, name, "shape " + short_text(shape_it->dump()) + " overflows");
      bytes *= dim;
      entry.shape.push_back(static_cast<std::int64_t>(
          std::min<std::uint64_t>(dim, std::numeric_limits<std::int64_t>::max())));
    }

    const auto offsets_it = value.find("data_offsets");
    if (offsets_it == value.end() || !offsets_it->is_array() || offsets_it->size() != 2 ||
        !(*offsets_it)[0].is_number_unsigned() || !(*offsets_it)[1].is_number_unsigned())
      fail_tensor(what_, name, "'data_offsets' must be two non-negative integers");
    const std::uint64_t begin = (*offsets_it)[0].get<std::uint64_t>();
    const std::uint64_t end = (*offsets_it)[1].get<std::uint64_t>();
    if (begin > end)
      fail_tensor(what_, name,
                  "data_offsets [" + std::to_string(begin) + ", " + std::to_string(end) +
                      "] end before they begin");
    if (end > data_.size())
      fail_tensor(what_, name,
                  "data_offsets [" + std::to_string(begin) + ", " + std::to_string(end) +
                      "] run past the " + std::to_string(data_.size()) + "-byte data section");
    if (end - begin != bytes)
      fail_tensor(what_, name,
                  "shape " + entry.shape_text() + " x " + row->name + " is " +
                      std::to_string(bytes) + " bytes but data_offsets span " +
                      std::to_string(end - begin));
    entry.begin = static_cast<std::size_t>(begin);
    entry.end = static_cast<std::size_t>(end);
    tensors_.push_back(std::move(entry));
  }

  // No two tensors may share bytes (zero-length tensors share nothing).
  std::vector<const TensorEntry*> by_offset;
  for (const TensorEntry& e : tensors_)
    if (e.end > e.begin) by_offset.push_back(&e);
  std::sort(by_offset.begin(), by_offset.end(), [](const TensorEntry* a, const TensorEntry* b) {
    return a->begin < b->begin || (a->begin == b->begin && a->end < b->end);
  });
  for (std::size_t i = 1; i < by_offset.size(); ++i)
    if (by_offset[i]->begin < by_offset[i - 1]->end)
      fail_tensor(what_, by_offset[i]->name,
                  "bytes overlap those of tensor '" + by_offset[i - 1]->name + "'");

  std::sort(tensors_.begin(), tensors_.end(),
            [](const TensorEntry& a, const TensorEntry& b) { return a.name < b.name; });
}

const TensorEntry* SafetensorsFile::find(std::string_view name) const {
  auto it = std::lower_bound(tensors_.begin(), tensors_.end(), name,
                             [](const TensorEntry& e, std::string_view n) { return e.name < n; });
  return it != tensors_.end() && it->name == name ? &*it : nullptr;
}

std::span<const std::uint8_t> SafetensorsFile::bytes(const TensorEntry& entry) const {
  return data_.subspan(entry.begin, entry.end - entry.begin);
}

Weight SafetensorsFile::read_f32(std::string_view name) const {
  const TensorEntry* entry = find(name);
  if (!entry) fail(what_, "no tensor named '" + std::string(name) + "'");
  return read_f32(*entry);
}

Weight SafetensorsFile::read_f32(const TensorEntry& entry) const {
  if (!dtype_is_float(entry.dtype))
    fail_tensor(what_, entry.name,
                std::string("dtype ") + dtype_name(entry.dtype) + " is not a float weight type");
  const std::span<const std::uint8_t> raw = bytes(entry);
  Weight weight;
  weight.name = entry.name;
  weight.shape = entry.shape;
  const std::size_t count = raw.size() / dtype_size(entry.dtype);
  weight.data.resize(count);
  if (count == 0) return weight;  // empty tensors: no bytes to convert (and a null data pointer)
  float* out = weight.data.data();
  const std::uint8_t* p = raw.data();
  switch (entry.dtype) {
    case Dtype::F32:
      std::memcpy(out, p, count * 4);
      break;
    case Dtype::F64:
      for (std::size_t i = 0; i < count; ++i) {
        double d;
        std::memcpy(&d, p + i * 8, 8);
        out[i] = static_cast<float>(d);
      }
      break;
    case Dtype::F16:
    case Dtype::BF16:
      for (std::size_t i = 0; i < count; ++i) {
        const std::uint16_t bits = static_cast<std::uint16_t>(p[2 * i] | (p[2 * i + 1] << 8));
        out[i] = entry.dtype == Dtype::F16 ? half_to_float(bits) : bfloat16_to_float(bits);
      }
      break;
    default:
      break;
  }
  for (std::size_t i = 0; i < count; ++i)
    if (!std::isfinite(out[i]))
      fail_tensor(what_, entry.name,
                  "holds a NaN or infinite value at element " + std::to_string(i));
  return weight;
}

void save_safetensors_f32(const std::string& path, const std::vector<NamedTensor>& tensors,
                          const std::map<std::string, std::string>& metadata) {
  nlohmann::json header = nlohmann::json::object();
  if (!metadata.empty()) header["__metadata__"] = metadata;
  std::size_t offset = 0;
  for (const NamedTensor& t : tensors) {
    std::size_t numel = 1;
    for (auto d : t.shape) numel *= static_cast<std::size_t>(d);
    DW_CHECK(numel == t.data.size(), "tensor '" + t.name + "': shape and data size differ");
    header[t.name] = {
        {"dtype", "F32"}, {"shape", t.shape}, {"data_offsets", {offset, offset + numel * 4}}};
    offset += numel * 4;
  }
  std::string text = header.dump();
  text.append((8 - text.size() % 8) % 8, ' ');  // the data section starts 8-byte aligned
  std::vector<std::uint8_t> bytes(8);
  for (int i = 0; i < 8; ++i) bytes[i] = static_cast<std::uint8_t>(text.size() >> (8 * i));
  bytes.insert(bytes.end(), text.begin(), text.end());
  for (const NamedTensor& t : tensors) {
    const auto* p = reinterpret_cast<const std::uint8_t*>(t.data.data());
    bytes.insert(bytes.end(), p, p + t.data.size() * 4);
  }
  write_file_atomic(path, bytes);
}

}  // namespace dw::vae
