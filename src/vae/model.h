// Loading a user's VAE weights: the file's keys and shapes decide what it is (never its name),
// and the model layer turns it into encoder and decoder graphs.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "vae/graph.h"

namespace dw::vae {

enum class Family { AutoencoderKL, Tae };
enum class KeyLayout { Ldm, Diffusers, Sequential };
enum class ImageRange { ZeroOne, MinusOneOne };

struct ModelInfo {
  Family family = Family::Tae;
  KeyLayout layout = KeyLayout::Sequential;
  std::string variant;  // "sd-kl", "taesd", "taesdxl/taesd", "taesd3/taef1", "taef2", ...
  int latent_channels = 4;
  int downscale = 8;
  ImageRange image_range = ImageRange::ZeroOne;  // what the graphs take/produce as pixels
  std::string key_prefix;  // "", "first_stage_model.", "vae.", "decoder.layers." ...
  std::string source;      // file path(s) it came from
};

struct VaeModel {
  ModelInfo info;
  std::optional<Graph> encoder;  // absent when the files hold only a decoder
  std::optional<Graph> decoder;
};

// Loads and detects. `decoder_path` may be a full VAE, a full checkpoint, or a decoder alone;
// `encoder_path` (optional) a separate encoder (TAE files come in pairs). Throws dw::InputError
// naming the file and what was found when the files are none of the supported models.
// Throws dw::Error unless `images` can go through the model's encoder: an encoder exists, the
// tensor is [N, 3, H, W] with H and W multiples of the downscale. Every backend checks this first.
void check_encodable(const VaeModel& model, const HostTensor& images);

std::shared_ptr<const VaeModel> load_vae(const std::string& decoder_path,
                                         const std::string& encoder_path = "");

}  // namespace dw::vae
