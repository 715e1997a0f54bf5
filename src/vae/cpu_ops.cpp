#include "vae/cpu_ops.h"

#include <cblas.h>
#include <dlfcn.h>

#include <algorithm>
#include <cmath>
#include <cstring>

namespace dw::vae::cpu {
namespace {

// Elementwise work is split into fixed-size chunks (independent of the thread count).
constexpr std::size_t kChunk = 1 << 16;
// im2col scratch per task: large enough that the GEMM stays efficient, small enough for cache.
constexpr std::size_t kIm2colBudgetFloats = 1 << 21;
// ... but at least this many output columns per GEMM, so packing the weights stays cheap.
constexpr int kMinColumns = 512;
// Query rows per attention task.
constexpr int kAttentionRows = 128;

template <class F>
void for_chunks(ThreadPool& pool, std::size_t count, F&& f) {
  const std::size_t chunks = (count + kChunk - 1) / kChunk;
  pool.parallel_for(chunks, [&](std::size_t i, int) {
    const std::size_t begin = i * kChunk;
    f(begin, std::min(count, begin + kChunk));
  });
}

inline float sigmoid_times(float x) {
  return x / (1.0f + std::exp(-x));
}

}  // namespace

void Scratch::prepare(int workers) {
  if (per_worker.size() < static_cast<std::size_t>(workers)) per_worker.resize(workers);
}

float* Scratch::get(int worker, std::size_t floats) {
  // The outer vector is sized by prepare() before any task runs: resizing it here would race.
  std::vector<float>& buffer = per_worker.at(worker);
  if (buffer.size() < floats) buffer.resize(floats);
  return buffer.data();
}

void use_single_threaded_blas() {
  // Looked up at run time so that any CBLAS works; OpenBLAS's own threads would compete with the
  // pool's.
  using SetThreads = void (*)(int);
  static const auto set_threads =
      reinterpret_cast<SetThreads>(dlsym(RTLD_DEFAULT, "openblas_set_num_threads"));
  if (set_threads) set_threads(1);
}

Shape conv_output_shape(const Op& op, const Shape& in) {
  Shape out;
  out.n = in.n;
  out.c = op.out_channels;
  out.h = (in.h + op.pad.top + op.pad.bottom - op.kernel) / op.stride + 1;
  out.w = (in.w + op.pad.left + op.pad.right - op.kernel) / op.stride + 1;
  return out;
}

void conv2d(ThreadPool& pool, Scratch& scratch, const Op& op, const float* weight,
            const float* bias, const float* in, const Shape& in_shape, float* out) {
  const Shape out_shape = conv_output_shape(op, in_shape);
  const int k = op.kernel;
  const int channels = in_shape.c;
  const int kdim = channels * k * k;  // GEMM depth: weight [O, C*k*k]
  const std::size_t out_plane = out_shape.plane();
  const bool pointwise = k == 1 && op.stride == 1 && op.pad.top == 0 && op.pad.left == 0;
  // Output rows per task, from the im2col budget (at least one row).
  const int width = std::max(1, out_shape.w);
  const int budget_rows =
      static_cast<int>(kIm2colBudgetFloats / (static_cast<std::size_t>(kdim) * width));
  const int rows = std::clamp(std::max(budget_rows, (kMinColumns + width - 1) / width), 1,
                              std::max(1, out_shape.h));
  const int tiles = (out_shape.h + rows - 1) / rows;
  scratch.prepare(pool.size());
  pool.parallel_for(
      static_cast<std::size_t>(out_shape.n) * tiles, [&](std::size_t task, int worker) {
        const int n = static_cast<int>(task / tiles);
        const int row0 = static_cast<int>(task % tiles) * rows;
        const int row1 = std::min(out_shape.h, row0 + rows);
        const int cols = (row1 - row0) * out_shape.w;
        const float* x = in + n * in_shape.item();
        float* y = out + n * out_shape.item() + static_cast<std::size_t>(row0) * out_shape.w;
        const float* b_matrix;
        int ldb;
        if (pointwise) {
          b_matrix = x + static_cast<std::size_t>(row0) * in_shape.w;
          ldb = static_cast<int>(in_shape.plane());
        } else {
          // col: [C*k*k, cols]; row (c, ky, kx) holds input pixel (oy*s - top + ky, ox*s - left +
          // kx).
          float* col = scratch.get(worker, static_cast<std::size_t>(kdim) * cols);
          for (int c = 0; c < channels; ++c) {
            const float* plane = x + c * in_shape.plane();
            for (int ky = 0; ky < k; ++ky) {
              for (int kx = 0; kx < k; ++kx) {
                float* dst = col + static_cast<std::size_t>((c * k + ky) * k + kx) * cols;
                for (int oy = row0; oy < row1; ++oy) {
                  const int iy = oy * op.stride - op.pad.top + ky;
                  float* d = dst + static_cast<std::size_t>(oy - row0) * out_shape.w;
                  if (iy < 0 || iy >= in_shape.h) {
                    std::memset(d, 0, sizeof(float) * out_shape.w);
                    continue;
                  }
                  const float* src = plane + static_cast<std::size_t>(iy) * in_shape.w;
                  const int shift = kx - op.pad.left;
                  if (op.stride == 1) {
                    // ox + shift must lie in [0, W): copy the valid span, zero the edges.
                    const int lo = std::clamp(-shift, 0, out_shape.w);
                    const int hi = std::clamp(in_shape.w - shift, lo, out_shape.w);
                    std::fill(d, d + lo, 0.0f);
                    std::memcpy(d + lo, src + lo + shift, sizeof(float) * (hi - lo));
                    std::fill(d + hi, d + out_shape.w, 0.0f);
                  } else {
                    for (int ox = 0; ox < out_shape.w; ++ox) {
                      const int ix = ox * op.stride + shift;
                      d[ox] = ix >= 0 && ix < in_shape.w ? src[ix] : 0.0f;
                    }
                  }
                }
              }
            }
          }
          b_matrix = col;
          ldb = cols;
        }
        // y[O, cols] (row stride: the output plane) = W[O, C*k*k] x col[C*k*k, cols]
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, out_shape.c, cols, kdim, 1.0f,
                    weight, kdim, b_matrix, ldb, 0.0f, y, static_cast<int>(out_plane));
        if (bias) {
          for (int o = 0; o < out_shape.c; ++o) {
            float* yo = y + o * out_plane;
            const float b = bias[o];
            for (int i = 0; i < cols; ++i) yo[i] += b;
          }
        }
      });
}

void group_norm(ThreadPool& pool, const Op& op, const float* gamma, const float* beta,
                const float* in, const Shape& shape, float* out, bool then_silu) {
  const int groups = op.groups;
  const int per_group = shape.c / groups;
  const std::size_t plane = shape.plane();
  pool.parallel_for(static_cast<std::size_t>(shape.n) * groups, [&](std::size_t task, int) {
    const int n = static_cast<int>(task / groups);
    const int g = static_cast<int>(task % groups);
    const std::size_t offset = n * shape.item() + static_cast<std::size_t>(g) * per_group * plane;
    const float* x = in + offset;
    const std::size_t count = static_cast<std::size_t>(per_group) * plane;
    // Statistics in double, two passes: exact enough that fp32 rounding dominates.
    double sum = 0;
    for (std::size_t i = 0; i < count; ++i) sum += x[i];
    const double mean = sum / static_cast<double>(count);
    double squares = 0;
    for (std::size_t i = 0; i < count; ++i) {
      const double d = x[i] - mean;
      squares += d * d;
    }
    const double variance = squares / static_cast<double>(count);
    const float inv_std = static_cast<float>(1.0 / std::sqrt(variance + op.eps));
    const float mean_f = static_cast<float>(mean);
    float* y = out + offset;
    for (int c = 0; c < per_group; ++c) {
      const int channel = g * per_group + c;
      const float scale = gamma[channel] * inv_std;
      const float shift = beta[channel] - mean_f * scale;
      const float* xc = x + c * plane;
      float* yc = y + c * plane;
      if (then_silu) {
        for (std::size_t i = 0; i < plane; ++i) yc[i] = sigmoid_times(xc[i] * scale + shift);
      } else {
        for (std::size_t i = 0; i < plane; ++i) yc[i] = xc[i] * scale + shift;
      }
    }
  });
}

void silu(ThreadPool& pool, const float* in, float* out, std::size_t count) {
  for_chunks(pool, count, [&](std::size_t b, std::size_t e) {
    for (std::size_t i = b; i < e; ++i) out[i] = sigmoid_times(in[i]);
  });
}

void relu(ThreadPool& pool, const float* in, float* out, std::size_t count) {
  for_chunks(pool, count, [&](std::size_t b, std::size_t e) {
    for (std::size_t i = b; i < e; ++i) out[i] = std::max(in[i], 0.0f);
  });
}

void tanh_clamp(ThreadPool& pool, const float* in, float* out, std::size_t count) {
  for_chunks(pool, count, [&](std::size_t b, std::size_t e) {
    for (std::size_t i = b; i < e; ++i) out[i] = std::tanh(in[i] / 3.0f) * 3.0f;
  });
}

void add(ThreadPool& pool, const float* a, const float* b, float* out, std::size_t count) {
  for_chunks(pool, count, [&](std::size_t begin, std::size_t end) {
    for (std::size_t i = begin; i < end; ++i) out[i] = a[i] + b[i];
  });
}

void upsample2x(ThreadPool& pool, const float* in, const Shape& in_shape, float* out) {
  const std::size_t planes = static_cast<std::size_t>(in_shape.n) * in_shape.c;
  const int w = in_shape.w, h = in_shape.h;
  pool.parallel_for(planes, [&](std::size_t p, int) {
    const float* src = in + p * in_shape.plane();
    float* dst = out + p * in_shape.plane() * 4;
    for (int y = 0; y < h; ++y) {
      float* row = dst + static_cast<std::size_t>(2 * y) * 2 * w;
      const float* s = src + static_cast<std::size_t>(y) * w;
      for (int x = 0; x < w; ++x) row[2 * x] = row[2 * x + 1] = s[x];
      std::memcpy(row + 2 * w, row, sizeof(float) * 2 * w);
    }
  });
}

void attention(ThreadPool& pool, Scratch& scratch, const float* q, const float* k, const float* v,
               const Shape& shape, float* out) {
  const int tokens = static_cast<int>(shape.plane());
  const int channels = shape.c;
  const float scale = 1.0f / std::sqrt(static_cast<float>(channels));
  const int blocks = (tokens + kAttentionRows - 1) / kAttentionRows;
  scratch.prepare(pool.size());
  pool.parallel_for(static_cast<std::size_t>(shape.n) * blocks, [&](std::size_t task, int worker) {
    const int n = static_cast<int>(task / blocks);
    const int row0 = static_cast<int>(task % blocks) * kAttentionRows;
    const int rows = std::min(kAttentionRows, tokens - row0);
    const std::size_t item = shape.item();
    const float* qn = q + n * item;  // [C, T]
    const float* kn = k + n * item;
    const float* vn = v + n * item;
    float* on = out + n * item;
    float* scores = scratch.get(worker, static_cast<std::size_t>(rows) * tokens);  // [rows, T]
    // scores = scale * Q[:, rows]^T K
    cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, rows, tokens, channels, scale, qn + row0,
                tokens, kn, tokens, 0.0f, scores, tokens);
    for (int r = 0; r < rows; ++r) {
      float* s = scores + static_cast<std::size_t>(r) * tokens;
      const float peak = *std::max_element(s, s + tokens);
      double total = 0;
      for (int j = 0; j < tokens; ++j) {
        s[j] = std::exp(s[j] - peak);
        total += s[j];
      }
      const float inv = static_cast<float>(1.0 / total);
      for (int j = 0; j < tokens; ++j) s[j] *= inv;
    }
    // out[:, rows] = V[C, T] x scores^T[T, rows]
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, channels, rows, tokens, 1.0f, vn, tokens,
                scores, tokens, 0.0f, on + row0, tokens);
  });
}

void slice_channels(const float* in, const Shape& in_shape, int begin, int channels, float* out) {
  const std::size_t count = static_cast<std::size_t>(channels) * in_shape.plane();
  for (int n = 0; n < in_shape.n; ++n)
    std::memcpy(out + n * count, in + n * in_shape.item() + begin * in_shape.plane(),
                sizeof(float) * count);
}

}  // namespace dw::vae::cpu
