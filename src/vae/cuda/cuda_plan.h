// A graph compiled for one input shape (batch, h, w) and one precision: the fused step list, the
// activation buffers (assigned by liveness, allocated once), the cuDNN descriptors with their
// chosen algorithms, and the scratch every step needs. Running a plan enqueues its kernels on the
// context's stream and allocates nothing.
// The plan's code, by responsibility: cuda_plan.cpp (shapes, running, graph replay, profile),
// plan_steps.cpp (fusion into steps, buffers by liveness), plan_convolutions.cpp (cuDNN
// descriptors and algorithm choice), plan_run.cpp (one step's launches).
#pragma once

#include <atomic>
#include <cstddef>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "kernels/vae/types.h"
#include "vae/cuda/cuda_graph.h"
#include "vae/cuda/device_buffer.h"
#include "vae/cuda/gpu_context.h"
#include "vae/graph.h"

namespace dw::vae::cuda {

struct ConvAlgorithm {
  int algorithm = 0;  // cudnnConvolutionFwdAlgo_t
  int math = 0;       // cudnnMathType_t
  std::size_t workspace = 0;
};
// Chosen algorithms by convolution signature, shared by all plans of a backend.
using AlgorithmCache = std::map<std::string, ConvAlgorithm>;

struct PlanOptions {
  bool exhaustive_search = false;  // cudnnFindConvolutionForwardAlgorithmEx instead of heuristics
  std::size_t workspace_limit = std::size_t(512) << 20;
  std::size_t attention_scratch_limit = std::size_t(2) << 30;
  // From the second run on, replay the steps as one captured CUDA graph (launch overhead matters
  // for small models and batches). Cancellation is then checked per run, not per step.
  bool cuda_graph = true;
  // Bias, residual add and ReLU inside cuDNN's convolution where it can (else a separate pass).
  bool fused_epilogue = true;
  // Experimental, off until a GPU run has proven it (docs/benchmarks.md): a x2 upsample whose
  // only reader is a 3x3 convolution is fused into it by sub-pixel decomposition: one cuDNN 2x2
  // convolution of the low-resolution input into four phases (2.25x fewer multiply-adds, no
  // upsampled tensor) and one interleaving pass that adds the bias. Needs the weights' phase
  // filters (DeviceWeights::upload with phase_filters).
  bool fuse_upsample = false;
};

// One step's time in Plan::profile (the best of its repeats) and what it was.
struct StepTiming {
  std::string label;  // kind, shape; for convolutions the cuDNN signature, algorithm and math
  double ms = 0;
};

class Plan {
 public:
  Plan(const Graph& graph, const DeviceWeights& weights, int n, int h, int w, GpuContext& context,
       AlgorithmCache& algorithms, const PlanOptions& options);
  ~Plan();
  Plan(const Plan&) = delete;
  Plan& operator=(const Plan&) = delete;

  DType type() const { return weights_.type; }
  // The graph input: fill it (NHWC, padded channels zero) before run().
  void* input() const { return buffers_[value_buffer_[0]].get(); }
  Nhwc input_shape() const { return shapes_[0]; }
  // The graph output after run(): NHWC with output_shape().cp channels, output_channels() used.
  void* output() const { return buffers_[value_buffer_[graph_.output]].get(); }
  Nhwc output_shape() const { return shapes_[graph_.output]; }
  int output_channels() const { return graph_.output_channels(); }
  std::size_t device_bytes() const;

  // Enqueues every step; between steps a set `cancel` stops with dw::Cancelled.
  void run(const std::atomic<bool>* cancel);
  bool replays_graph() const { return replay_.ready(); }
  // Runs the steps eagerly `repeats` times with an event around each; for benchmarks.
  std::vector<StepTiming> profile(int repeats);

  // The step records (plan_internal.h: shared by the plan's source files only).
  struct ConvStep;
  struct Step;

 private:
  // plan_steps.cpp
  void infer_shapes(int n, int h, int w);
  void build_steps();
  void assign_buffers();
  void size_scratch();
  // plan_convolutions.cpp
  void prepare_convolutions(AlgorithmCache& algorithms, const PlanOptions& options);
  std::unique_ptr<ConvStep> describe_convolution(const Step& step);
  void choose_algorithm(ConvStep& conv, const Step& step, AlgorithmCache& algorithms,
                        const PlanOptions& options);
  bool use_algorithm(ConvStep& conv, int algorithm, int math, std::size_t workspace_limit);
  bool trial_run(const ConvStep& conv, const Step& step);
  bool try_fused(ConvStep& conv, const Step& step);
  // cuda_plan.cpp
  void run_steps(const std::atomic<bool>* cancel);
  void capture_graph();
  std::string step_label(const Step& step) const;
  // plan_run.cpp
  void run_step(const Step& step);
  void run_conv(const Step& step);
  void run_attention(const Step& step);
  void* data(int value) const { return buffers_[value_buffer_[value]].get(); }
  // What a convolution step reads as its filter and writes as its output (the phase filter and
  // the phase scratch for a fused upsample).
  const void* filter_of(const Step& step) const;
  void* conv_output(const Step& step) const;

  const Graph& graph_;
  const DeviceWeights& weights_;
  GpuContext& context_;
  std::vector<Nhwc> shapes_;  // per value
  std::vector<Step> steps_;
  std::vector<std::unique_ptr<ConvStep>> convs_;
  std::vector<int> value_buffer_;  // per value: index into buffers_
  std::vector<std::size_t> buffer_bytes_;
  std::vector<DeviceBuffer> buffers_;
  DeviceBuffer workspace_, pad_scratch_, norm_scratch_, scores_, probabilities_, phase_scratch_;
  DeviceBuffer trial_input_, trial_workspace_;  // only while the plan is built
  bool use_graph_ = false;
  bool fuse_upsample_ = false;
  int runs_ = 0;
  CudaGraph replay_;  // the steps as one CUDA graph, from the second run on
  std::size_t attention_scratch_limit_ = 0;
};

}  // namespace dw::vae::cuda
