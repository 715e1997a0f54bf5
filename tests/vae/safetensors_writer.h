// Test helper: writes safetensors files (well-formed or deliberately broken) so that the reader's
// checks and the model detection can be exercised without shipping many binary files.
#pragma once

#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "core/files.h"
#include "vae/safetensors.h"

namespace dw::vae::test {

struct TensorSpec {
  std::string name;
  std::string dtype = "F32";
  std::vector<std::int64_t> shape;
  std::vector<std::uint8_t> bytes;  // raw little-endian data
};

inline std::vector<std::uint8_t> f32_bytes(const std::vector<float>& values) {
  std::vector<std::uint8_t> out(values.size() * 4);
  std::memcpy(out.data(), values.data(), out.size());
  return out;
}

// A tensor of `shape` filled with a deterministic ramp (never zero, so a mix-up of tensors shows).
inline TensorSpec f32_tensor(std::string name, std::vector<std::int64_t> shape,
                             float scale = 1e-3f) {
  std::size_t n = 1;
  for (auto d : shape) n *= static_cast<std::size_t>(d);
  std::vector<float> v(n);
  for (std::size_t i = 0; i < n; ++i) v[i] = scale * static_cast<float>((i * 37) % 101 + 1);
  return TensorSpec{std::move(name), "F32", std::move(shape), f32_bytes(v)};
}

inline std::string json_escape(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out;
}

// Header JSON with offsets laid out back to back.
inline std::string header_json(const std::vector<TensorSpec>& tensors) {
  std::string json = "{";
  std::size_t offset = 0;
  for (std::size_t i = 0; i < tensors.size(); ++i) {
    const TensorSpec& t = tensors[i];
    json +=
        (i ? ",\"" : "\"") + json_escape(t.name) + "\":{\"dtype\":\"" + t.dtype + "\",\"shape\":[";
    for (std::size_t k = 0; k < t.shape.size(); ++k)
      json += (k ? "," : "") + std::to_string(t.shape[k]);
    json += "],\"data_offsets\":[" + std::to_string(offset) + "," +
            std::to_string(offset + t.bytes.size()) + "]}";
    offset += t.bytes.size();
  }
  return json + "}";
}

// A whole file from a header text and a data section.
inline std::vector<std::uint8_t> assemble(const std::string& header,
                                          const std::vector<std::uint8_t>& data) {
  std::vector<std::uint8_t> out(8);
  const std::uint64_t n = header.size();
  for (int i = 0; i < 8; ++i) out[i] = static_cast<std::uint8_t>(n >> (8 * i));
  out.insert(out.end(), header.begin(), header.end());
  out.insert(out.end(), data.begin(), data.end());
  return out;
}

inline std::vector<std::uint8_t> make_safetensors(const std::vector<TensorSpec>& tensors) {
  std::vector<std::uint8_t> data;
  for (const TensorSpec& t : tensors) data.insert(data.end(), t.bytes.begin(), t.bytes.end());
  return assemble(header_json(tensors), data);
}

inline void write_safetensors(const std::string& path, const std::vector<TensorSpec>& tensors) {
  write_file_atomic(path, make_safetensors(tensors));
}

// Every tensor of an existing file, renamed by `rename` (return "" to drop one).
template <class Rename>
std::vector<TensorSpec> copy_tensors(const SafetensorsFile& file, Rename rename) {
  std::vector<TensorSpec> out;
  for (const TensorEntry& e : file.tensors()) {
    std::string name = rename(e.name);
    if (name.empty()) continue;
    const auto bytes = file.bytes(e);
    out.push_back(TensorSpec{name, dtype_name(e.dtype), e.shape,
                             std::vector<std::uint8_t>(bytes.begin(), bytes.end())});
  }
  return out;
}

}  // namespace dw::vae::test
