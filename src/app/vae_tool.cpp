// dreamwindow-vae: try a VAE on your own weights without starting the display.
//   dreamwindow-vae info      --vae FILE [--encoder FILE]
//   dreamwindow-vae encode    --vae FILE [--encoder FILE] IMAGE -o LATENT.safetensors
//   dreamwindow-vae decode    --vae FILE LATENT.safetensors -o IMAGE.png
//   dreamwindow-vae roundtrip --vae FILE [--encoder FILE] IMAGE [-o IMAGE.png]
//   dreamwindow-vae morph     --vae FILE [--encoder FILE] A B -n N -o DIR
// Latents are raw (no scaling factor), stored as the tensor "latent_tensor" [N, C, h, w] like
// ComfyUI's SaveLatent files, which `decode` reads too. Exit codes: 0 done, 2 bad input (files,
// arguments), 1 anything else.
#include <fmt/format.h>

#include <CLI/CLI.hpp>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>

#include "core/error.h"
#include "core/image.h"
#include "vae/backend.h"
#include "vae/model.h"
#include "vae/pixels.h"
#include "vae/safetensors.h"
#include "vae/slerp.h"

namespace {

using namespace dw;
using namespace dw::vae;

constexpr int kBadInput = 2;

struct Options {
  std::string vae_path, encoder_path;
  std::string backend = "auto";
  int threads = 0;
  std::vector<std::string> inputs;
  std::string output;
  int frames = 8;
  std::string easing = "smoothstep";
  bool no_mean_center = false;
};

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

const char* family_name(Family f) {
  return f == Family::Tae ? "TAE" : "AutoencoderKL";
}
const char* layout_name(KeyLayout l) {
  switch (l) {
    case KeyLayout::Ldm:
      return "LDM/CompVis";
    case KeyLayout::Diffusers:
      return "diffusers";
    case KeyLayout::Sequential:
      return "nn.Sequential indices";
  }
  return "?";
}

std::unique_ptr<VaeBackend> open_backend(const Options& o) {
  VaeConfig config;
  config.cpu_threads = o.threads;
  config.decoder_path = o.vae_path;
  config.encoder_path = o.encoder_path;
  const VaeBackendKind kind = o.backend == "cpu"    ? VaeBackendKind::Cpu
                              : o.backend == "cuda" ? VaeBackendKind::Cuda
                                                    : VaeBackendKind::Auto;
  return make_backend(kind, load_vae(o.vae_path, o.encoder_path), config);
}

// The image as [1, 3, H, W] in [0, 1], cropped to multiples of the model's downscale (and to
// `width` x `height` when given).
HostTensor load_pixels(const std::string& path, int step, int width = 0, int height = 0) {
  Image image = load_image(path);
  const int w = width > 0 ? width : image.width / step * step;
  const int h = height > 0 ? height : image.height / step * step;
  if (w < step || h < step)
    throw InputError(fmt::format("{}: {}x{} is smaller than the model's {}x{} minimum", path,
                                 image.width, image.height, step, step));
  if (w != image.width || h != image.height) image = resize_cover(image, w, h);
  return image_to_tensor(image);
}

HostTensor load_latent(const std::string& path) {
  const SafetensorsFile file = SafetensorsFile::open(path);
  const TensorEntry* entry = file.find("latent_tensor");
  if (!entry) entry = file.find("latent");
  if (!entry && file.tensors().size() == 1) entry = &file.tensors()[0];
  if (!entry)
    throw InputError(path + ": no tensor named 'latent_tensor' or 'latent' (found " +
                     std::to_string(file.tensors().size()) + " tensors)");
  if (entry->shape.size() != 4 || entry->numel() == 0)
    throw InputError(path + ": tensor '" + entry->name + "' has shape " + entry->shape_text() +
                     ", expected [N, C, h, w]");
  const Weight w = file.read_f32(*entry);
  HostTensor t(static_cast<int>(w.shape[0]), static_cast<int>(w.shape[1]),
               static_cast<int>(w.shape[2]), static_cast<int>(w.shape[3]));
  t.data = w.data;
  return t;
}

int cmd_info(const Options& o) {
  const auto model = load_vae(o.vae_path, o.encoder_path);
  const ModelInfo& info = model->info;
  std::printf("file:            %s\n", info.source.c_str());
  std::printf("family:          %s (%s)\n", family_name(info.family), info.variant.c_str());
  std::printf("key layout:      %s%s\n", layout_name(info.layout),
              info.key_prefix.empty() ? "" : fmt::format(", prefix '{}'", info.key_prefix).c_str());
  std::printf("latent channels: %d (1/%d resolution, raw latents, scale 1)\n", info.latent_channels,
              info.downscale);
  std::printf("image range:     %s in the graphs, [0, 1] at the interface\n",
              info.image_range == ImageRange::ZeroOne ? "[0, 1]" : "[-1, 1]");
  const auto& dec = *model->decoder;
  std::printf("decoder:         %.2f M parameters, %zu ops, %.1f GMAC per 512x512 image\n",
              dec.parameter_count() / 1e6, dec.ops.size(),
              dec.macs(512 / info.downscale, 512 / info.downscale) / 1e9);
  if (model->encoder) {
    const auto& enc = *model->encoder;
    std::printf("encoder:         %.2f M parameters, %zu ops, %.1f GMAC per 512x512 image\n",
                enc.parameter_count() / 1e6, enc.ops.size(), enc.macs(512, 512) / 1e9);
  } else {
    std::printf("encoder:         none (give --encoder FILE for encode, roundtrip, morph)\n");
  }
  return 0;
}

// The first input image, encoded: what encode and roundtrip share.
struct EncodedImage {
  std::unique_ptr<VaeBackend> backend;
  HostTensor pixels, latent;
  double seconds = 0;
};

EncodedImage encode_input(const Options& o) {
  EncodedImage e;
  e.backend = open_backend(o);
  e.pixels = load_pixels(o.inputs.at(0), e.backend->info().downscale);
  const auto start = std::chrono::steady_clock::now();
  e.latent = e.backend->encode(e.pixels);
  e.seconds = seconds_since(start);
  return e;
}

int cmd_encode(const Options& o) {
  const EncodedImage e = encode_input(o);
  const HostTensor& latent = e.latent;
  save_safetensors_f32(o.output,
                       {{"latent_tensor", {latent.n, latent.c, latent.h, latent.w}, latent.data}},
                       {{"dreamwindow_vae", e.backend->info().variant}});
  std::printf("encoded %dx%d -> latent %s in %.3f s (%s backend): %s\n", e.pixels.w, e.pixels.h,
              latent.shape_text().c_str(), e.seconds, std::string(e.backend->name()).c_str(),
              o.output.c_str());
  return 0;
}

int cmd_decode(const Options& o) {
  auto backend = open_backend(o);
  const HostTensor latent = load_latent(o.inputs.at(0));
  if (latent.c != backend->info().latent_channels)
    throw InputError(fmt::format("{}: latent has {} channels but the VAE takes {}", o.inputs[0],
                                 latent.c, backend->info().latent_channels));
  const auto start = std::chrono::steady_clock::now();
  const HostTensor images = backend->decode(latent);
  const double seconds = seconds_since(start);
  for (int i = 0; i < images.n; ++i) {
    std::string path = o.output;
    if (images.n > 1) {
      const std::filesystem::path p(o.output);
      path =
          (p.parent_path() / fmt::format("{}_{}{}", p.stem().string(), i, p.extension().string()))
              .string();
    }
    save_png(tensor_to_image(images, i), path);
    std::printf("decoded %s item %d -> %dx%d in %.3f s: %s\n", latent.shape_text().c_str(), i,
                images.w, images.h, seconds, path.c_str());
  }
  return 0;
}

int cmd_roundtrip(const Options& o) {
  const EncodedImage e = encode_input(o);
  const auto& [backend, pixels, latent, encode_s] = e;
  const auto middle = std::chrono::steady_clock::now();
  const HostTensor decoded = backend->decode(latent);
  const double decode_s = seconds_since(middle);
  if (!o.output.empty()) save_png(tensor_to_image(decoded, 0), o.output);
  std::printf("roundtrip %dx%d via latent %s: PSNR %.2f dB (encode %.3f s, decode %.3f s, %s)\n",
              pixels.w, pixels.h, latent.shape_text().c_str(), psnr(decoded, pixels), encode_s,
              decode_s, std::string(backend->name()).c_str());
  return 0;
}

int cmd_morph(const Options& o) {
  auto backend = open_backend(o);
  const int step = backend->info().downscale;
  const HostTensor a_pixels = load_pixels(o.inputs.at(0), step);
  const HostTensor b_pixels = load_pixels(o.inputs.at(1), step, a_pixels.w, a_pixels.h);
  const HostTensor a = backend->encode(a_pixels);
  const HostTensor b = backend->encode(b_pixels);
  const Easing easing = o.easing == "linear"   ? Easing::Linear
                        : o.easing == "cosine" ? Easing::Cosine
                                               : Easing::Smoothstep;
  std::vector<float> ts(o.frames);
  for (int i = 1; i <= o.frames; ++i) ts[i - 1] = eased_t(i, o.frames, easing);
  SlerpOptions options;
  options.mean_center = !o.no_mean_center;
  std::vector<Frame> frames(o.frames);
  std::vector<Frame*> slots;
  for (Frame& f : frames) slots.push_back(&f);
  const auto start = std::chrono::steady_clock::now();
  backend->interpolate_to_frames(a, b, ts, options, slots);
  const double seconds = seconds_since(start);
  std::filesystem::create_directories(o.output);
  for (int i = 0; i < o.frames; ++i) {
    Image image;
    image.width = frames[i].width;
    image.height = frames[i].height;
    image.rgba = frames[i].host_rgba;
    save_png(image,
             (std::filesystem::path(o.output) / fmt::format("morph_{:03d}.png", i + 1)).string());
  }
  std::printf("morph: %d in-between frames of %dx%d in %.3f s (%.1f ms per frame, %s) in %s\n",
              o.frames, a_pixels.w, a_pixels.h, seconds, 1000 * seconds / std::max(1, o.frames),
              std::string(backend->name()).c_str(), o.output.c_str());
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"dreamwindow-vae: inspect and try a VAE (AutoencoderKL or TAE safetensors)",
               "dreamwindow-vae"};
  app.require_subcommand(1);
  Options o;
  auto common = [&](CLI::App* sub, bool needs_encoder) {
    sub->add_option("--vae", o.vae_path, "VAE decoder, full VAE or checkpoint (.safetensors)")
        ->required()
        ->check(CLI::ExistingFile);
    sub->add_option("--encoder", o.encoder_path,
                    needs_encoder ? "separate encoder file (TAE pairs)" : "separate encoder file")
        ->check(CLI::ExistingFile);
    sub->add_option("--backend", o.backend, "auto, cpu or cuda")
        ->check(CLI::IsMember({"auto", "cpu", "cuda"}));
    sub->add_option("--threads", o.threads, "CPU threads (0: all cores)")
        ->check(CLI::Range(0, 256));
  };
  auto* info = app.add_subcommand("info", "family, key layout, latent channels, parameter count");
  common(info, false);
  auto* encode = app.add_subcommand("encode", "image -> raw latent (.safetensors)");
  common(encode, true);
  encode->add_option("image", o.inputs, "PNG or JPEG")->required()->expected(1);
  encode->add_option("-o,--output", o.output, "latent file to write")->required();
  auto* decode = app.add_subcommand("decode", "raw latent (.safetensors, .latent) -> PNG");
  common(decode, false);
  decode->add_option("latent", o.inputs, "latent file")->required()->expected(1);
  decode->add_option("-o,--output", o.output, "PNG to write (batches: NAME_i.png)")->required();
  auto* roundtrip = app.add_subcommand("roundtrip", "encode and decode an image, print the PSNR");
  common(roundtrip, true);
  roundtrip->add_option("image", o.inputs, "PNG or JPEG")->required()->expected(1);
  roundtrip->add_option("-o,--output", o.output, "PNG of the decoded image");
  auto* morph = app.add_subcommand("morph", "two images in, N slerped in-between PNGs out");
  common(morph, true);
  morph->add_option("images", o.inputs, "two PNG or JPEG files")->required()->expected(2);
  morph->add_option("-n,--frames", o.frames, "in-between frames")->check(CLI::Range(1, 240));
  morph->add_option("-o,--output", o.output, "directory for morph_NNN.png")->required();
  morph->add_option("--easing", o.easing, "linear, smoothstep or cosine")
      ->check(CLI::IsMember({"linear", "smoothstep", "cosine"}));
  morph->add_flag("--no-mean-center", o.no_mean_center, "slerp without per-channel centering");

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int code = app.exit(e);
    return code == 0 ? 0 : kBadInput;
  }
  try {
    if (*info) return cmd_info(o);
    if (*encode) return cmd_encode(o);
    if (*decode) return cmd_decode(o);
    if (*roundtrip) return cmd_roundtrip(o);
    if (*morph) return cmd_morph(o);
  } catch (const InputError& e) {
    std::fprintf(stderr, "dreamwindow-vae: %s\n", e.what());
    return kBadInput;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "dreamwindow-vae: error: %s\n", e.what());
    return 1;
  }
  return kBadInput;
}
