#include "vae/graph_builder.h"

#include <numeric>

#include "core/error.h"

namespace dw::vae {

Weight WeightLookup::read(std::string_view key) const {
  const std::string full = full_key(key);
  if (!file_.contains(full))
    throw InputError(file_.what() + ": missing tensor '" + full + "' needed by the " + context_);
  return file_.read_f32(full);
}

GraphBuilder::GraphBuilder(const WeightLookup& weights, int input_channels) : weights_(weights) {
  graph_.values.push_back(ValueInfo{input_channels, 1, 1});
}

int GraphBuilder::new_value(int channels, int scale_num, int scale_den) {
  const int g = std::gcd(scale_num, scale_den);
  graph_.values.push_back(ValueInfo{channels, scale_num / g, scale_den / g});
  return static_cast<int>(graph_.values.size()) - 1;
}

int GraphBuilder::add_weight(Weight w) {
  graph_.weights.push_back(std::move(w));
  return static_cast<int>(graph_.weights.size()) - 1;
}

void GraphBuilder::shape_error(const Weight& w, const std::string& expected) const {
  std::string shape = "[";
  for (std::size_t i = 0; i < w.shape.size(); ++i)
    shape += (i ? ", " : "") + std::to_string(w.shape[i]);
  shape += "]";
  throw InputError(weights_.what() + ": tensor '" + w.name + "' has shape " + shape +
                   ", expected " + expected + " for the " + weights_.context());
}

int GraphBuilder::conv(int x, const std::string& key, int stride, std::optional<Padding> pad) {
  const int in_channels = channels(x);
  Weight w = weights_.read(key + ".weight");
  if (w.shape.size() == 2) w.shape.insert(w.shape.end(), {1, 1});  // Linear as 1x1 conv
  if (w.shape.size() != 4 || w.shape[2] != w.shape[3] || (w.shape[2] != 1 && w.shape[2] != 3) ||
      w.shape[1] != in_channels || w.shape[0] <= 0 || w.shape[0] > (1 << 16))
    shape_error(w, "[O, " + std::to_string(in_channels) + ", k, k] with k = 1 or 3");
  Op op;
  op.kind = OpKind::Conv2d;
  op.name = weights_.full_key(key);
  op.in_channels = in_channels;
  op.out_channels = static_cast<int>(w.shape[0]);
  op.kernel = static_cast<int>(w.shape[2]);
  op.stride = stride;
  const int half = op.kernel / 2;
  op.pad = pad.value_or(Padding{half, half, half, half});
  op.weight = add_weight(std::move(w));
  if (weights_.has(key + ".bias")) {
    Weight b = weights_.read(key + ".bias");
    if (b.shape != std::vector<std::int64_t>{op.out_channels})
      shape_error(b, "[" + std::to_string(op.out_channels) + "]");
    op.bias = add_weight(std::move(b));
  }
  const ValueInfo in = graph_.values[x];
  op.inputs[0] = x;
  op.output = stride == 2 ? new_value(op.out_channels, in.scale_num, in.scale_den * 2)
                          : new_value(op.out_channels, in.scale_num, in.scale_den);
  graph_.ops.push_back(std::move(op));
  return graph_.ops.back().output;
}

int GraphBuilder::group_norm(int x, const std::string& key, int groups, float eps) {
  const int c = channels(x);
  if (c % groups != 0)
    throw InputError(weights_.what() + ": '" + weights_.full_key(key) + "' normalises " +
                     std::to_string(c) + " channels, not divisible into " + std::to_string(groups) +
                     " groups (" + weights_.context() + ")");
  Weight gamma = weights_.read(key + ".weight");
  Weight beta = weights_.read(key + ".bias");
  const std::vector<std::int64_t> expected{c};
  if (gamma.shape != expected) shape_error(gamma, "[" + std::to_string(c) + "]");
  if (beta.shape != expected) shape_error(beta, "[" + std::to_string(c) + "]");
  Op op;
  op.kind = OpKind::GroupNorm;
  op.name = weights_.full_key(key);
  op.groups = groups;
  op.eps = eps;
  op.gamma = add_weight(std::move(gamma));
  op.beta = add_weight(std::move(beta));
  op.inputs[0] = x;
  const ValueInfo in = graph_.values[x];
  op.output = new_value(c, in.scale_num, in.scale_den);
  graph_.ops.push_back(std::move(op));
  return graph_.ops.back().output;
}

int GraphBuilder::unary(OpKind kind, int x) {
  Op op;
  op.kind = kind;
  op.inputs[0] = x;
  const ValueInfo in = graph_.values[x];
  op.output = new_value(in.channels, in.scale_num, in.scale_den);
  graph_.ops.push_back(std::move(op));
  return graph_.ops.back().output;
}

int GraphBuilder::upsample(int x) {
  Op op;
  op.kind = OpKind::Upsample2x;
  op.inputs[0] = x;
  const ValueInfo in = graph_.values[x];
  op.output = new_value(in.channels, in.scale_num * 2, in.scale_den);
  graph_.ops.push_back(std::move(op));
  return graph_.ops.back().output;
}

int GraphBuilder::add(int a, int b, const std::string& name) {
  if (channels(a) != channels(b))
    throw InputError(weights_.what() + ": residual '" + weights_.full_key(name) + "' adds " +
                     std::to_string(channels(a)) + " to " + std::to_string(channels(b)) +
                     " channels (" + weights_.context() + ")");
  Op op;
  op.kind = OpKind::Add;
  op.name = name.empty() ? "" : weights_.full_key(name);
  op.inputs[0] = a;
  op.inputs[1] = b;
  const ValueInfo in = graph_.values[a];
  op.output = new_value(in.channels, in.scale_num, in.scale_den);
  graph_.ops.push_back(std::move(op));
  return graph_.ops.back().output;
}

int GraphBuilder::attention(int q, int k, int v, const std::string& name) {
  Op op;
  op.kind = OpKind::Attention;
  op.name = weights_.full_key(name);
  op.inputs[0] = q;
  op.inputs[1] = k;
  op.inputs[2] = v;
  const ValueInfo in = graph_.values[q];
  op.output = new_value(in.channels, in.scale_num, in.scale_den);
  graph_.ops.push_back(std::move(op));
  return graph_.ops.back().output;
}

int GraphBuilder::slice(int x, int begin, int count) {
  Op op;
  op.kind = OpKind::SliceChannels;
  op.inputs[0] = x;
  op.begin = begin;
  const ValueInfo in = graph_.values[x];
  op.output = new_value(count, in.scale_num, in.scale_den);
  graph_.ops.push_back(std::move(op));
  return graph_.ops.back().output;
}

Graph GraphBuilder::finish(int output) {
  graph_.output = output;
  graph_.validate();
  return std::move(graph_);
}

}  // namespace dw::vae
