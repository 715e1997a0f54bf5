// A safetensors reader: the file is memory-mapped and its header validated before any tensor byte
// is touched. Every violation is a dw::InputError that names the file and, where there is one, the
// tensor; nothing here reads outside the mapping whatever the file holds.
//
// Layout: 8 bytes little-endian header length L, L bytes of JSON {name: {dtype, shape,
// data_offsets: [begin, end]}, "__metadata__": {string: string}}, then the data; offsets are
// relative to the start of the data.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "vae/tensor.h"

namespace dw::vae {

enum class Dtype : std::uint8_t {
  F64,
  F32,
  F16,
  BF16,
  I64,
  I32,
  I16,
  I8,
  U8,
  Bool,
  F8E4M3,
  F8E5M2
};

const char* dtype_name(Dtype dtype);
std::size_t dtype_size(Dtype dtype);
// Only these convert to fp32 weights; the others may sit in a checkpoint (int64 position ids of
// a text encoder) and are indexed but never read as weights.
bool dtype_is_float(Dtype dtype);

struct TensorEntry {
  std::string name;
  Dtype dtype = Dtype::F32;
  std::vector<std::int64_t> shape;
  std::size_t begin = 0, end = 0;  // byte range within the data section
  std::int64_t numel() const;
  std::string shape_text() const;  // "[64, 3, 3, 3]"
};

struct SafetensorsLimits {
  std::uint64_t max_header_bytes = 100u << 20;  // the format's own reference limit
  std::size_t max_rank = 8;
};

class SafetensorsFile {
 public:
  // Maps `path` read-only and validates its header. Throws dw::InputError.
  static SafetensorsFile open(const std::string& path, const SafetensorsLimits& limits = {});
  // Validates an in-memory file (the bytes are copied); `what` names it in errors.
  static SafetensorsFile from_bytes(std::span<const std::uint8_t> bytes, const std::string& what,
                                    const SafetensorsLimits& limits = {});

  const std::string& what() const { return what_; }
  // Sorted by name.
  const std::vector<TensorEntry>& tensors() const { return tensors_; }
  const std::map<std::string, std::string>& metadata() const { return metadata_; }
  const TensorEntry* find(std::string_view name) const;
  bool contains(std::string_view name) const { return find(name) != nullptr; }

  std::span<const std::uint8_t> bytes(const TensorEntry& entry) const;
  // The tensor converted to fp32. Throws dw::InputError for non-float dtypes or NaN/Inf values.
  Weight read_f32(const TensorEntry& entry) const;
  Weight read_f32(std::string_view name) const;

 private:
  struct Storage;
  SafetensorsFile(std::shared_ptr<const Storage> storage, std::string what,
                  const SafetensorsLimits& limits);

  std::shared_ptr<const Storage> storage_;
  std::string what_;
  std::vector<TensorEntry> tensors_;
  std::map<std::string, std::string> metadata_;
  std::span<const std::uint8_t> data_;  // the data section within storage_
};

// Writes fp32 tensors as a safetensors file (atomically). `data` must hold the product of
// `shape` values. Throws dw::Error on failure.
struct NamedTensor {
  std::string name;
  std::vector<std::int64_t> shape;
  std::span<const float> data;
};
void save_safetensors_f32(const std::string& path, const std::vector<NamedTensor>& tensors,
                          const std::map<std::string, std::string>& metadata = {});

// fp16 / bf16 bit patterns to fp32 (exact).
float half_to_float(std::uint16_t bits);
float bfloat16_to_float(std::uint16_t bits);

}  // namespace dw::vae
