// The element types and activation shapes every VAE kernel family and the CUDA plan share.
// Activations are NHWC with `cp` channels per pixel: the graph's channel count rounded up to a
// multiple of 8 (tensor-core friendly for cuDNN, 16-byte vector loads for the kernels); the
// padding channels hold zeros and every kernel keeps them zero. Host header: no device code.
#pragma once

#include <cstddef>
#include <cstdint>

namespace dw::vae::cuda {

enum class DType : std::uint8_t { F16, F32 };
inline std::size_t dtype_size(DType type) {
  return type == DType::F16 ? 2 : 4;
}
inline const char* dtype_name(DType type) {
  return type == DType::F16 ? "fp16" : "fp32";
}
inline int padded_channels(int channels) {
  return (channels + 7) / 8 * 8;
}

// An NHWC activation's shape (cp: channels in memory, a multiple of 8).
struct Nhwc {
  int n = 0, h = 0, w = 0, cp = 0;
  std::size_t pixels() const { return static_cast<std::size_t>(n) * h * w; }
  std::size_t elements() const { return pixels() * cp; }
};

}  // namespace dw::vae::cuda
