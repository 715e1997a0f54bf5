// The CUDA runtime's error macros, for every area that calls CUDA (the VAE backend, the display's
// CUDA-GL interop): a failing call throws dw::Error naming the call, its status, file and line.
// Host code only; include only where CUDA is built.
#pragma once

#include <cuda_runtime_api.h>

#include "core/error.h"

#define DW_CUDA_CHECK(call)                                                             \
  do {                                                                                  \
    const cudaError_t dw_status_ = (call);                                              \
    if (dw_status_ != cudaSuccess)                                                      \
      ::dw::throw_api_error("CUDA", static_cast<long long>(dw_status_),                 \
                            cudaGetErrorString(dw_status_), #call, __FILE__, __LINE__); \
  } while (0)

// After a kernel launch: launch-configuration errors surface here, not at the next sync.
#define DW_CUDA_CHECK_LAUNCH() DW_CUDA_CHECK(cudaGetLastError())
