// Host entry points of the CUDA backend's kernels (the kernels themselves live in the .cu files).
// Activations are NHWC with `cp` channels per pixel: the graph's channel count rounded up to a
// multiple of 8 (tensor-core friendly for cuDNN, 16-byte vector loads for the kernels here); the
// padding channels hold zeros and every kernel keeps them zero. Element type: fp16 or fp32.
// Every launcher checks its arguments, launches on `stream` and checks the launch.
#pragma once

#include <cuda_runtime_api.h>

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

enum class Unary : std::uint8_t { SiLU, ReLU, TanhClamp };

// ---- elementwise.cu ------------------------------------------------------------------------
// count: elements, a multiple of 8.
void launch_unary(DType type, Unary op, const void* in, void* out, std::size_t count,
                  cudaStream_t stream);
void launch_add(DType type, const void* a, const void* b, void* out, std::size_t count,
                cudaStream_t stream);
// After a convolution, in place: y = relu?(y + bias[c] + residual?). bias: fp32 [cp] or null;
// residual: same shape as y or null.
void launch_conv_epilogue(DType type, void* y, const float* bias, const void* residual,
                          std::size_t count, int cp, bool relu, cudaStream_t stream);
// [N, H, W, cp] -> [N, 2H, 2W, cp], nearest neighbour.
void launch_upsample2x(DType type, const void* in, void* out, Nhwc in_shape, cudaStream_t stream);
// [N, H, W, cp] -> [N, top + H + bottom, left + W + right, cp] with zeros around.
void launch_pad(DType type, const void* in, void* out, Nhwc in_shape, int top, int left, int bottom,
                int right, cudaStream_t stream);
// out[p, c] = in[p, begin + c] for c < channels, 0 for the padding channels up to out_cp.
void launch_slice_channels(DType type, const void* in, int in_cp, int begin, int channels,
                           void* out, int out_cp, std::size_t pixels, cudaStream_t stream);
// Dense fp32 NCHW [n, c, plane] -> NHWC [n, plane, cp] of `type`, v * scale + shift.
void launch_nchw_to_nhwc(DType type, const float* in, void* out, int n, int c, int cp,
                         std::size_t plane, float scale, float shift, cudaStream_t stream);
// NHWC [n, plane, cp] -> dense fp32 NCHW [n, c, plane], v * scale + shift, then (clamp01) clamped
// to [0, 1] with NaN -> 0, exactly as the CPU backend does.
void launch_nhwc_to_nchw(DType type, const void* in, float* out, int n, int c, int cp,
                         std::size_t plane, float scale, float shift, bool clamp01,
                         cudaStream_t stream);
// One image [h, w, cp] (first 3 channels) -> RGBA8 rows of `pitch` bytes: v * scale + shift,
// rounded like the CPU's unit_to_byte, alpha 255.
void launch_nhwc_to_rgba8(DType type, const void* in, int cp, int h, int w, float scale,
                          float shift, std::uint8_t* out, std::size_t pitch, cudaStream_t stream);
// One image [h, w, cp] -> fp16 planes [3, h, w] in [0, 1] (rows of `pitch` bytes).
void launch_nhwc_to_planar_f16(DType type, const void* in, int cp, int h, int w, float scale,
                               float shift, void* out, std::size_t pitch, cudaStream_t stream);
// *flag |= 1 when any of the `count` elements is NaN or infinite (flag zeroed by the caller).
void launch_find_nonfinite(DType type, const void* in, std::size_t count, unsigned* flag,
                           cudaStream_t stream);

// ---- group_norm.cu -------------------------------------------------------------------------
// Scratch for launch_group_norm, in floats.
std::size_t group_norm_scratch_floats(Nhwc shape, int channels, int groups);
// GroupNorm over the first `channels` of each pixel (statistics in fp32 partial sums combined in
// double), optionally followed by SiLU; padding channels written as 0. In place allowed.
// gamma, beta: fp32 [channels]. in_bias (fp32 [channels] or null) is added to the input first:
// the bias of a convolution whose only reader is this GroupNorm, saving that convolution's
// epilogue pass.
void launch_group_norm(DType type, const void* in, const float* in_bias, void* out, Nhwc shape,
                       int channels, int groups, float eps, const float* gamma, const float* beta,
                       bool silu, float* scratch, cudaStream_t stream);

// ---- attention.cu --------------------------------------------------------------------------
// Row-wise softmax of fp32 scores [rows, cols] into probabilities of `type` (fp32 arithmetic).
void launch_softmax_rows(const float* scores, DType type, void* probabilities, std::size_t rows,
                         int cols, cudaStream_t stream);

// ---- slerp.cu ------------------------------------------------------------------------------
std::size_t slerp_scratch_doubles(int channels, int count_t);
// a, b: fp32 [channels, plane]; t: fp32 [count_t] (device); out: fp32 [count_t, channels, plane].
// The math of slerp_host (src/vae/slerp.cpp), all t in one launch after one statistics pass.
void launch_slerp(const float* a, const float* b, const float* t, int count_t, int channels,
                  std::size_t plane, bool mean_center, float lerp_threshold, double* scratch,
                  float* out, cudaStream_t stream);

}  // namespace dw::vae::cuda
