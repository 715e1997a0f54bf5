// load_vae: opens the user's file(s), decides from keys and shapes what they hold, and builds the
// encoder and decoder graphs.
#include "vae/model.h"

#include <algorithm>

#include "core/error.h"
#include "vae/model_builders.h"
#include "vae/safetensors.h"

namespace dw::vae {
namespace {

// What the file holds, for the error message when it is nothing we know.
[[noreturn]] void unknown_file(const SafetensorsFile& file, const std::string& role) {
  std::string message = file.what() + ": not a supported VAE " + role + ": found " +
                        std::to_string(file.tensors().size()) + " tensors";
  const std::size_t samples = std::min<std::size_t>(6, file.tensors().size());
  if (samples > 0) {
    message += " (e.g. ";
    for (std::size_t i = 0; i < samples; ++i) {
      const TensorEntry& e = file.tensors()[i * file.tensors().size() / samples];
      message += (i ? ", '" : "'") + e.name + "' " + e.shape_text();
    }
    message += ")";
  }
  message +=
      "; looked for an AutoencoderKL ('decoder.conv_in.weight' or 'encoder.conv_in.weight', "
      "optionally under 'first_stage_model.' or 'vae.') and for a TAE decoder ('1.weight' + "
      "'3.conv.0.weight') or encoder ('0.weight' + '1.conv.0.weight'), optionally under "
      "'decoder.layers.' / 'encoder.layers.'";
  throw InputError(message);
}

std::string tae_variant(int latent_channels, bool pool) {
  if (pool) return "taef2";
  switch (latent_channels) {
    case 4:
      return "taesd/taesdxl";
    case 16:
      return "taesd3/taef1";
    case 32:
      return "taef2";
    default:
      return "tae-" + std::to_string(latent_channels) + "ch";
  }
}

std::string kl_variant(int latent_channels) {
  switch (latent_channels) {
    case 4:
      return "sd-kl (SD1.x/SD2.x/SDXL)";
    case 16:
      return "kl-16ch (SD3/FLUX.1)";
    default:
      return "kl-" + std::to_string(latent_channels) + "ch";
  }
}

// One file's contribution: its model info and whichever halves it holds.
struct Loaded {
  ModelInfo info;
  std::optional<Graph> encoder, decoder;
};

Loaded load_file(const std::string& path, const std::string& role, bool want_encoder,
                 bool want_decoder) {
  const SafetensorsFile file = SafetensorsFile::open(path);
  Loaded out;
  out.info.source = path;
  const KlDetection kl = detect_kl(file);
  if (kl.found) {
    out.info.family = Family::AutoencoderKL;
    out.info.layout = kl.layout;
    out.info.latent_channels = kl.latent_channels;
    out.info.image_range = ImageRange::MinusOneOne;
    out.info.key_prefix = kl.prefix;
    out.info.variant = kl_variant(kl.latent_channels);
    if (want_decoder && kl.has_decoder) out.decoder = build_kl_decoder(file, kl);
    if (want_encoder && kl.has_encoder) out.encoder = build_kl_encoder(file, kl);
    return out;
  }
  const TaeDetection tae = detect_tae(file);
  if (tae.has_decoder || tae.has_encoder) {
    out.info.family = Family::Tae;
    out.info.layout = KeyLayout::Sequential;
    out.info.latent_channels = tae.latent_channels;
    out.info.image_range = ImageRange::ZeroOne;
    out.info.key_prefix = tae.has_decoder ? tae.decoder_prefix : tae.encoder_prefix;
    out.info.variant = tae_variant(tae.latent_channels, tae.pool);
    if (want_decoder && tae.has_decoder) out.decoder = build_tae_decoder(file, tae.decoder_prefix);
    if (want_encoder && tae.has_encoder) out.encoder = build_tae_encoder(file, tae.encoder_prefix);
    return out;
  }
  unknown_file(file, role);
}

}  // namespace

std::shared_ptr<const VaeModel> load_vae(const std::string& decoder_path,
                                         const std::string& encoder_path) {
  if (decoder_path.empty()) throw InputError("no VAE decoder file given");
  const bool separate_encoder = !encoder_path.empty();
  Loaded main = load_file(decoder_path, "decoder", !separate_encoder, true);
  if (!main.decoder) {
    throw InputError(decoder_path + ": holds a " +
                     std::string(main.info.family == Family::Tae ? "TAE" : "AutoencoderKL") +
                     " encoder but no decoder; give it as the encoder file and name the decoder");
  }
  auto model = std::make_shared<VaeModel>();
  model->info = main.info;
  model->decoder = std::move(main.decoder);
  model->encoder = std::move(main.encoder);
  if (separate_encoder) {
    Loaded enc = load_file(encoder_path, "encoder", true, false);
    if (!enc.encoder) throw InputError(encoder_path + ": holds no VAE encoder (a decoder only?)");
    if (enc.info.family != main.info.family)
      throw InputError(encoder_path + ": encoder is a " +
                       (enc.info.family == Family::Tae ? std::string("TAE") : "AutoencoderKL") +
                       " but the decoder " + decoder_path + " is not");
    model->encoder = std::move(enc.encoder);
    model->info.source += " + " + encoder_path;
  }
  if (model->encoder && model->encoder->output_channels() != model->info.latent_channels)
    throw InputError("VAE encoder gives " + std::to_string(model->encoder->output_channels()) +
                     "-channel latents but the decoder takes " +
                     std::to_string(model->info.latent_channels) + " (" + model->info.source + ")");
  const ValueInfo& out = model->decoder->values[model->decoder->output];
  model->info.downscale = out.scale_num / std::max(1, out.scale_den);
  return model;
}

void check_encodable(const VaeModel& model, const HostTensor& images) {
  if (!model.encoder)
    throw Error("this VAE has no encoder (" + model.info.source +
                "): give the encoder file as well");
  const int step = model.info.downscale;
  if (images.c != 3 || images.n <= 0 || images.h <= 0 || images.w <= 0 || images.h % step ||
      images.w % step || images.data.size() != images.size())
    throw Error("encode needs images [N, 3, H, W] with H and W multiples of " +
                std::to_string(step) + ", got " + images.shape_text());
}

}  // namespace dw::vae
