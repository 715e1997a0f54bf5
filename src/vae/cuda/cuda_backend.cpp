// The CUDA/cuDNN backend: fp16 NHWC activations (fp32 accumulation), one explicit stream, plans
// compiled once per (graph, batch, h, w, precision) and cached; batched slerp on the GPU; frames
// written GPU-resident (frame_writer.h). A non-finite output in fp16 switches the model to fp32
// for good (nonfinite_guard.h says when that is found out).
#include "vae/cuda_backend.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <atomic>
#include <list>
#include <optional>

#include "core/error.h"
#include "kernels/vae/layout.h"
#include "kernels/vae/slerp.h"
#include "vae/cuda/cuda_plan.h"
#include "vae/cuda/cuda_vae.h"
#include "vae/cuda/frame_writer.h"
#include "vae/cuda/gpu_time_meter.h"
#include "vae/cuda/nonfinite_guard.h"
#include "vae/cuda/pinned_staging.h"

namespace dw::vae {
namespace cuda {
namespace {

enum class Half { Encoder, Decoder };
// When the host reads a run's non-finite check (NonfiniteGuard).
enum class CheckTiming { Now, NextRun };

class CudaBackend final : public CudaVaeBackend {
 public:
  CudaBackend(std::shared_ptr<const VaeModel> model, const CudaBackendOptions& options)
      : model_(std::move(model)), options_(options) {
    if (!model_ || !model_->decoder) throw Error("CUDA backend: the model has no decoder");
    if (!cuda_device_available()) throw Error("CUDA backend: no CUDA device is available");
    type_ = options_.fp16 ? DType::F16 : DType::F32;
    context_.emplace();
    guard_.emplace(stream());
    frames_.emplace(stream(), options_.frame_format);
    meter_.emplace(stream());
    staging_.emplace();
    upload_weights();
    plan_options_.exhaustive_search = options_.exhaustive_search;
    plan_options_.workspace_limit = options_.workspace_limit;
    plan_options_.cuda_graph = options_.cuda_graphs;
    plan_options_.fuse_upsample = options_.fuse_upsample;
  }

  ~CudaBackend() override {
    if (!context_) return;
    cudaStreamSynchronize(stream());  // never throws
    try {
      const BackendCounters c = counters();
      if (c.device_frames + c.host_frames > 0)
        spdlog::info(
            "vae cuda: {} frames on the GPU, {} copied to the host, {} previews, {} batches "
            "replaced; GPU time {:.1f} ms in all over {} finished batches",
            c.device_frames, c.host_frames, c.previews, c.replaced_batches, c.gpu_ms,
            c.gpu_batches);
    } catch (const std::exception&) {
      // a failing device at exit has been reported already
    }
  }

  std::string_view name() const override { return "cuda"; }
  const ModelInfo& info() const override { return model_->info; }
  bool can_encode() const override { return model_->encoder.has_value(); }
  DType precision() const override { return type_; }
  std::size_t plan_count() const override { return plans_.size(); }
  void synchronize() override { DW_CUDA_CHECK(cudaStreamSynchronize(stream())); }
  cudaStream_t stream() const override { return context_->stream(); }
  void shutdown() override { shut_down_.store(true); }

  BackendCounters counters() override {
    const FrameCounters& f = frames_->counters();
    return BackendCounters{f.device_frames,    f.host_frames,         f.previews,
                           f.replaced_batches, meter_->finished_ms(), meter_->finished_batches()};
  }

  HostTensor encode(const HostTensor& images) override {
    check_running();
    check_encodable(*model_, images);
    upload(images, input_);
    const bool signed_range = model_->info.image_range == ImageRange::MinusOneOne;
    Plan& plan =
        run_graph(Half::Encoder, input_.as<float>(), Shape{images.n, images.c, images.h, images.w},
                  signed_range ? 2.0f : 1.0f, signed_range ? -1.0f : 0.0f, CheckTiming::Now);
    return download(plan, 1.0f, 0.0f, false);
  }

  HostTensor decode(const HostTensor& latents) override {
    check_running();
    check_latent(latents);
    upload(latents, input_);
    Plan& plan =
        run_graph(Half::Decoder, input_.as<float>(),
                  Shape{latents.n, latents.c, latents.h, latents.w}, 1.0f, 0.0f, CheckTiming::Now);
    const auto [scale, shift] = image_transform();
    return download(plan, scale, shift, true);
  }

  HostTensor slerp(const HostTensor& a, const HostTensor& b, std::span<const float> t,
                   const SlerpOptions& options) override {
    check_running();
    slerp_on_device(a, b, t, options);
    HostTensor out(static_cast<int>(t.size()), a.c, a.h, a.w);
    if (t.empty()) return out;
    DW_CUDA_CHECK(cudaMemcpyAsync(out.data.data(), latents_.get(), out.size() * sizeof(float),
                                  cudaMemcpyDeviceToHost, stream()));
    synchronize();
    return out;
  }

  void interpolate_to_frames(const HostTensor& a, const HostTensor& b, std::span<const float> t,
                             const SlerpOptions& options, std::span<Frame* const> out) override {
    check_running();
    if (out.size() != t.size())
      throw Error("interpolate_to_frames: " + std::to_string(t.size()) + " values of t but " +
                  std::to_string(out.size()) + " frames");
    if (t.empty()) return;
    for (Frame* frame : out) DW_CHECK(frame != nullptr, "interpolate_to_frames: null frame");
    meter_->begin();
    slerp_on_device(a, b, t, options);
    const int factor = model_->info.downscale;
    // GPU-resident frames of a size that has a last good frame to stand in for a bad batch need
    // no host wait: the check is read at the next run.
    const bool defer = !options_.host_frames && frames_->can_replace(a.w * factor, a.h * factor);
    Plan& plan = run_graph(Half::Decoder, latents_.as<float>(),
                           Shape{static_cast<int>(t.size()), a.c, a.h, a.w}, 1.0f, 0.0f,
                           defer ? CheckTiming::NextRun : CheckTiming::Now);
    const DecodedImages images = decoded(plan);
    if (options_.host_frames) {
      frames_->write_host(images, out);
    } else {
      const FrameWriter::Check check = defer              ? FrameWriter::Check::Deferred
                                       : last_run_finite_ ? FrameWriter::Check::Good
                                                          : FrameWriter::Check::Bad;
      frames_->write_device(images, check, guard_->device_flag(), out);
    }
    meter_->end();
  }

  Image frame_preview(const Frame& frame, int max_side) override {
    check_running();
    if (frame.location == PixelLocation::Host) return VaeBackend::frame_preview(frame, max_side);
    return frames_->preview(frame, max_side);
  }

 private:
  void check_running() const {
    if (shut_down_.load()) throw Cancelled("the CUDA VAE backend is shut down");
  }

  void check_latent(const HostTensor& latent) const {
    if (latent.c != model_->info.latent_channels || latent.n <= 0 || latent.h <= 0 ||
        latent.w <= 0 || latent.data.size() != latent.size())
      throw Error("latent " + latent.shape_text() + " does not fit this VAE (" +
                  std::to_string(model_->info.latent_channels) + " latent channels)");
  }

  // Graph pixels -> [0, 1]: KL graphs produce [-1, 1].
  std::pair<float, float> image_transform() const {
    return model_->info.image_range == ImageRange::MinusOneOne ? std::pair{0.5f, 0.5f}
                                                               : std::pair{1.0f, 0.0f};
  }

  DecodedImages decoded(const Plan& plan) const {
    const auto [scale, shift] = image_transform();
    return DecodedImages{plan.output(), plan.type(), plan.output_shape(), scale, shift};
  }

  void upload_weights() {
    decoder_weights_ = DeviceWeights::upload(*model_->decoder, type_, options_.fuse_upsample);
    if (model_->encoder) encoder_weights_ = DeviceWeights::upload(*model_->encoder, type_);
  }

  void upload(const HostTensor& tensor, DeviceBuffer& buffer) {
    staging_->begin(PinnedStaging::room({tensor.size() * sizeof(float)}));
    stage(tensor.data.data(), tensor.size(), buffer);
  }
  void stage(const float* values, std::size_t count, DeviceBuffer& buffer) {
    buffer.reserve(count * sizeof(float));
    staging_->upload(buffer.get(), values, count * sizeof(float), stream());
  }

  void slerp_on_device(const HostTensor& a, const HostTensor& b, std::span<const float> t,
                       const SlerpOptions& options) {
    check_latent(a);
    check_latent(b);
    if (a.n != 1 || b.n != 1 || a.h != b.h || a.w != b.w)
      throw Error("slerp needs two latents of one shape [1, C, h, w], got " + a.shape_text() +
                  " and " + b.shape_text());
    if (t.empty()) return;
    const std::size_t bytes = a.size() * sizeof(float);
    staging_->begin(PinnedStaging::room({bytes, bytes, t.size() * sizeof(float)}));
    stage(a.data.data(), a.size(), slerp_a_);
    stage(b.data.data(), b.size(), slerp_b_);
    stage(t.data(), t.size(), slerp_t_);
    slerp_scratch_.reserve(ops::slerp_scratch_doubles(a.c, static_cast<int>(t.size())) *
                           sizeof(double));
    latents_.reserve(t.size() * a.size() * sizeof(float));
    ops::slerp(slerp_a_.as<float>(), slerp_b_.as<float>(), slerp_t_.as<float>(),
               static_cast<int>(t.size()), a.c, a.plane(), options.mean_center,
               options.lerp_threshold, slerp_scratch_.as<double>(), latents_.as<float>(), stream());
  }

  Plan& plan_for(Half half, int n, int h, int w) {
    const Graph& graph = half == Half::Decoder ? *model_->decoder : *model_->encoder;
    const DeviceWeights& weights = half == Half::Decoder ? decoder_weights_ : encoder_weights_;
    for (auto it = plans_.begin(); it != plans_.end(); ++it)
      if (it->half == half && it->n == n && it->h == h && it->w == w && it->plan->type() == type_) {
        plans_.splice(plans_.begin(), plans_, it);  // most recently used first
        return *plans_.front().plan;
      }
    while (!plans_.empty() && plans_.size() >= std::max<std::size_t>(1, options_.max_plans)) {
      synchronize();  // the plan's buffers may still be in use by enqueued work
      plans_.pop_back();
    }
    auto plan =
        std::make_unique<Plan>(graph, weights, n, h, w, *context_, algorithms_, plan_options_);
    spdlog::debug("vae cuda: plan for {} {}x{}x{} ({}) holds {:.1f} MiB",
                  half == Half::Decoder ? "decoder" : "encoder", n, h, w, dtype_name(type_),
                  plan->device_bytes() / 1048576.0);
    plans_.push_front(CachedPlan{half, n, h, w, std::move(plan)});
    return *plans_.front().plan;
  }

  // A graph input's dimensions (dense fp32 NCHW).
  struct Shape {
    int n, c, h, w;
  };

  // Converts `input` (dense fp32 NCHW on the device, v * scale + shift, of `shape`)
  // into the plan's input, runs it and checks the output for non-finite values. Read now, a bad
  // fp16 output switches the model to fp32 and runs again; read at the next run (GPU-resident
  // frames), it switches the model then, its frames having been replaced on the GPU.
  Plan& run_graph(Half half, const float* input, Shape shape, float scale, float shift,
                  CheckTiming timing) {
    settle_deferred_check();
    for (;;) {
      Plan& plan = plan_for(half, shape.n, shape.h, shape.w);
      ops::nchw_to_nhwc(plan.type(), input, plan.input(), shape.n, shape.c, plan.input_shape().cp,
                        static_cast<std::size_t>(shape.h) * shape.w, scale, shift, stream());
      plan.run(&shut_down_);
      guard_->check(plan.type(), plan.output(), plan.output_shape().elements());
      if (timing == CheckTiming::NextRun) {
        guard_->defer();
        deferred_half_ = half;
        return plan;
      }
      last_run_finite_ = !guard_->wait_result();
      if (last_run_finite_ || type_ == DType::F32) return plan;
      warn_nonfinite(half, "running it again in fp32");
      switch_to_fp32();
    }
  }

  void settle_deferred_check() {
    if (!guard_->take_deferred()) return;
    frames_->count_replaced_batch();
    if (type_ == DType::F32) return;  // nothing left to fall back to; the batch was replaced
    warn_nonfinite(deferred_half_, "its frames were replaced by the last good one");
    switch_to_fp32();
  }

  void warn_nonfinite(Half half, const char* action) const {
    spdlog::warn(
        "vae cuda: fp16 {} produced non-finite values ({}): {}; switching this model to "
        "fp32",
        half == Half::Decoder ? "decoder" : "encoder", model_->info.variant, action);
  }

  void switch_to_fp32() {
    synchronize();
    plans_.clear();
    type_ = DType::F32;
    upload_weights();
  }

  HostTensor download(Plan& plan, float scale, float shift, bool clamp01) {
    const Nhwc s = plan.output_shape();
    HostTensor out(s.n, plan.output_channels(), s.h, s.w);
    output_.reserve(out.size() * sizeof(float));
    ops::nhwc_to_nchw(plan.type(), plan.output(), output_.as<float>(), s.n, out.c, s.cp,
                      out.plane(), scale, shift, clamp01, stream());
    DW_CUDA_CHECK(cudaMemcpyAsync(out.data.data(), output_.get(), out.size() * sizeof(float),
                                  cudaMemcpyDeviceToHost, stream()));
    synchronize();
    return out;
  }

  struct CachedPlan {
    Half half;
    int n, h, w;
    std::unique_ptr<Plan> plan;
  };

  std::shared_ptr<const VaeModel> model_;
  CudaBackendOptions options_;
  PlanOptions plan_options_;
  std::atomic<bool> shut_down_{false};
  DType type_ = DType::F16;
  std::optional<GpuContext> context_;
  std::optional<NonfiniteGuard> guard_;
  std::optional<FrameWriter> frames_;
  std::optional<GpuTimeMeter> meter_;
  bool last_run_finite_ = true;  // the last check read at once
  Half deferred_half_ = Half::Decoder;
  DeviceWeights decoder_weights_, encoder_weights_;
  AlgorithmCache algorithms_;
  std::list<CachedPlan> plans_;
  // Staging, grown to the largest shape seen (steady state allocates nothing).
  std::optional<PinnedStaging> staging_;
  DeviceBuffer input_, output_, latents_, slerp_a_, slerp_b_, slerp_t_, slerp_scratch_;
};

}  // namespace

std::unique_ptr<CudaVaeBackend> make_cuda_vae_backend(std::shared_ptr<const VaeModel> model,
                                                      const CudaBackendOptions& options) {
  return std::make_unique<CudaBackend>(std::move(model), options);
}

}  // namespace cuda

std::unique_ptr<VaeBackend> make_cuda_backend(std::shared_ptr<const VaeModel> model,
                                              const VaeConfig& config, PixelLocation frames) {
  cuda::CudaBackendOptions options;
  options.fp16 = config.fp16;
  options.host_frames = frames == PixelLocation::Host;
  return cuda::make_cuda_vae_backend(std::move(model), options);
}

bool cuda_device_available() {
  int count = 0;
  const cudaError_t status = cudaGetDeviceCount(&count);
  if (status != cudaSuccess) {
    cudaGetLastError();  // clears an error that is not sticky (no driver: every call fails anyway)
    return false;
  }
  return count > 0;
}

}  // namespace dw::vae
