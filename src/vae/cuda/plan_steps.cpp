// Compiling a graph into steps: value shapes, the fusions, buffers by liveness and the scratch
// sizes. Nothing here touches the GPU except the final allocations.
#include <algorithm>

#include "kernels/vae/group_norm.h"
#include "vae/cuda/cuda_check.h"
#include "vae/cuda/plan_internal.h"

namespace dw::vae::cuda {
namespace {

// Who reads what, for the fusion decisions: an op is fused into its producer only when it is the
// producer's next op and the producer's value has no other reader.
class Readers {
 public:
  explicit Readers(const Graph& graph) : graph_(graph), count_(graph.values.size(), 0) {
    for (const Op& op : graph.ops)
      for (int v : op.inputs)
        if (v >= 0) ++count_[v];
  }
  bool single(int value) const { return count_[value] == 1 && value != graph_.output; }
  // Whether op i exists, is of `kind` and reads `input` (as its first input; either, for Add).
  bool next_is(int i, OpKind kind, int input) const {
    if (i >= static_cast<int>(graph_.ops.size())) return false;
    const Op& op = graph_.ops[i];
    return op.kind == kind &&
           (op.inputs[0] == input || (kind == OpKind::Add && op.inputs[1] == input));
  }

 private:
  const Graph& graph_;
  std::vector<int> count_;
};

Unary unary_of(OpKind kind) {
  return kind == OpKind::SiLU ? Unary::SiLU : kind == OpKind::ReLU ? Unary::ReLU : Unary::TanhClamp;
}

}  // namespace

void Plan::infer_shapes(int n, int h, int w) {
  DW_CHECK(n > 0 && h > 0 && w > 0, "CUDA plan: empty input shape");
  // Every value's size must be a whole number of pixels, as on the CPU.
  for (const ValueInfo& v : graph_.values)
    if ((static_cast<long long>(h) * v.scale_num) % v.scale_den != 0 ||
        (static_cast<long long>(w) * v.scale_num) % v.scale_den != 0)
      throw Error("input size " + std::to_string(h) + "x" + std::to_string(w) +
                  " is not divisible by the model's downscale " + std::to_string(v.scale_den));
  shapes_.resize(graph_.values.size());
  shapes_[0] = Nhwc{n, h, w, padded_channels(graph_.values[0].channels)};
  for (const Op& op : graph_.ops) {
    Nhwc s = shapes_.at(op.inputs[0]);
    if (op.kind == OpKind::Conv2d) {
      s.h = (s.h + op.pad.top + op.pad.bottom - op.kernel) / op.stride + 1;
      s.w = (s.w + op.pad.left + op.pad.right - op.kernel) / op.stride + 1;
    } else if (op.kind == OpKind::Upsample2x) {
      s.h *= 2;
      s.w *= 2;
    }
    s.cp = padded_channels(graph_.values.at(op.output).channels);
    DW_CHECK(s.h > 0 && s.w > 0, "CUDA plan: " + op.name + " has an empty output");
    shapes_[op.output] = s;
  }
}

// The fusions: conv -> [add residual] -> [relu] into one convolution step; conv -> GroupNorm with
// the conv's bias added by the GroupNorm as it reads; GroupNorm -> SiLU into one GroupNorm. Each
// only when the fused value has no other reader.
void Plan::build_steps() {
  const Graph& g = graph_;
  const Readers readers(g);
  const int count = static_cast<int>(g.ops.size());
  for (int i = 0; i < count; ++i) {
    const Op& op = g.ops[i];
    Step s;
    s.op = i;
    s.out = op.output;
    std::copy(std::begin(op.inputs), std::end(op.inputs), s.in);
    switch (op.kind) {
      case OpKind::Conv2d:
        s.kind = StepKind::Conv;
        if (readers.single(s.out) && readers.next_is(i + 1, OpKind::Add, s.out)) {
          const Op& add = g.ops[i + 1];
          const int other = add.inputs[0] == s.out ? add.inputs[1] : add.inputs[0];
          if (other != s.out) {
            s.residual = other;
            s.out = add.output;
            ++i;
          }
        }
        if (readers.single(s.out) && readers.next_is(i + 1, OpKind::ReLU, s.out)) {
          s.relu = true;
          s.out = g.ops[++i].output;
        }
        s.bias_in_next = s.residual < 0 && !s.relu && op.bias >= 0 && readers.single(s.out) &&
                         readers.next_is(i + 1, OpKind::GroupNorm, s.out);
        break;
      case OpKind::GroupNorm:
        s.kind = StepKind::GroupNorm;
        if (!steps_.empty() && steps_.back().bias_in_next) s.bias_from = steps_.back().op;
        if (readers.single(s.out) && readers.next_is(i + 1, OpKind::SiLU, s.out)) {
          s.silu = true;
          s.out = g.ops[++i].output;
        }
        break;
      case OpKind::SiLU:
      case OpKind::ReLU:
      case OpKind::TanhClamp:
        s.kind = StepKind::Unary;
        s.unary = unary_of(op.kind);
        break;
      case OpKind::Add:
        s.kind = StepKind::Add;
        break;
      case OpKind::Upsample2x:
        s.kind = StepKind::Upsample;
        if (fuse_upsample_ && readers.single(s.out) &&
            readers.next_is(i + 1, OpKind::Conv2d, s.out) && weights_.phase_filter[i + 1].get()) {
          // The convolution's weights, bias and output; in[0] stays the upsample's input, so
          // the upsampled tensor never exists.
          s.kind = StepKind::UpsampleConv;
          s.op = ++i;
          s.out = g.ops[i].output;
        }
        break;
      case OpKind::Attention:
        s.kind = StepKind::Attention;
        DW_CHECK(g.values[op.inputs[0]].channels % 8 == 0,
                 "CUDA backend: attention width must be a multiple of 8 (" + op.name + ")");
        break;
      case OpKind::SliceChannels:
        s.kind = StepKind::Slice;
        break;
    }
    steps_.push_back(s);
  }
}

namespace {

// Buffers handed out by liveness: a value takes the smallest free buffer that fits (else the
// largest free one, which grows), and gives it back after its last reader.
class BufferPool {
 public:
  int take(std::size_t need) {
    int best = -1;
    for (int b = 0; b < static_cast<int>(bytes_.size()); ++b) {
      if (!free_[b]) continue;
      if (best < 0 || better(b, best, need)) best = b;
    }
    if (best < 0) {
      best = static_cast<int>(bytes_.size());
      bytes_.push_back(0);
      free_.push_back(false);
    }
    bytes_[best] = std::max(bytes_[best], need);
    free_[best] = false;
    return best;
  }
  void give_back(int buffer) { free_[buffer] = true; }
  const std::vector<std::size_t>& sizes() const { return bytes_; }

 private:
  bool better(int b, int best, std::size_t need) const {
    const bool fits = bytes_[b] >= need, best_fits = bytes_[best] >= need;
    if (fits) return !best_fits || bytes_[b] < bytes_[best];
    return !best_fits && bytes_[b] > bytes_[best];
  }
  std::vector<std::size_t> bytes_;
  std::vector<bool> free_;
};

}  // namespace

void Plan::assign_buffers() {
  const std::size_t elem = dtype_size(weights_.type);
  const int steps = static_cast<int>(steps_.size());
  std::vector<int> last_use(graph_.values.size(), -1);
  for (int s = 0; s < steps; ++s) {
    for (int v : steps_[s].in)
      if (v >= 0) last_use[v] = s;
    if (steps_[s].residual >= 0) last_use[steps_[s].residual] = s;
  }
  last_use[graph_.output] = steps;
  last_use[0] = steps;  // the input buffer is the plan's own, never reused

  auto bytes_of = [&](int v) { return shapes_[v].elements() * elem; };
  BufferPool pool;
  value_buffer_.assign(graph_.values.size(), -1);
  value_buffer_[0] = pool.take(bytes_of(0));
  for (int s = 0; s < steps; ++s) {
    const Step& step = steps_[s];
    // Elementwise steps write in place over an input that dies here.
    const bool elementwise = step.kind == StepKind::Unary || step.kind == StepKind::GroupNorm ||
                             step.kind == StepKind::Add;
    int reused = -1;
    for (int k = 0; elementwise && k < (step.kind == StepKind::Add ? 2 : 1) && reused < 0; ++k) {
      const int v = step.in[k];
      if (last_use[v] == s && v != 0 && bytes_of(v) == bytes_of(step.out)) reused = v;
    }
    value_buffer_[step.out] = reused >= 0 ? value_buffer_[reused] : pool.take(bytes_of(step.out));
    auto release = [&](int v) {
      if (v >= 0 && last_use[v] == s && v != reused && value_buffer_[v] >= 0 &&
          value_buffer_[v] != value_buffer_[step.out])
        pool.give_back(value_buffer_[v]);
    };
    for (int v : step.in) release(v);
    release(step.residual);
  }
  buffer_bytes_ = pool.sizes();
  for (std::size_t bytes : buffer_bytes_) buffers_.emplace_back(bytes);
}

// Scratch sized for the largest step that needs it; attention runs in chunks of batch items so
// that its score matrices stay under the configured limit.
void Plan::size_scratch() {
  const std::size_t elem = dtype_size(weights_.type);
  std::size_t norm_floats = 0, scores = 0, probabilities = 0, phases = 0;
  for (Step& step : steps_) {
    const Op& op = graph_.ops[step.op];
    if (step.kind == StepKind::UpsampleConv) {
      const Nhwc low = shapes_[step.in[0]];
      phases = std::max(
          phases, std::size_t(low.n) * (low.h + 1) * (low.w + 1) * 4 * shapes_[step.out].cp * elem);
    }
    if (step.kind == StepKind::GroupNorm)
      norm_floats = std::max(
          norm_floats, ops::group_norm_scratch_floats(
                           shapes_[step.in[0]], graph_.values[op.inputs[0]].channels, op.groups));
    if (step.kind == StepKind::Attention) {
      const Nhwc s = shapes_[step.in[0]];
      const std::size_t tokens = static_cast<std::size_t>(s.h) * s.w;
      const std::size_t per_item = tokens * tokens * (sizeof(float) + elem);
      step.attention_chunk = static_cast<int>(std::clamp<std::size_t>(
          attention_scratch_limit_ / std::max<std::size_t>(per_item, 1), 1, s.n));
      scores = std::max(scores, tokens * tokens * step.attention_chunk * sizeof(float));
      probabilities = std::max(probabilities, tokens * tokens * step.attention_chunk * elem);
    }
  }
  norm_scratch_ = DeviceBuffer(norm_floats * sizeof(float));
  scores_ = DeviceBuffer(scores);
  probabilities_ = DeviceBuffer(probabilities);
  phase_scratch_ = DeviceBuffer(phases);
}

}  // namespace dw::vae::cuda
