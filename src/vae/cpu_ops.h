// The CPU backend's kernels, one per graph op, over dense fp32 NCHW arrays. Work is split into
// tasks whose outputs do not overlap and whose arithmetic order does not depend on the split, so
// results are bit-identical whatever the thread count.
#pragma once

#include <cstddef>
#include <vector>

#include "vae/graph.h"
#include "vae/thread_pool.h"

namespace dw::vae::cpu {

struct Shape {
  int n = 0, c = 0, h = 0, w = 0;
  std::size_t plane() const { return static_cast<std::size_t>(h) * w; }
  std::size_t item() const { return plane() * c; }
  std::size_t size() const { return item() * n; }
};

// Scratch memory per worker, grown on demand and kept between calls.
struct Scratch {
  std::vector<std::vector<float>> per_worker;
  // Call before a parallel region: makes room for `workers` workers.
  void prepare(int workers);
  // Worker `worker`'s buffer of at least `floats` (only that worker may call this).
  float* get(int worker, std::size_t floats);
};

Shape conv_output_shape(const Op& op, const Shape& in);

// out: [N, O, OH, OW]; weight [O, I, k, k]; bias [O] or null.
void conv2d(ThreadPool& pool, Scratch& scratch, const Op& op, const float* weight,
            const float* bias, const float* in, const Shape& in_shape, float* out);
// In place allowed (out == in). `then_silu` applies SiLU to the normalised output.
void group_norm(ThreadPool& pool, const Op& op, const float* gamma, const float* beta,
                const float* in, const Shape& shape, float* out, bool then_silu);
void silu(ThreadPool& pool, const float* in, float* out, std::size_t count);
void relu(ThreadPool& pool, const float* in, float* out, std::size_t count);
void tanh_clamp(ThreadPool& pool, const float* in, float* out, std::size_t count);
void add(ThreadPool& pool, const float* a, const float* b, float* out, std::size_t count);
void upsample2x(ThreadPool& pool, const float* in, const Shape& in_shape, float* out);
// q, k, v, out: [N, C, H, W]; out must not alias q, k or v.
void attention(ThreadPool& pool, Scratch& scratch, const float* q, const float* k, const float* v,
               const Shape& shape, float* out);
void slice_channels(const float* in, const Shape& in_shape, int begin, int channels, float* out);

// Makes OpenBLAS single-threaded (the pool does the threading). Safe to call repeatedly.
void use_single_threaded_blas();

}  // namespace dw::vae::cpu
