// The TAE family (taesd, taesdxl, taesd3, taef1, taef2): plain nn.Sequential stacks whose keys are
// layer indices. The index layout is the same for every variant; only the latent channel count
// differs, and taef2 adds a `pool` branch to the Blocks of its innermost stage.
#include <string>
#include <vector>

#include "core/error.h"
#include "vae/graph_builder.h"
#include "vae/model_builders.h"

namespace dw::vae {
namespace {

enum class Layer { Clamp, Conv, ConvDown, ReLU, Block, Upsample };

// Index i of the nn.Sequential is kDecoderLayers[i].
constexpr Layer kDecoderLayers[] = {Layer::Clamp,    Layer::Conv,  Layer::ReLU,     Layer::Block,
                                    Layer::Block,    Layer::Block, Layer::Upsample, Layer::Conv,
                                    Layer::Block,    Layer::Block, Layer::Block,    Layer::Upsample,
                                    Layer::Conv,     Layer::Block, Layer::Block,    Layer::Block,
                                    Layer::Upsample, Layer::Conv,  Layer::Block,    Layer::Conv};
constexpr Layer kEncoderLayers[] = {Layer::Conv,  Layer::Block, Layer::ConvDown, Layer::Block,
                                    Layer::Block, Layer::Block, Layer::ConvDown, Layer::Block,
                                    Layer::Block, Layer::Block, Layer::ConvDown, Layer::Block,
                                    Layer::Block, Layer::Block, Layer::Conv};

constexpr int kPoolGroups = 4;
constexpr float kPoolEps = 1e-5f;  // nn.GroupNorm's default

// taef2's pool branch (when present), then conv3x3 ReLU conv3x3 ReLU conv3x3 plus the skip, ReLU.
int block(GraphBuilder& g, const WeightLookup& w, int x, const std::string& key) {
  if (w.has(key + ".pool.0.weight")) {
    int p = g.conv(x, key + ".pool.0");
    p = g.relu(g.group_norm(p, key + ".pool.1", kPoolGroups, kPoolEps));
    p = g.conv(p, key + ".pool.3");
    x = g.add(x, p, key + ".pool");
  }
  int h = g.relu(g.conv(x, key + ".conv.0"));
  h = g.relu(g.conv(h, key + ".conv.2"));
  h = g.conv(h, key + ".conv.4");
  const int skip = w.has(key + ".skip.weight") ? g.conv(x, key + ".skip") : x;
  return g.relu(g.add(h, skip, key));
}

Graph build(const SafetensorsFile& file, const std::string& prefix, const Layer* layers,
            std::size_t count, int input_channels, const char* half) {
  const WeightLookup w(file, prefix, std::string("TAE ") + half);
  // Every tensor under the prefix must belong to a known layer index: a file with more layers
  // is a different architecture and must not be half-read.
  for (const TensorEntry& e : file.tensors()) {
    if (e.name.compare(0, prefix.size(), prefix) != 0) continue;
    const std::string rest = e.name.substr(prefix.size());
    std::size_t digits = 0;
    while (digits < rest.size() && rest[digits] >= '0' && rest[digits] <= '9') ++digits;
    if (digits == 0 || digits > 4 || digits >= rest.size() || rest[digits] != '.') continue;
    const std::size_t index = std::stoul(rest.substr(0, digits));
    if (index >= count)
      throw InputError(file.what() + ": tensor '" + e.name + "' is layer " + std::to_string(index) +
                       ", beyond the " + std::to_string(count) + " layers of a TAE " + half +
                       " (an unsupported variant)");
  }
  GraphBuilder g(w, input_channels);
  int x = 0;
  for (std::size_t i = 0; i < count; ++i) {
    const std::string key = std::to_string(i);
    switch (layers[i]) {
      case Layer::Clamp:
        x = g.tanh_clamp(x);
        break;
      case Layer::Conv:
        x = g.conv(x, key);
        break;
      case Layer::ConvDown:
        x = g.conv(x, key, 2);
        break;
      case Layer::ReLU:
        x = g.relu(x);
        break;
      case Layer::Block:
        x = block(g, w, x, key);
        break;
      case Layer::Upsample:
        x = g.upsample(x);
        break;
    }
  }
  return g.finish(x);
}

bool looks_like_tae_decoder(const SafetensorsFile& file, const std::string& p) {
  const TensorEntry* first = file.find(p + "1.weight");
  return first && first->shape.size() == 4 && file.contains(p + "3.conv.0.weight") &&
         !file.contains(p + "0.weight");
}

bool looks_like_tae_encoder(const SafetensorsFile& file, const std::string& p) {
  const TensorEntry* first = file.find(p + "0.weight");
  return first && first->shape.size() == 4 && first->shape[1] == 3 &&
         file.contains(p + "1.conv.0.weight");
}

}  // namespace

Graph build_tae_decoder(const SafetensorsFile& file, const std::string& prefix) {
  const TensorEntry* first = file.find(prefix + "1.weight");
  if (!first || first->shape.size() != 4)
    throw InputError(file.what() + ": TAE decoder without a 4-d '" + prefix + "1.weight'");
  Graph graph = build(file, prefix, kDecoderLayers, std::size(kDecoderLayers),
                      static_cast<int>(first->shape[1]), "decoder");
  if (graph.output_channels() != 3)
    throw InputError(file.what() + ": TAE decoder's last conv gives " +
                     std::to_string(graph.output_channels()) + " channels, expected 3");
  return graph;
}

Graph build_tae_encoder(const SafetensorsFile& file, const std::string& prefix) {
  return build(file, prefix, kEncoderLayers, std::size(kEncoderLayers), 3, "encoder");
}

TaeDetection detect_tae(const SafetensorsFile& file) {
  TaeDetection tae;
  static const char* const kDecoderPrefixes[] = {"", "decoder.layers.", "taesd_decoder.",
                                                 "decoder."};
  static const char* const kEncoderPrefixes[] = {"", "encoder.layers.", "taesd_encoder.",
                                                 "encoder."};
  for (const char* p : kDecoderPrefixes) {
    if (looks_like_tae_decoder(file, p)) {
      tae.has_decoder = true;
      tae.decoder_prefix = p;
      tae.latent_channels = static_cast<int>(file.find(std::string(p) + "1.weight")->shape[1]);
      tae.pool = file.contains(std::string(p) + "3.pool.0.weight");
      break;
    }
  }
  for (const char* p : kEncoderPrefixes) {
    if (looks_like_tae_encoder(file, p)) {
      tae.has_encoder = true;
      tae.encoder_prefix = p;
      const TensorEntry* last = file.find(std::string(p) + "14.weight");
      if (!tae.has_decoder) {
        tae.latent_channels = last && !last->shape.empty() ? static_cast<int>(last->shape[0]) : 0;
        tae.pool = file.contains(std::string(p) + "11.pool.0.weight");
      }
      break;
    }
  }
  return tae;
}

}  // namespace dw::vae
