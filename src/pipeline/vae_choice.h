// Which VAE weights the pipeline loads. `vae.decoder` names a file, or "none" (pixel-space
// crossfades), or is empty: then the bundled taef2 (assets/models, MIT) when the stream fits it:
// keyframes from the offline or folder source (encoded here, any latent space works), or a
// ComfyUI workflow for FLUX.2 (its saved latents are in taef2's space). Other ComfyUI workflows
// (SD1.x, SDXL) get no default: their latents need the checkpoint's own VAE.
#pragma once

#include <string>

#include "core/config.h"

namespace dw::pipeline {

struct VaeChoice {
  std::string decoder;  // empty: no VAE
  std::string encoder;
  std::string why;  // one line for the log and the status
};

// The bundled weights' place relative to a data root (see core/paths.h).
inline constexpr const char* kBundledDecoder = "assets/models/taef2_decoder.safetensors";
inline constexpr const char* kBundledEncoder = "assets/models/taef2_encoder.safetensors";

// True for a workflow name or path that says FLUX.2 ("flux2", "flux.2", "flux_2"; any case).
bool is_flux2_workflow(const std::string& workflow);
VaeChoice choose_vae(const Config& config);

}  // namespace dw::pipeline
