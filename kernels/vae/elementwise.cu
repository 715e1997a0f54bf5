// Elementwise kernels over 8-element vectors: activations, residual adds, the convolution
// epilogue. kernel (a grid-stride body) -> launcher (typed, on a stream) -> op (checks).
#include "kernels/common/device_math.cuh"
#include "kernels/common/launch.cuh"
#include "kernels/vae/dispatch.cuh"
#include "kernels/vae/elementwise.h"

namespace dw::vae::cuda {
namespace {

using kernels::launch_grid_stride;
using kernels::load8;
using kernels::store8;

__device__ __forceinline__ float apply_unary(Unary op, float x) {
  switch (op) {
    case Unary::SiLU:
      return x / (1.0f + expf(-x));
    case Unary::ReLU:
      return fmaxf(x, 0.0f);
    case Unary::TanhClamp:
      return tanhf(x / 3.0f) * 3.0f;
  }
  return x;
}

template <typename T>
void unary_launch(Unary op, const T* in, T* out, std::size_t vectors, cudaStream_t stream) {
  launch_grid_stride(vectors, stream, [=] __device__(std::size_t i) {
    float x[8];
    load8(in + i * 8, x);
#pragma unroll
    for (int j = 0; j < 8; ++j) x[j] = apply_unary(op, x[j]);
    store8(out + i * 8, x);
  });
}

template <typename T>
void add_launch(const T* a, const T* b, T* out, std::size_t vectors, cudaStream_t stream) {
  launch_grid_stride(vectors, stream, [=] __device__(std::size_t i) {
    float x[8], y[8];
    load8(a + i * 8, x);
    load8(b + i * 8, y);
#pragma unroll
    for (int j = 0; j < 8; ++j) x[j] += y[j];
    store8(out + i * 8, x);
  });
}

template <typename T>
void conv_epilogue_launch(T* y, const float* bias, const T* residual, std::size_t vectors, int cp,
                          bool relu, cudaStream_t stream) {
  launch_grid_stride(vectors, stream, [=] __device__(std::size_t i) {
    float x[8];
    load8(y + i * 8, x);
    if (bias) {
      const int c0 = static_cast<int>((i * 8) % cp);
#pragma unroll
      for (int j = 0; j < 8; ++j) x[j] += bias[c0 + j];
    }
    if (residual) {
      float r[8];
      load8(residual + i * 8, r);
#pragma unroll
      for (int j = 0; j < 8; ++j) x[j] += r[j];
    }
    if (relu) {
#pragma unroll
      for (int j = 0; j < 8; ++j) x[j] = fmaxf(x[j], 0.0f);
    }
    store8(y + i * 8, x);
  });
}

void check_vectors(std::size_t count, const char* what) {
  DW_CHECK(count % 8 == 0, std::string(what) + ": element count is not a multiple of 8");
}

}  // namespace

namespace ops {

void unary(DType type, Unary op, const void* in, void* out, std::size_t count,
           cudaStream_t stream) {
  check_vectors(count, "ops::unary");
  DW_CHECK(count == 0 || (in && out), "ops::unary: null tensor");
  dispatch(type, [&](auto tag) {
    using T = typename decltype(tag)::type;
    unary_launch<T>(op, static_cast<const T*>(in), static_cast<T*>(out), count / 8, stream);
  });
}

void add(DType type, const void* a, const void* b, void* out, std::size_t count,
         cudaStream_t stream) {
  check_vectors(count, "ops::add");
  DW_CHECK(count == 0 || (a && b && out), "ops::add: null tensor");
  dispatch(type, [&](auto tag) {
    using T = typename decltype(tag)::type;
    add_launch<T>(static_cast<const T*>(a), static_cast<const T*>(b), static_cast<T*>(out),
                  count / 8, stream);
  });
}

void conv_epilogue(DType type, void* y, const float* bias, const void* residual, std::size_t count,
                   int cp, bool relu, cudaStream_t stream) {
  check_vectors(count, "ops::conv_epilogue");
  DW_CHECK(cp % 8 == 0 && cp > 0, "ops::conv_epilogue: channels not a multiple of 8");
  DW_CHECK(count % cp == 0, "ops::conv_epilogue: element count is not whole pixels");
  if (!bias && !residual && !relu) return;
  dispatch(type, [&](auto tag) {
    using T = typename decltype(tag)::type;
    conv_epilogue_launch<T>(static_cast<T*>(y), bias, static_cast<const T*>(residual), count / 8,
                            cp, relu, stream);
  });
}

}  // namespace ops
}  // namespace dw::vae::cuda
