// The CUDA/cuDNN backend's entry points. Declared here so that the backend factory can call them;
// defined by the dw_vae_cuda target, which exists only when CUDA is built (DW_HAVE_CUDA).
#pragma once

#include <memory>

#include "core/config.h"
#include "vae/backend.h"

namespace dw::vae {

// frames: Device writes GPU-resident frames (the display's CUDA-GL path), Host copies each frame
// to host memory (displays without interop, tools).
std::unique_ptr<VaeBackend> make_cuda_backend(std::shared_ptr<const VaeModel> model,
                                              const VaeConfig& config,
                                              PixelLocation frames = PixelLocation::Host);
// True when the CUDA runtime sees at least one usable device.
bool cuda_device_available();

}  // namespace dw::vae
