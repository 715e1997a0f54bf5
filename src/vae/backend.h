// The backend-neutral VAE interface: encode, decode and slerp over batches. The CPU backend and
// the CUDA backend implement it; the pipeline never knows which one runs.
#pragma once

#include <memory>
#include <span>
#include <string>
#include <string_view>

#include "core/config.h"
#include "core/frame.h"
#include "core/image.h"
#include "vae/model.h"
#include "vae/tensor.h"

namespace dw::vae {

struct SlerpOptions {
  bool mean_center = true;       // per-channel mean-centering around the slerp
  float lerp_threshold = 1e-4f;  // sin(omega) below this: linear interpolation instead
};

// t for in-between frame i of n (i = 1..n): i / (n + 1) through the easing curve.
float eased_t(int i, int n, Easing easing);

class VaeBackend {
 public:
  virtual ~VaeBackend() = default;
  virtual std::string_view name() const = 0;  // "cpu" or "cuda"
  virtual const ModelInfo& info() const = 0;
  // Whether encode can run at all (a decoder-only model cannot): callers take their pixel-space
  // fallback instead of an encode that throws every time.
  virtual bool can_encode() const { return true; }

  // images: [N, 3, H, W] in [0, 1], H and W multiples of 8 -> raw latents [N, C, H/8, W/8]
  // (the distribution mean for KL models; raw: no scaling factor applied).
  virtual HostTensor encode(const HostTensor& images) = 0;
  // raw latents [N, C, h, w] -> images [N, 3, 8h, 8w] in [0, 1].
  virtual HostTensor decode(const HostTensor& latents) = 0;
  // a, b: [1, C, h, w] -> [T, C, h, w], one latent per value of t, all in one pass.
  virtual HostTensor slerp(const HostTensor& a, const HostTensor& b, std::span<const float> t,
                           const SlerpOptions& options) = 0;

  // The pipeline's path: slerp a and b at every t, decode the batch, and write one frame per t
  // into `out` (host RGBA8 for the CPU backend; GPU-resident for CUDA, never copied to the host).
  // Frame::info is left to the caller.
  virtual void interpolate_to_frames(const HostTensor& a, const HostTensor& b,
                                     std::span<const float> t, const SlerpOptions& options,
                                     std::span<Frame* const> out) = 0;

  // A small host copy of a frame this backend wrote, for the cache: longer side at most
  // `max_side`, box filtered (shrink_to_fit in vae/pixels.h). A GPU-resident frame is shrunk on
  // the GPU, so only the small image crosses to the host. Call before the frame's slot is
  // published. The default handles host frames.
  virtual Image frame_preview(const Frame& frame, int max_side);

  // Shutdown: work in progress stops at its next step and every later call throws dw::Cancelled.
  // May be called from any thread (it takes no lock the worker holds).
  virtual void shutdown() {}
};

// The CPU backend (always available). threads = 0: all cores.
std::unique_ptr<VaeBackend> make_cpu_backend(std::shared_ptr<const VaeModel> model, int threads);

// auto: CUDA when it was built and a device is present, else CPU. Throws dw::Error when `cuda`
// is asked for and unavailable, naming why. `frames`: where interpolate_to_frames leaves the
// pixels when the backend can choose (the CUDA backend: Device only when the display can take GPU
// frames through CUDA-GL interop; the CPU backend always writes host frames).
std::unique_ptr<VaeBackend> make_backend(VaeBackendKind kind, std::shared_ptr<const VaeModel> model,
                                         const VaeConfig&,
                                         PixelLocation frames = PixelLocation::Host);

}  // namespace dw::vae
