// AutoencoderKL (SD1.x/2.x, SDXL, SD3, FLUX.1) encoder and decoder graphs, in the LDM/CompVis or
// the diffusers key layout. The builders are written once against the LDM structure; KlKeys
// turns each LDM module path into the file's own key. Channel widths, level and block counts come
// from the weights' shapes, so reduced-width test models build through the same code.
#include <string>

#include "core/error.h"
#include "vae/graph_builder.h"
#include "vae/model_builders.h"

namespace dw::vae {
namespace {

constexpr int kGroups = 32;  // every GroupNorm of the SD-family VAE
constexpr float kEps = 1e-6f;

class KlKeys {
 public:
  KlKeys(const KlDetection& kl, const WeightLookup& w) : kl_(kl), w_(w) {}
  bool diffusers() const { return kl_.layout == KeyLayout::Diffusers; }

  std::string down_block(int level, int j) const {
    return diffusers()
               ? "encoder.down_blocks." + std::to_string(level) + ".resnets." + std::to_string(j)
               : "encoder.down." + std::to_string(level) + ".block." + std::to_string(j);
  }
  std::string downsample(int level) const {
    return diffusers() ? "encoder.down_blocks." + std::to_string(level) + ".downsamplers.0.conv"
                       : "encoder.down." + std::to_string(level) + ".downsample.conv";
  }
  // `level` is the LDM index (resolution order); diffusers numbers decoder levels the other way.
  std::string up_block(int level, int levels, int j) const {
    return diffusers() ? "decoder.up_blocks." + std::to_string(levels - 1 - level) + ".resnets." +
                             std::to_string(j)
                       : "decoder.up." + std::to_string(level) + ".block." + std::to_string(j);
  }
  std::string upsample(int level, int levels) const {
    return diffusers()
               ? "decoder.up_blocks." + std::to_string(levels - 1 - level) + ".upsamplers.0.conv"
               : "decoder.up." + std::to_string(level) + ".upsample.conv";
  }
  std::string mid_block(const std::string& half, int which) const {  // which: 1 or 2
    return diffusers() ? half + ".mid_block.resnets." + std::to_string(which - 1)
                       : half + ".mid.block_" + std::to_string(which);
  }
  std::string mid_attention(const std::string& half) const {
    return diffusers() ? half + ".mid_block.attentions.0" : half + ".mid.attn_1";
  }
  std::string attention_part(const std::string& part) const {  // part: norm, q, k, v, out
    static const char* const names[3][5] = {{"norm", "q", "k", "v", "proj_out"},
                                            {"group_norm", "to_q", "to_k", "to_v", "to_out.0"},
                                            {"group_norm", "query", "key", "value", "proj_attn"}};
    const char* const parts[5] = {"norm", "q", "k", "v", "out"};
    for (int i = 0; i < 5; ++i)
      if (part == parts[i]) return names[static_cast<int>(kl_.attention)][i];
    return part;
  }
  std::string norm_out(const std::string& half) const {
    return diffusers() ? half + ".conv_norm_out" : half + ".norm_out";
  }
  std::string shortcut() const { return diffusers() ? "conv_shortcut" : "nin_shortcut"; }

  // Counts levels and blocks from the keys present.
  int count_down_levels() const {
    int n = 0;
    while (w_.has(down_block(n, 0) + ".conv1.weight")) ++n;
    return n;
  }
  int count_down_blocks(int level) const {
    int n = 0;
    while (w_.has(down_block(level, n) + ".conv1.weight")) ++n;
    return n;
  }
  int count_up_levels() const {
    // diffusers indices are reversed, so count by the diffusers name when needed.
    int n = 0;
    if (diffusers()) {
      while (w_.has("decoder.up_blocks." + std::to_string(n) + ".resnets.0.conv1.weight")) ++n;
    } else {
      while (w_.has("decoder.up." + std::to_string(n) + ".block.0.conv1.weight")) ++n;
    }
    return n;
  }
  int count_up_blocks(int level, int levels) const {
    int n = 0;
    while (w_.has(up_block(level, levels, n) + ".conv1.weight")) ++n;
    return n;
  }

 private:
  const KlDetection& kl_;
  const WeightLookup& w_;
};

// GroupNorm -> SiLU -> conv3x3 -> GroupNorm -> SiLU -> conv3x3, plus the input (through a 1x1
// shortcut when the channel count changes).
int resnet(GraphBuilder& g, const KlKeys& keys, const WeightLookup& w, int x,
           const std::string& key) {
  int h = g.silu(g.group_norm(x, key + ".norm1", kGroups, kEps));
  h = g.conv(h, key + ".conv1");
  h = g.silu(g.group_norm(h, key + ".norm2", kGroups, kEps));
  h = g.conv(h, key + ".conv2");
  const std::string shortcut = key + "." + keys.shortcut();
  const int skip = w.has(shortcut + ".weight") ? g.conv(x, shortcut) : x;
  return g.add(skip, h, key);
}

// Single-head self-attention over all positions, plus the input.
int attention_block(GraphBuilder& g, const KlKeys& keys, int x, const std::string& key) {
  const int h = g.group_norm(x, key + "." + keys.attention_part("norm"), kGroups, kEps);
  // x: [N, C, H, W]; q, k, v and the attention output keep that layout (tokens are H*W).
  const int q = g.conv(h, key + "." + keys.attention_part("q"));
  const int k = g.conv(h, key + "." + keys.attention_part("k"));
  const int v = g.conv(h, key + "." + keys.attention_part("v"));
  const int a = g.attention(q, k, v, key);
  const int out = g.conv(a, key + "." + keys.attention_part("out"));
  return g.add(x, out, key);
}

std::string context(const KlDetection& kl, const char* half) {
  return std::string("AutoencoderKL ") + half + " (" +
         (kl.layout == KeyLayout::Ldm ? "LDM" : "diffusers") + " layout)";
}

void require(bool ok, const WeightLookup& w, const std::string& what) {
  if (!ok) throw InputError(w.what() + ": " + what + " (" + w.context() + ")");
}

}  // namespace

Graph build_kl_decoder(const SafetensorsFile& file, const KlDetection& kl) {
  const WeightLookup w(file, kl.prefix, context(kl, "decoder"));
  const KlKeys keys(kl, w);
  GraphBuilder g(w, kl.latent_channels);
  int x = 0;  // x: [N, C, h, w] raw latent
  if (w.has("post_quant_conv.weight")) x = g.conv(x, "post_quant_conv");
  x = g.conv(x, "decoder.conv_in");
  x = resnet(g, keys, w, x, keys.mid_block("decoder", 1));
  x = attention_block(g, keys, x, keys.mid_attention("decoder"));
  x = resnet(g, keys, w, x, keys.mid_block("decoder", 2));
  const int levels = keys.count_up_levels();
  require(levels >= 1, w, "no decoder up levels found");
  for (int level = levels - 1; level >= 0; --level) {
    const int blocks = keys.count_up_blocks(level, levels);
    require(blocks >= 1, w, "decoder level " + std::to_string(level) + " has no ResNet blocks");
    for (int j = 0; j < blocks; ++j) x = resnet(g, keys, w, x, keys.up_block(level, levels, j));
    if (level != 0) {
      x = g.upsample(x);  // nearest x2 then a 3x3 conv at the new size
      x = g.conv(x, keys.upsample(level, levels));
    }
  }
  x = g.silu(g.group_norm(x, keys.norm_out("decoder"), kGroups, kEps));
  x = g.conv(x, "decoder.conv_out");  // x: [N, 3, 8h, 8w] in [-1, 1]
  require(g.channels(x) == 3, w, "decoder.conv_out does not produce 3 channels");
  Graph graph = g.finish(x);
  require(graph.values[x].scale_num == (1 << (levels - 1)) && graph.values[x].scale_den == 1, w,
          "unexpected decoder upscale");
  return graph;
}

Graph build_kl_encoder(const SafetensorsFile& file, const KlDetection& kl) {
  const WeightLookup w(file, kl.prefix, context(kl, "encoder"));
  const KlKeys keys(kl, w);
  GraphBuilder g(w, 3);
  int x = g.conv(0, "encoder.conv_in");  // x: [N, 3, H, W] in [-1, 1]
  const int levels = keys.count_down_levels();
  require(levels >= 1, w, "no encoder down levels found");
  for (int level = 0; level < levels; ++level) {
    const int blocks = keys.count_down_blocks(level);
    for (int j = 0; j < blocks; ++j) x = resnet(g, keys, w, x, keys.down_block(level, j));
    if (level != levels - 1) {
      // Stride-2 conv with asymmetric padding: nothing on the top/left, one row/column after.
      x = g.conv(x, keys.downsample(level), 2, Padding{0, 0, 1, 1});
    }
  }
  x = resnet(g, keys, w, x, keys.mid_block("encoder", 1));
  x = attention_block(g, keys, x, keys.mid_attention("encoder"));
  x = resnet(g, keys, w, x, keys.mid_block("encoder", 2));
  x = g.silu(g.group_norm(x, keys.norm_out("encoder"), kGroups, kEps));
  x = g.conv(x, "encoder.conv_out");  // x: [N, 2C, H/8, W/8]: mean and log-variance
  if (w.has("quant_conv.weight")) x = g.conv(x, "quant_conv");
  require(g.channels(x) == 2 * kl.latent_channels, w,
          "encoder output has " + std::to_string(g.channels(x)) + " channels, expected 2 x " +
              std::to_string(kl.latent_channels));
  x = g.slice(x, 0, kl.latent_channels);  // the mean: a deterministic latent
  return g.finish(x);
}

KlDetection detect_kl(const SafetensorsFile& file) {
  KlDetection kl;
  for (const char* prefix : {"", "first_stage_model.", "vae."}) {
    const std::string p = prefix;
    kl.has_decoder = file.contains(p + "decoder.conv_in.weight");
    kl.has_encoder = file.contains(p + "encoder.conv_in.weight");
    if (!kl.has_decoder && !kl.has_encoder) continue;
    kl.found = true;
    kl.prefix = p;
    const std::string half = kl.has_decoder ? "decoder" : "encoder";
    if (file.contains(p + half + ".mid.block_1.norm1.weight")) {
      kl.layout = KeyLayout::Ldm;
      kl.attention = AttentionNames::Ldm;
    } else if (file.contains(p + half + ".mid_block.resnets.0.norm1.weight")) {
      kl.layout = KeyLayout::Diffusers;
      kl.attention = file.contains(p + half + ".mid_block.attentions.0.query.weight")
                         ? AttentionNames::DiffusersLegacy
                         : AttentionNames::Diffusers;
    } else {
      throw InputError(file.what() + ": has '" + p + half +
                       ".conv_in.weight' like an AutoencoderKL, but neither an LDM mid block ('" +
                       p + half + ".mid.block_1...') nor a diffusers one ('" + p + half +
                       ".mid_block.resnets.0...')");
    }
    if (kl.has_decoder) {
      const TensorEntry* conv_in = file.find(p + "decoder.conv_in.weight");
      if (conv_in->shape.size() != 4)
        throw InputError(file.what() + ": '" + conv_in->name + "' has shape " +
                         conv_in->shape_text() + ", expected a 4-d conv weight");
      kl.latent_channels = static_cast<int>(conv_in->shape[1]);
    } else {
      const TensorEntry* conv_out = file.find(p + "encoder.conv_out.weight");
      if (!conv_out || conv_out->shape.size() != 4 || conv_out->shape[0] % 2 != 0)
        throw InputError(file.what() + ": AutoencoderKL encoder without a usable '" + p +
                         "encoder.conv_out.weight' [2C, I, 3, 3]");
      kl.latent_channels = static_cast<int>(conv_out->shape[0] / 2);
    }
    if (kl.latent_channels <= 0 || kl.latent_channels > 256)
      throw InputError(file.what() + ": implausible latent channel count " +
                       std::to_string(kl.latent_channels));
    return kl;
  }
  return kl;
}

}  // namespace dw::vae
