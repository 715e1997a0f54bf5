// The CPU backend: fp32, batched, multithreaded through one ThreadPool, convolutions through
// BLAS. Always available; the reference the CUDA backend is checked against.
#include <algorithm>
#include <atomic>
#include <mutex>

#include "core/error.h"
#include "vae/backend.h"
#include "vae/cpu_executor.h"
#include "vae/pixels.h"
#include "vae/slerp.h"
#include "vae/thread_pool.h"

namespace dw::vae {
namespace {

class CpuBackend final : public VaeBackend {
 public:
  static constexpr int kDecodeChunk = 2;  // frames per decoder run in interpolate_to_frames

  CpuBackend(std::shared_ptr<const VaeModel> model, int threads)
      : model_(std::move(model)), pool_(threads), runner_(pool_) {
    if (!model_ || !model_->decoder) throw Error("CPU backend: the model has no decoder");
    runner_.cancel = &shut_down_;
  }

  void shutdown() override { shut_down_.store(true); }

  std::string_view name() const override { return "cpu"; }
  const ModelInfo& info() const override { return model_->info; }
  bool can_encode() const override { return model_->encoder.has_value(); }

  HostTensor encode(const HostTensor& images) override {
    check_encodable(*model_, images);
    const HostTensor* input = &images;
    if (model_->info.image_range == ImageRange::MinusOneOne) {
      scaled_ = images;
      for (float& v : scaled_.data) v = v * 2.0f - 1.0f;
      input = &scaled_;
    }
    return runner_.run(*model_->encoder, *input);
  }

  HostTensor decode(const HostTensor& latents) override {
    HostTensor images;
    decode_into(latents, images);
    return images;
  }

  HostTensor slerp(const HostTensor& a, const HostTensor& b, std::span<const float> t,
                   const SlerpOptions& options) override {
    check_latent(a);
    check_latent(b);
    return slerp_host(a, b, t, options);
  }

  void interpolate_to_frames(const HostTensor& a, const HostTensor& b, std::span<const float> t,
                             const SlerpOptions& options, std::span<Frame* const> out) override {
    if (out.size() != t.size())
      throw Error("interpolate_to_frames: " + std::to_string(t.size()) + " values of t but " +
                  std::to_string(out.size()) + " frames");
    if (t.empty()) return;
    check_latent(a);
    check_latent(b);
    latents_ = slerp_host(a, b, t, options);
    // Decoded a few at a time: the full-resolution activations of a whole pair (11 frames of 64
    // channels at 512x512 is ~3 GB for a TAE) would dwarf the gain of larger BLAS calls.
    const int n = latents_.n;
    for (int first = 0; first < n; first += kDecodeChunk) {
      const int count = std::min(kDecodeChunk, n - first);
      chunk_ = HostTensor(count, latents_.c, latents_.h, latents_.w);
      std::copy_n(latents_.at(first, 0), chunk_.size(), chunk_.data.begin());
      decode_into(chunk_, images_);
      for (int i = 0; i < count; ++i) tensor_to_frame(images_, i, *out[first + i]);
    }
  }

 private:
  void check_latent(const HostTensor& latent) const {
    if (latent.c != model_->info.latent_channels || latent.n <= 0 || latent.h <= 0 ||
        latent.w <= 0 || latent.data.size() != latent.size())
      throw Error("latent " + latent.shape_text() + " does not fit this VAE (" +
                  std::to_string(model_->info.latent_channels) + " latent channels)");
  }

  void decode_into(const HostTensor& latents, HostTensor& images) {
    check_latent(latents);
    runner_.run_into(*model_->decoder, latents, images);
    const bool signed_range = model_->info.image_range == ImageRange::MinusOneOne;
    for (float& v : images.data) {
      if (signed_range) v = (v + 1.0f) * 0.5f;
      v = v > 0.0f ? (v < 1.0f ? v : 1.0f) : 0.0f;  // NaN becomes 0
    }
  }

  std::shared_ptr<const VaeModel> model_;
  ThreadPool pool_;
  CpuGraphRunner runner_;
  std::atomic<bool> shut_down_{false};
  HostTensor scaled_, latents_, chunk_, images_;  // reused between calls
};

}  // namespace

std::unique_ptr<VaeBackend> make_cpu_backend(std::shared_ptr<const VaeModel> model, int threads) {
  return std::make_unique<CpuBackend>(std::move(model), threads);
}

}  // namespace dw::vae
