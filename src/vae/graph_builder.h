// Internal to the model layer: builds a Graph op by op from a checkpoint's weights, checking every
// weight's shape against the value it is applied to, so a graph that comes out is valid.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "vae/graph.h"
#include "vae/safetensors.h"

namespace dw::vae {

// The tensors of one file under one key prefix ("", "first_stage_model.", "decoder.layers." ...).
class WeightLookup {
 public:
  WeightLookup(const SafetensorsFile& file, std::string prefix, std::string context)
      : file_(file), prefix_(std::move(prefix)), context_(std::move(context)) {}
  bool has(std::string_view key) const { return file_.contains(prefix_ + std::string(key)); }
  const TensorEntry* entry(std::string_view key) const {
    return file_.find(prefix_ + std::string(key));
  }
  // Throws dw::InputError naming the file, the full key and what was being built.
  Weight read(std::string_view key) const;
  std::string full_key(std::string_view key) const { return prefix_ + std::string(key); }
  const std::string& what() const { return file_.what(); }
  const std::string& context() const { return context_; }

 private:
  const SafetensorsFile& file_;
  std::string prefix_;
  std::string context_;  // "AutoencoderKL decoder (LDM layout)", for error messages
};

class GraphBuilder {
 public:
  GraphBuilder(const WeightLookup& weights, int input_channels);

  // `key`.weight ([O, I, k, k], or a Linear [O, I] taken as a 1x1 conv) and `key`.bias when
  // present. Padding defaults to "same" (k / 2 on every side).
  int conv(int x, const std::string& key, int stride = 1, std::optional<Padding> pad = {});
  int group_norm(int x, const std::string& key, int groups, float eps);
  int silu(int x) { return unary(OpKind::SiLU, x); }
  int relu(int x) { return unary(OpKind::ReLU, x); }
  int tanh_clamp(int x) { return unary(OpKind::TanhClamp, x); }
  int upsample(int x);
  int add(int a, int b, const std::string& name = "");
  int attention(int q, int k, int v, const std::string& name);
  int slice(int x, int begin, int channels);

  int channels(int value) const { return graph_.values.at(value).channels; }
  // Validates and hands the graph over.
  Graph finish(int output);

 private:
  int unary(OpKind kind, int x);
  int new_value(int channels, int scale_num, int scale_den);
  int add_weight(Weight w);
  [[noreturn]] void shape_error(const Weight& w, const std::string& expected) const;

  const WeightLookup& weights_;
  Graph graph_;
};

}  // namespace dw::vae
