// The CUDA/cuDNN backend: fp16 NHWC activations (fp32 accumulation), one explicit stream, plans
// compiled once per (graph, batch, h, w, precision) and cached; batched slerp on the GPU; frames
// written GPU-resident. A non-finite output in fp16 switches the model to fp32 for good.
#include "vae/cuda_backend.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <atomic>
#include <list>
#include <optional>

#include "core/error.h"
#include "vae/cuda/cuda_plan.h"
#include "vae/cuda/cuda_vae.h"

namespace dw::vae {
namespace cuda {
namespace {

// A GPU-resident frame's pixels and the event recorded after they were written, freed together
// when the last Frame holding them lets go.
struct FrameStorage {
  void* pixels = nullptr;
  cudaEvent_t ready = nullptr;
  ~FrameStorage() {
    if (ready) cudaEventDestroy(ready);
    if (pixels) cudaFree(pixels);
  }
};

// Pinned host word the non-finite check lands in.
class PinnedFlag {
 public:
  PinnedFlag() {
    DW_CUDA_CHECK(
        cudaHostAlloc(reinterpret_cast<void**>(&value_), sizeof(unsigned), cudaHostAllocDefault));
  }
  ~PinnedFlag() {
    if (value_) cudaFreeHost(value_);
  }
  PinnedFlag(const PinnedFlag&) = delete;
  PinnedFlag& operator=(const PinnedFlag&) = delete;
  unsigned* get() const { return value_; }

 private:
  unsigned* value_ = nullptr;
};

enum class Half { Encoder, Decoder };

class CudaBackend final : public CudaVaeBackend {
 public:
  CudaBackend(std::shared_ptr<const VaeModel> model, const CudaBackendOptions& options)
      : model_(std::move(model)), options_(options) {
    if (!model_ || !model_->decoder) throw Error("CUDA backend: the model has no decoder");
    if (!cuda_device_available()) throw Error("CUDA backend: no CUDA device is available");
    type_ = options_.fp16 ? DType::F16 : DType::F32;
    context_.emplace();
    flag_.emplace();
    flag_device_ = DeviceBuffer(sizeof(unsigned));
    upload_weights();
    plan_options_.exhaustive_search = options_.exhaustive_search;
    plan_options_.workspace_limit = options_.workspace_limit;
    plan_options_.cuda_graph = options_.cuda_graphs;
  }

  ~CudaBackend() override {
    if (context_) cudaStreamSynchronize(context_->stream());  // never throws
  }

  std::string_view name() const override { return "cuda"; }
  const ModelInfo& info() const override { return model_->info; }
  DType precision() const override { return type_; }
  std::size_t plan_count() const override { return plans_.size(); }
  void synchronize() override { DW_CUDA_CHECK(cudaStreamSynchronize(stream())); }
  void shutdown() override { shut_down_.store(true); }

  HostTensor encode(const HostTensor& images) override {
    check_running();
    check_encodable(*model_, images);
    upload(images, input_);
    const bool signed_range = model_->info.image_range == ImageRange::MinusOneOne;
    Plan& plan = run_graph(Half::Encoder, input_.as<float>(), images.n, images.c, images.h,
                           images.w, signed_range ? 2.0f : 1.0f, signed_range ? -1.0f : 0.0f);
    return download(plan, 1.0f, 0.0f, false);
  }

  HostTensor decode(const HostTensor& latents) override {
    check_running();
    check_latent(latents);
    upload(latents, input_);
    Plan& plan = run_graph(Half::Decoder, input_.as<float>(), latents.n, latents.c, latents.h,
                           latents.w, 1.0f, 0.0f);
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
    slerp_on_device(a, b, t, options);
    Plan& plan = run_graph(Half::Decoder, latents_.as<float>(), static_cast<int>(t.size()), a.c,
                           a.h, a.w, 1.0f, 0.0f);
    const Nhwc shape = plan.output_shape();
    const auto [scale, shift] = image_transform();
    const std::size_t item_bytes = shape.elements() / shape.n * dtype_size(plan.type());
    if (options_.host_frames) {
      write_host_frames(plan, out);
      return;
    }
    const bool rgba = options_.frame_format == DevicePixelFormat::Rgba8;
    const std::size_t pitch = static_cast<std::size_t>(shape.w) * (rgba ? 4 : 2);
    const std::size_t bytes = pitch * shape.h * (rgba ? 1 : 3);
    for (std::size_t i = 0; i < out.size(); ++i) {
      Frame& frame = *out[i];
      ensure_device_storage(frame, bytes);
      const char* image = static_cast<const char*>(plan.output()) + i * item_bytes;
      if (rgba)
        launch_nhwc_to_rgba8(plan.type(), image, shape.cp, shape.h, shape.w, scale, shift,
                             static_cast<std::uint8_t*>(frame.device.memory.get()), pitch,
                             stream());
      else
        launch_nhwc_to_planar_f16(plan.type(), image, shape.cp, shape.h, shape.w, scale, shift,
                                  frame.device.memory.get(), pitch, stream());
      DW_CUDA_CHECK(cudaEventRecord(static_cast<cudaEvent_t>(frame.device.ready_event), stream()));
      frame.width = shape.w;
      frame.height = shape.h;
      frame.location = PixelLocation::Device;
      frame.device.format = options_.frame_format;
      frame.device.pitch_bytes = pitch;
    }
  }

 private:
  cudaStream_t stream() const { return context_->stream(); }

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

  void upload_weights() {
    decoder_weights_ = DeviceWeights::upload(*model_->decoder, type_);
    if (model_->encoder) encoder_weights_ = DeviceWeights::upload(*model_->encoder, type_);
  }

  void upload(const HostTensor& tensor, DeviceBuffer& buffer) {
    buffer.reserve(tensor.size() * sizeof(float));
    DW_CUDA_CHECK(cudaMemcpyAsync(buffer.get(), tensor.data.data(), tensor.size() * sizeof(float),
                                  cudaMemcpyHostToDevice, stream()));
  }

  void slerp_on_device(const HostTensor& a, const HostTensor& b, std::span<const float> t,
                       const SlerpOptions& options) {
    check_latent(a);
    check_latent(b);
    if (a.n != 1 || b.n != 1 || a.h != b.h || a.w != b.w)
      throw Error("slerp needs two latents of one shape [1, C, h, w], got " + a.shape_text() +
                  " and " + b.shape_text());
    if (t.empty()) return;
    upload(a, slerp_a_);
    upload(b, slerp_b_);
    slerp_t_.reserve(t.size() * sizeof(float));
    DW_CUDA_CHECK(cudaMemcpyAsync(slerp_t_.get(), t.data(), t.size() * sizeof(float),
                                  cudaMemcpyHostToDevice, stream()));
    slerp_scratch_.reserve(slerp_scratch_doubles(a.c, static_cast<int>(t.size())) * sizeof(double));
    latents_.reserve(t.size() * a.size() * sizeof(float));
    launch_slerp(slerp_a_.as<float>(), slerp_b_.as<float>(), slerp_t_.as<float>(),
                 static_cast<int>(t.size()), a.c, a.plane(), options.mean_center,
                 options.lerp_threshold, slerp_scratch_.as<double>(), latents_.as<float>(),
                 stream());
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

  // Converts `input` (dense fp32 NCHW on the device, v * scale + shift) into the plan's input,
  // runs it and checks the output for non-finite values; in fp16 such an output switches the
  // model to fp32 and runs again.
  Plan& run_graph(Half half, const float* input, int n, int c, int h, int w, float scale,
                  float shift) {
    for (;;) {
      Plan& plan = plan_for(half, n, h, w);
      const Nhwc in = plan.input_shape();
      launch_nchw_to_nhwc(plan.type(), input, plan.input(), n, c, in.cp,
                          static_cast<std::size_t>(h) * w, scale, shift, stream());
      plan.run(&shut_down_);
      DW_CUDA_CHECK(cudaMemsetAsync(flag_device_.get(), 0, sizeof(unsigned), stream()));
      launch_find_nonfinite(plan.type(), plan.output(), plan.output_shape().elements(),
                            flag_device_.as<unsigned>(), stream());
      DW_CUDA_CHECK(cudaMemcpyAsync(flag_->get(), flag_device_.get(), sizeof(unsigned),
                                    cudaMemcpyDeviceToHost, stream()));
      synchronize();
      if (*flag_->get() == 0 || type_ == DType::F32) return plan;
      spdlog::warn(
          "vae cuda: fp16 {} produced non-finite values ({}): switching this model to fp32",
          half == Half::Decoder ? "decoder" : "encoder", model_->info.variant);
      switch_to_fp32();
    }
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
    launch_nhwc_to_nchw(plan.type(), plan.output(), output_.as<float>(), s.n, out.c, s.cp,
                        out.plane(), scale, shift, clamp01, stream());
    DW_CUDA_CHECK(cudaMemcpyAsync(out.data.data(), output_.get(), out.size() * sizeof(float),
                                  cudaMemcpyDeviceToHost, stream()));
    synchronize();
    return out;
  }

  void write_host_frames(Plan& plan, std::span<Frame* const> out) {
    const Nhwc shape = plan.output_shape();
    const auto [scale, shift] = image_transform();
    const std::size_t item_bytes = shape.elements() / shape.n * dtype_size(plan.type());
    const std::size_t pitch = static_cast<std::size_t>(shape.w) * 4;
    output_.reserve(pitch * shape.h * out.size());
    for (std::size_t i = 0; i < out.size(); ++i) {
      Frame& frame = *out[i];
      frame.resize_host(shape.w, shape.h);
      std::uint8_t* staging = output_.as<std::uint8_t>() + i * pitch * shape.h;
      launch_nhwc_to_rgba8(plan.type(), static_cast<const char*>(plan.output()) + i * item_bytes,
                           shape.cp, shape.h, shape.w, scale, shift, staging, pitch, stream());
      DW_CUDA_CHECK(cudaMemcpyAsync(frame.host_rgba.data(), staging, pitch * shape.h,
                                    cudaMemcpyDeviceToHost, stream()));
    }
    synchronize();
  }

  // Reuses the frame's GPU memory when it is big enough (slots are reused); new storage and its
  // event are made only for a slot's first GPU frame or a larger size.
  static void ensure_device_storage(Frame& frame, std::size_t bytes) {
    DeviceImage& d = frame.device;
    if (d.memory && d.ready_event && d.capacity_bytes >= bytes) return;
    auto storage = std::make_shared<FrameStorage>();
    DW_CUDA_CHECK(cudaMalloc(&storage->pixels, bytes));
    DW_CUDA_CHECK(cudaEventCreateWithFlags(&storage->ready, cudaEventDisableTiming));
    d.memory = std::shared_ptr<void>(storage, storage->pixels);
    d.capacity_bytes = bytes;
    d.ready_event = storage->ready;
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
  DeviceWeights decoder_weights_, encoder_weights_;
  AlgorithmCache algorithms_;
  std::list<CachedPlan> plans_;
  // Staging, grown to the largest shape seen (steady state allocates nothing).
  DeviceBuffer input_, output_, latents_, slerp_a_, slerp_b_, slerp_t_, slerp_scratch_;
  DeviceBuffer flag_device_;
  std::optional<PinnedFlag> flag_;
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
    cudaGetLastError();  // clear the sticky-free error so later calls start clean
    return false;
  }
  return count > 0;
}

}  // namespace dw::vae
