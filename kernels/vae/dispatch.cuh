// The element-type switch of every VAE op entry point: DType -> the C++ type its launcher is
// instantiated for. Included by .cu files only.
#pragma once

#include <cuda_fp16.h>

#include "kernels/vae/types.h"

namespace dw::vae::cuda {

template <typename T>
struct TypeTag {
  using type = T;
};

// Calls f(TypeTag<T>{}) with T = __half or float. f is an ordinary generic lambda that calls a
// named launcher template (device lambdas live in the launchers, where nvcc allows them).
template <typename F>
void dispatch(DType type, F&& f) {
  if (type == DType::F16)
    f(TypeTag<__half>{});
  else
    f(TypeTag<float>{});
}

}  // namespace dw::vae::cuda
