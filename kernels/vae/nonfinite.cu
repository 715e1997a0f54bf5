// The non-finite check and the flag-conditional copy. kernel (a grid-stride body) -> launcher
// (typed, on a stream) -> op (checks).
#include <cstdint>

#include "kernels/common/device_math.cuh"
#include "kernels/common/launch.cuh"
#include "kernels/vae/dispatch.cuh"
#include "kernels/vae/nonfinite.h"

namespace dw::vae::cuda {
namespace {

using kernels::launch_grid_stride;
using kernels::load8;

template <typename T>
void find_nonfinite_launch(const T* in, std::size_t vectors, unsigned* flag, cudaStream_t stream) {
  launch_grid_stride(vectors, stream, [=] __device__(std::size_t i) {
    float v[8];
    load8(in + i * 8, v);
    bool bad = false;
#pragma unroll
    for (int j = 0; j < 8; ++j) bad |= !isfinite(v[j]);
    // A bad output is usually bad everywhere: read before the atomic so millions of them do not
    // queue on one word.
    if (bad && *static_cast<volatile unsigned*>(flag) == 0) atomicOr(flag, 1u);
  });
}

void copy_if_flag_launch(const unsigned* flag, bool when_set, std::uint32_t* dst,
                         const std::uint32_t* src, std::size_t words, cudaStream_t stream) {
  launch_grid_stride(words, stream, [=] __device__(std::size_t i) {
    if ((*flag != 0) == when_set) dst[i] = src[i];
  });
}

}  // namespace

namespace ops {

void find_nonfinite(DType type, const void* in, std::size_t count, unsigned* flag,
                    cudaStream_t stream) {
  DW_CHECK(count % 8 == 0, "ops::find_nonfinite: element count is not a multiple of 8");
  DW_CHECK(flag && (count == 0 || in), "ops::find_nonfinite: null tensor or flag");
  dispatch(type, [&](auto tag) {
    using T = typename decltype(tag)::type;
    find_nonfinite_launch<T>(static_cast<const T*>(in), count / 8, flag, stream);
  });
}

void copy_if_flag(const unsigned* flag, bool when_set, void* dst, const void* src,
                  std::size_t bytes, cudaStream_t stream) {
  DW_CHECK(flag && (bytes == 0 || (dst && src)), "ops::copy_if_flag: null pointer");
  DW_CHECK(bytes % 4 == 0 && reinterpret_cast<std::uintptr_t>(dst) % 4 == 0 &&
               reinterpret_cast<std::uintptr_t>(src) % 4 == 0,
           "ops::copy_if_flag: size and addresses must be whole 4-byte words");
  copy_if_flag_launch(flag, when_set, static_cast<std::uint32_t*>(dst),
                      static_cast<const std::uint32_t*>(src), bytes / 4, stream);
}

}  // namespace ops
}  // namespace dw::vae::cuda
