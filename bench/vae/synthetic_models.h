// Random-weight VAE files with the real SD and TAE structures, for speed measurements (speed does
// not depend on the values). Written to a scratch file and loaded through load_vae like a user's.
#pragma once

#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "vae/safetensors.h"

namespace dw::vae::bench {

struct SyntheticTensor {
  std::string name;
  std::vector<std::int64_t> shape;
  std::vector<float> data;
};

class SyntheticModel {
 public:
  void conv(const std::string& key, int out, int in, int k, bool bias = true) {
    add(key + ".weight", {out, in, k, k}, 1.0f / std::sqrt(static_cast<float>(in * k * k)));
    if (bias) add(key + ".bias", {out}, 0.01f);
  }
  void norm(const std::string& key, int c) {
    add(key + ".weight", {c}, 0.1f, 1.0f);
    add(key + ".bias", {c}, 0.1f);
  }
  void save(const std::string& path) const {
    std::vector<NamedTensor> named;
    for (const SyntheticTensor& t : tensors_) named.push_back({t.name, t.shape, t.data});
    save_safetensors_f32(path, named);
  }

 private:
  void add(const std::string& name, std::vector<std::int64_t> shape, float scale,
           float offset = 0.0f) {
    std::size_t n = 1;
    for (auto d : shape) n *= static_cast<std::size_t>(d);
    std::uniform_real_distribution<float> dist(-scale, scale);
    SyntheticTensor t{name, std::move(shape), std::vector<float>(n)};
    for (float& v : t.data) v = offset + dist(rng_);
    tensors_.push_back(std::move(t));
  }
  std::mt19937 rng_{1234};
  std::vector<SyntheticTensor> tensors_;
};

// SD1.x AutoencoderKL in the LDM layout: widths 128, 256, 512, 512; 2 ResNets per encoder level,
// 3 per decoder level; mid block with attention; quant convs.
inline void write_sd_vae(const std::string& path, int latent = 4) {
  SyntheticModel m;
  const int widths[4] = {128, 256, 512, 512};
  auto resnet = [&](const std::string& key, int in, int out) {
    m.norm(key + ".norm1", in);
    m.conv(key + ".conv1", out, in, 3);
    m.norm(key + ".norm2", out);
    m.conv(key + ".conv2", out, out, 3);
    if (in != out) m.conv(key + ".nin_shortcut", out, in, 1);
  };
  auto mid = [&](const std::string& half) {
    resnet(half + ".mid.block_1", 512, 512);
    m.norm(half + ".mid.attn_1.norm", 512);
    for (const char* p : {"q", "k", "v", "proj_out"})
      m.conv(half + ".mid.attn_1." + p, 512, 512, 1);
    resnet(half + ".mid.block_2", 512, 512);
  };
  m.conv("encoder.conv_in", 128, 3, 3);
  int channels = 128;
  for (int level = 0; level < 4; ++level) {
    for (int j = 0; j < 2; ++j) {
      resnet("encoder.down." + std::to_string(level) + ".block." + std::to_string(j), channels,
             widths[level]);
      channels = widths[level];
    }
    if (level != 3)
      m.conv("encoder.down." + std::to_string(level) + ".downsample.conv", channels, channels, 3);
  }
  mid("encoder");
  m.norm("encoder.norm_out", 512);
  m.conv("encoder.conv_out", 2 * latent, 512, 3);
  m.conv("quant_conv", 2 * latent, 2 * latent, 1);
  m.conv("post_quant_conv", latent, latent, 1);
  m.conv("decoder.conv_in", 512, latent, 3);
  mid("decoder");
  channels = 512;
  for (int level = 3; level >= 0; --level) {
    for (int j = 0; j < 3; ++j) {
      resnet("decoder.up." + std::to_string(level) + ".block." + std::to_string(j), channels,
             widths[level]);
      channels = widths[level];
    }
    if (level != 0)
      m.conv("decoder.up." + std::to_string(level) + ".upsample.conv", channels, channels, 3);
  }
  m.norm("decoder.norm_out", 128);
  m.conv("decoder.conv_out", 3, 128, 3);
  m.save(path);
}

// A TAE decoder and encoder (taesd structure, width 64) for `latent` channels.
inline void write_tae(const std::string& decoder_path, const std::string& encoder_path,
                      int latent = 4) {
  auto block = [](SyntheticModel& m, const std::string& key) {
    for (const char* c : {".conv.0", ".conv.2", ".conv.4"}) m.conv(key + c, 64, 64, 3);
  };
  SyntheticModel d;
  d.conv("1", 64, latent, 3);
  for (int i : {3, 4, 5, 8, 9, 10, 13, 14, 15, 18}) block(d, std::to_string(i));
  for (int i : {7, 12, 17}) d.conv(std::to_string(i), 64, 64, 3, false);
  d.conv("19", 3, 64, 3);
  d.save(decoder_path);
  SyntheticModel e;
  e.conv("0", 64, 3, 3);
  for (int i : {1, 3, 4, 5, 7, 8, 9, 11, 12, 13}) block(e, std::to_string(i));
  for (int i : {2, 6, 10}) e.conv(std::to_string(i), 64, 64, 3, false);
  e.conv("14", latent, 64, 3);
  e.save(encoder_path);
}

}  // namespace dw::vae::bench
