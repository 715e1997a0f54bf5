// The non-finite guard of the fp16 path (kernels in nonfinite.cu): a check that raises a device
// flag when an output holds NaN or infinity, and a copy that runs or not by that flag, so that a
// frame built from a bad output is replaced on the GPU without the host waiting to read the flag.
// Each op checks its arguments, launches on `stream` and checks the launch.
#pragma once

#include <cuda_runtime_api.h>

#include <cstddef>

#include "kernels/vae/types.h"

namespace dw::vae::cuda::ops {

// *flag |= 1 when any of the `count` elements is NaN or infinite (count a multiple of 8; the flag
// is zeroed by the caller).
void find_nonfinite(DType type, const void* in, std::size_t count, unsigned* flag,
                    cudaStream_t stream);
// Copies `bytes` (a multiple of 4, both pointers 4-byte aligned) from src to dst when the flag's
// state on the device is `when_set` (flag != 0), and does nothing otherwise.
void copy_if_flag(const unsigned* flag, bool when_set, void* dst, const void* src,
                  std::size_t bytes, cudaStream_t stream);

}  // namespace dw::vae::cuda::ops
