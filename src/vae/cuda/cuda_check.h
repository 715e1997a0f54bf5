// Error macros for every CUDA runtime (core/cuda_error.h), cuDNN and cuBLAS call of the CUDA
// backend: a failing call throws dw::Error naming the call, its status and where it was made.
// Host code only.
#pragma once

#include <cublas_v2.h>
#include <cuda_runtime_api.h>
#include <cudnn.h>

#include "core/cuda_error.h"

#define DW_CUDNN_CHECK(call)                                                             \
  do {                                                                                   \
    const cudnnStatus_t dw_status_ = (call);                                             \
    if (dw_status_ != CUDNN_STATUS_SUCCESS)                                              \
      ::dw::throw_api_error("cuDNN", static_cast<long long>(dw_status_),                 \
                            cudnnGetErrorString(dw_status_), #call, __FILE__, __LINE__); \
  } while (0)

#define DW_CUBLAS_CHECK(call)                                                              \
  do {                                                                                     \
    const cublasStatus_t dw_status_ = (call);                                              \
    if (dw_status_ != CUBLAS_STATUS_SUCCESS)                                               \
      ::dw::throw_api_error("cuBLAS", static_cast<long long>(dw_status_),                  \
                            cublasGetStatusString(dw_status_), #call, __FILE__, __LINE__); \
  } while (0)
