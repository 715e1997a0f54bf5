// Internal to the model layer: what a file was detected to hold, and the graph builders of the
// two families. Builders work from keys and shapes only; load_vae (model.cpp) ties them together.
#pragma once

#include <string>

#include "vae/graph.h"
#include "vae/model.h"
#include "vae/safetensors.h"

namespace dw::vae {

// Which attention weight names a diffusers file uses.
enum class AttentionNames { Ldm, Diffusers, DiffusersLegacy };  // q | to_q | query

struct KlDetection {
  bool found = false;
  std::string prefix;  // "", "first_stage_model.", "vae."
  KeyLayout layout = KeyLayout::Ldm;
  AttentionNames attention = AttentionNames::Ldm;
  bool has_encoder = false, has_decoder = false;
  int latent_channels = 0;
};

struct TaeDetection {
  bool has_encoder = false, has_decoder = false;
  std::string encoder_prefix, decoder_prefix;
  int latent_channels = 0;  // from whichever half is present (decoder first)
  bool pool = false;        // taef2's pool branch in the innermost stage
};

KlDetection detect_kl(const SafetensorsFile& file);
TaeDetection detect_tae(const SafetensorsFile& file);

// AutoencoderKL halves. The encoder graph takes [-1, 1] pixels and returns the mean of the
// latent distribution (after quant_conv when present); the decoder returns [-1, 1] pixels.
Graph build_kl_encoder(const SafetensorsFile& file, const KlDetection& kl);
Graph build_kl_decoder(const SafetensorsFile& file, const KlDetection& kl);

// TAE halves: [0, 1] pixels in and out, latents at scale 1.
Graph build_tae_encoder(const SafetensorsFile& file, const std::string& prefix);
Graph build_tae_decoder(const SafetensorsFile& file, const std::string& prefix);

}  // namespace dw::vae
