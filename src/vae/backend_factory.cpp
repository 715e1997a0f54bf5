// make_backend: picks the CUDA backend where it was built and a device is present, else the CPU
// backend. Kept in its own target (dw_vae_backends) so dw_vae never depends on CUDA.
#include "core/error.h"
#include "vae/backend.h"

#if DW_HAVE_CUDA
#include "vae/cuda_backend.h"
#endif

namespace dw::vae {

std::unique_ptr<VaeBackend> make_backend(VaeBackendKind kind, std::shared_ptr<const VaeModel> model,
                                         const VaeConfig& config, PixelLocation frames) {
  if (!model) throw Error("make_backend: no model");
  (void)frames;  // only the CUDA backend can leave frames on the GPU
  switch (kind) {
    case VaeBackendKind::Cpu:
      return make_cpu_backend(std::move(model), config.cpu_threads);
    case VaeBackendKind::Cuda:
#if DW_HAVE_CUDA
      if (!cuda_device_available())
        throw Error("vae.backend = cuda, but no CUDA device is available");
      return make_cuda_backend(std::move(model), config, frames);
#else
      throw Error(
          "vae.backend = cuda, but this build has no CUDA backend (configure with the "
          "cuda preset where the CUDA toolkit and cuDNN are installed)");
#endif
    case VaeBackendKind::Auto:
      break;
  }
#if DW_HAVE_CUDA
  if (cuda_device_available()) return make_cuda_backend(std::move(model), config, frames);
#endif
  return make_cpu_backend(std::move(model), config.cpu_threads);
}

}  // namespace dw::vae
