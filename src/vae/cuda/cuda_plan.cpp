// A plan's life: compiling (shapes, steps, buffers, convolutions), running (eager on the first
// run, so a failing step names itself; one captured CUDA graph from the second run on) and the
// per-step profile for the benchmark.
#include "vae/cuda/cuda_plan.h"

#include <spdlog/spdlog.h>

#include <algorithm>

#include "vae/cuda/cuda_check.h"
#include "vae/cuda/plan_internal.h"

namespace dw::vae::cuda {

Plan::Plan(const Graph& graph, const DeviceWeights& weights, int n, int h, int w,
           GpuContext& context, AlgorithmCache& algorithms, const PlanOptions& options)
    : graph_(graph), weights_(weights), context_(context) {
  attention_scratch_limit_ = options.attention_scratch_limit;
  use_graph_ = options.cuda_graph;
  fuse_upsample_ = options.fuse_upsample;
  infer_shapes(n, h, w);
  build_steps();
  assign_buffers();
  size_scratch();
  prepare_convolutions(algorithms, options);
}

Plan::~Plan() = default;

std::size_t Plan::device_bytes() const {
  std::size_t total = workspace_.bytes() + pad_scratch_.bytes() + norm_scratch_.bytes() +
                      scores_.bytes() + probabilities_.bytes() + phase_scratch_.bytes();
  for (const DeviceBuffer& b : buffers_) total += b.bytes();
  return total;
}

void Plan::run(const std::atomic<bool>* cancel) {
  // The first run is eager, so a failing step reports itself with its own call and line.
  if (use_graph_ && runs_ == 1 && !replay_.ready()) capture_graph();
  ++runs_;
  if (replay_.ready()) {
    if (cancel && cancel->load(std::memory_order_relaxed)) throw Cancelled("VAE run cancelled");
    replay_.launch(context_.stream());
    return;
  }
  run_steps(cancel);
}

// Captures run_steps into the replay graph. A capture cuDNN or cuBLAS refuses leaves the plan
// eager, with a log line; nothing captured has run, so nothing is lost.
void Plan::capture_graph() {
  use_graph_ = false;  // one attempt per plan
  const std::string failure = replay_.capture(context_.stream(), [this] { run_steps(nullptr); });
  if (!failure.empty())
    spdlog::warn("vae cuda: running this plan without a CUDA graph (capture failed: {})", failure);
}

void Plan::run_steps(const std::atomic<bool>* cancel) {
  for (const Step& step : steps_) {
    if (cancel && cancel->load(std::memory_order_relaxed)) throw Cancelled("VAE run cancelled");
    run_step(step);
  }
}

std::vector<StepTiming> Plan::profile(int repeats) {
  const cudaStream_t stream = context_.stream();
  std::vector<cudaEvent_t> events(steps_.size() + 1, nullptr);
  std::vector<StepTiming> out(steps_.size());
  try {
    for (auto& e : events) DW_CUDA_CHECK(cudaEventCreate(&e));
    for (int r = 0; r < std::max(repeats, 1); ++r) {
      DW_CUDA_CHECK(cudaEventRecord(events[0], stream));
      for (std::size_t i = 0; i < steps_.size(); ++i) {
        run_step(steps_[i]);
        DW_CUDA_CHECK(cudaEventRecord(events[i + 1], stream));
      }
      DW_CUDA_CHECK(cudaEventSynchronize(events.back()));
      for (std::size_t i = 0; i < steps_.size(); ++i) {
        float ms = 0;
        DW_CUDA_CHECK(cudaEventElapsedTime(&ms, events[i], events[i + 1]));
        out[i].ms = r == 0 ? ms : std::min(out[i].ms, static_cast<double>(ms));
      }
    }
  } catch (...) {
    for (auto& e : events)
      if (e) cudaEventDestroy(e);
    throw;
  }
  for (auto& e : events) cudaEventDestroy(e);
  for (std::size_t i = 0; i < steps_.size(); ++i) out[i].label = step_label(steps_[i]);
  return out;
}

// What the profile calls a step: its kind and input shape; for convolutions the cuDNN signature,
// algorithm and math type, and whether the epilogue was fused.
std::string Plan::step_label(const Step& step) const {
  static const char* kinds[] = {"conv",     "groupnorm", "unary", "add",
                                "upsample", "attention", "slice", "upsample+conv"};
  std::string label = kinds[static_cast<int>(step.kind)];
  if (step.kind == StepKind::Conv || step.kind == StepKind::UpsampleConv) {
    const ConvStep& c = *convs_[step.conv];
    return label + " " + c.signature + " algo " + std::to_string(c.algorithm.algorithm) + " math " +
           std::to_string(c.algorithm.math) + (c.explicit_pad ? " +pad" : "") +
           (c.fused ? " fused" : "");
  }
  const Nhwc in = shapes_[step.in[0]];
  label += " n" + std::to_string(in.n) + " " + std::to_string(in.h) + "x" + std::to_string(in.w) +
           "x" + std::to_string(in.cp);
  if (step.kind == StepKind::GroupNorm && step.silu) label += " +silu";
  return label;
}

}  // namespace dw::vae::cuda
