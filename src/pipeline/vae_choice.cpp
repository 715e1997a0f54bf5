#include "pipeline/vae_choice.h"

#include <algorithm>
#include <cctype>

#include "core/paths.h"

namespace dw::pipeline {

bool is_flux2_workflow(const std::string& workflow) {
  std::string w;
  for (const char c : workflow)
    if (std::isalnum(static_cast<unsigned char>(c)))
      w.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
  return w.find("flux2") != std::string::npos;
}

VaeChoice choose_vae(const Config& config) {
  const VaeConfig& v = config.vae;
  if (v.decoder_path == "none") return {"", "", "vae.decoder = none: pixel-space crossfades"};
  if (!v.decoder_path.empty())
    return {resolve_input_path(v.decoder_path), resolve_input_path(v.encoder_path),
            "vae.decoder = " + v.decoder_path};
  const bool comfy = config.source.kind == SourceKind::Comfy ||
                     (config.source.kind == SourceKind::Auto && !config.comfy.urls.empty());
  if (comfy && !is_flux2_workflow(config.comfy.workflow))
    return {"", "",
            "no vae.decoder for workflow '" + config.comfy.workflow +
                "' (the bundled taef2 fits FLUX.2 only): pixel-space crossfades; set vae.decoder "
                "to the checkpoint's VAE"};
  const auto decoder = find_data_path(kBundledDecoder);
  const auto encoder = find_data_path(kBundledEncoder);
  if (!decoder || !encoder)
    return {"", "",
            std::string("the bundled taef2 (") + kBundledDecoder +
                ") is not installed: pixel-space crossfades"};
  return {decoder->string(), encoder->string(), "the bundled taef2 (vae.decoder is empty)"};
}

}  // namespace dw::pipeline
