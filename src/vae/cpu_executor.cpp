#include "vae/cpu_executor.h"

#include <algorithm>
#include <cstring>

#include "core/error.h"

namespace dw::vae {
namespace {

struct Slot {
  float* data = nullptr;
  cpu::Shape shape;
  int buffer = -1;  // -1: not owned (the graph input)
};

bool is_elementwise(OpKind kind) {
  return kind == OpKind::SiLU || kind == OpKind::ReLU || kind == OpKind::TanhClamp ||
         kind == OpKind::Add || kind == OpKind::GroupNorm;
}

}  // namespace

std::size_t CpuGraphRunner::pooled_bytes() const {
  std::size_t total = 0;
  for (const Buffer& b : buffers_) total += b.capacity * sizeof(float);
  return total;
}

void CpuGraphRunner::release_memory() {
  buffers_.clear();
  scratch_.per_worker.clear();
}

int CpuGraphRunner::acquire(std::size_t floats) {
  int best = -1;
  for (int i = 0; i < static_cast<int>(buffers_.size()); ++i) {
    const Buffer& b = buffers_[i];
    if (!b.in_use && b.capacity >= floats && (best < 0 || b.capacity < buffers_[best].capacity))
      best = i;
  }
  if (best < 0) {
    buffers_.push_back(Buffer{std::unique_ptr<float[]>(new float[std::max<std::size_t>(1, floats)]),
                              floats, false});
    best = static_cast<int>(buffers_.size()) - 1;
  }
  buffers_[best].in_use = true;
  return best;
}

HostTensor CpuGraphRunner::run(const Graph& graph, const HostTensor& input) {
  HostTensor output;
  run_into(graph, input, output);
  return output;
}

void CpuGraphRunner::run_into(const Graph& graph, const HostTensor& input, HostTensor& output) {
  if (input.c != graph.input_channels())
    throw Error("VAE graph takes " + std::to_string(graph.input_channels()) +
                "-channel input, got " + input.shape_text());
  if (input.n <= 0 || input.h <= 0 || input.w <= 0)
    throw Error("VAE graph input is empty: " + input.shape_text());
  if (input.data.size() != input.size() ||
      input.size() != static_cast<std::size_t>(input.n) * input.c * input.h * input.w)
    throw Error("VAE graph input data does not match its shape " + input.shape_text());
  // Every value's size must be a whole number of pixels: H * num / den exactly.
  std::size_t largest_item = 0;
  for (const ValueInfo& v : graph.values) {
    if ((static_cast<long long>(input.h) * v.scale_num) % v.scale_den != 0 ||
        (static_cast<long long>(input.w) * v.scale_num) % v.scale_den != 0)
      throw Error("input size " + std::to_string(input.h) + "x" + std::to_string(input.w) +
                  " is not divisible by the model's downscale " + std::to_string(v.scale_den));
    const std::size_t item = static_cast<std::size_t>(v.channels) *
                             (static_cast<std::size_t>(input.h) * v.scale_num / v.scale_den) *
                             (static_cast<std::size_t>(input.w) * v.scale_num / v.scale_den);
    largest_item = std::max(largest_item, item);
  }
  const ValueInfo& out_info = graph.values.at(graph.output);
  const int out_h =
      static_cast<int>(static_cast<long long>(input.h) * out_info.scale_num / out_info.scale_den);
  const int out_w =
      static_cast<int>(static_cast<long long>(input.w) * out_info.scale_num / out_info.scale_den);
  if (output.n != input.n || output.c != out_info.channels || output.h != out_h ||
      output.w != out_w || output.data.size() != output.size())
    output = HostTensor(input.n, out_info.channels, out_h, out_w);

  const std::size_t per_chunk =
      std::max<std::size_t>(1, max_value_bytes / std::max<std::size_t>(1, largest_item * 4));
  for (int first = 0; first < input.n; first += static_cast<int>(per_chunk)) {
    const int count = std::min(input.n - first, static_cast<int>(per_chunk));
    const cpu::Shape shape{count, input.c, input.h, input.w};
    run_chunk(graph, input.data.data() + first * input.item(), shape,
              output.data.data() + first * output.item());
  }
}

void CpuGraphRunner::run_chunk(const Graph& graph, const float* input, const cpu::Shape& shape,
                               float* output) {
  cpu::use_single_threaded_blas();
  const std::size_t value_count = graph.values.size();
  // Last op index that reads each value (the output is read "after" the last op).
  std::vector<int> last_use(value_count, -1);
  std::vector<int> readers(value_count, 0);
  for (int i = 0; i < static_cast<int>(graph.ops.size()); ++i)
    for (int v : graph.ops[i].inputs)
      if (v >= 0) {
        last_use[v] = i;
        ++readers[v];
      }
  last_use[graph.output] = static_cast<int>(graph.ops.size());

  std::vector<Slot> slots(value_count);
  slots[0] = Slot{const_cast<float*>(input), shape, -1};
  auto release = [&](int value) {
    Slot& s = slots[value];
    if (s.buffer >= 0) buffers_[s.buffer].in_use = false;
    s = Slot{};
  };
  // Every buffer a value still holds goes back to the pool however the run ends: an op that throws
  // (std::bad_alloc, Cancelled) left them marked in use for good, and each later run allocated
  // beside them.
  struct ReleaseAll {
    std::vector<Slot>& held;
    std::vector<Buffer>& pool;
    ~ReleaseAll() {
      for (Slot& s : held)
        if (s.buffer >= 0) pool[s.buffer].in_use = false;
    }
  } const release_all{slots, buffers_};
  // Whether value v may be overwritten by op i (it dies there and is not the graph input).
  auto dies_at = [&](int v, int i) { return last_use[v] == i && slots[v].buffer >= 0; };
  auto allocate = [&](int value, const cpu::Shape& s) {
    const int b = acquire(s.size());
    slots[value] = Slot{buffers_[b].data.get(), s, b};
  };

  std::vector<bool> skip(graph.ops.size(), false);
  for (int i = 0; i < static_cast<int>(graph.ops.size()); ++i) {
    if (skip[i]) continue;
    if (cancel && cancel->load(std::memory_order_relaxed)) throw Cancelled("VAE run cancelled");
    const Op& op = graph.ops[i];
    const Slot in = slots[op.inputs[0]];
    // Input pointers are taken before an input's buffer may be handed to the output.
    const float* in1 = op.inputs[1] >= 0 ? slots[op.inputs[1]].data : nullptr;
    const float* in2 = op.inputs[2] >= 0 ? slots[op.inputs[2]].data : nullptr;
    cpu::Shape out_shape = in.shape;
    switch (op.kind) {
      case OpKind::Conv2d:
        out_shape = cpu::conv_output_shape(op, in.shape);
        break;
      case OpKind::Upsample2x:
        out_shape.h *= 2;
        out_shape.w *= 2;
        break;
      case OpKind::SliceChannels:
        out_shape.c = graph.values[op.output].channels;
        break;
      default:
        break;
    }
    // Elementwise ops reuse a dying input's buffer; others get a fresh one.
    int output_value = op.output;
    bool fuse_silu = false;
    if (op.kind == OpKind::GroupNorm && i + 1 < static_cast<int>(graph.ops.size())) {
      const Op& next = graph.ops[i + 1];
      if (next.kind == OpKind::SiLU && next.inputs[0] == op.output && readers[op.output] == 1 &&
          op.output != graph.output) {
        fuse_silu = true;
        skip[i + 1] = true;
        output_value = next.output;
      }
    }
    if (is_elementwise(op.kind) && dies_at(op.inputs[0], i)) {
      slots[output_value] = in;
      slots[op.inputs[0]] = Slot{};  // ownership moves to the output
    } else if (op.kind == OpKind::Add && dies_at(op.inputs[1], i)) {
      slots[output_value] = slots[op.inputs[1]];
      slots[op.inputs[1]] = Slot{};
    } else {
      allocate(output_value, out_shape);
    }
    float* out = slots[output_value].data;
    const std::size_t count = out_shape.size();
    auto weight = [&](int index) {
      return index >= 0 ? graph.weights[index].data.data() : nullptr;
    };
    switch (op.kind) {
      case OpKind::Conv2d:
        cpu::conv2d(pool_, scratch_, op, weight(op.weight), weight(op.bias), in.data, in.shape,
                    out);
        break;
      case OpKind::GroupNorm:
        cpu::group_norm(pool_, op, weight(op.gamma), weight(op.beta), in.data, in.shape, out,
                        fuse_silu);
        break;
      case OpKind::SiLU:
        cpu::silu(pool_, in.data, out, count);
        break;
      case OpKind::ReLU:
        cpu::relu(pool_, in.data, out, count);
        break;
      case OpKind::TanhClamp:
        cpu::tanh_clamp(pool_, in.data, out, count);
        break;
      case OpKind::Upsample2x:
        cpu::upsample2x(pool_, in.data, in.shape, out);
        break;
      case OpKind::Add:
        cpu::add(pool_, in.data, in1, out, count);
        break;
      case OpKind::Attention:
        cpu::attention(pool_, scratch_, in.data, in1, in2, in.shape, out);
        break;
      case OpKind::SliceChannels:
        cpu::slice_channels(in.data, in.shape, op.begin, out_shape.c, out);
        break;
    }
    // Free inputs whose last reader this was (a moved-from slot is already empty).
    for (int v : op.inputs)
      if (v >= 0 && last_use[v] == i && slots[v].data) release(v);
    if (fuse_silu) last_use[op.output] = -1;
  }
  const Slot& result = slots[graph.output];
  std::memcpy(output, result.data, sizeof(float) * result.shape.size());
}

}  // namespace dw::vae
