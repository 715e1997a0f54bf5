#include "vae/graph.h"

#include <string>

#include "core/error.h"

namespace dw::vae {

const char* op_kind_name(OpKind kind) {
  switch (kind) {
    case OpKind::Conv2d:
      return "Conv2d";
    case OpKind::GroupNorm:
      return "GroupNorm";
    case OpKind::SiLU:
      return "SiLU";
    case OpKind::ReLU:
      return "ReLU";
    case OpKind::TanhClamp:
      return "TanhClamp";
    case OpKind::Upsample2x:
      return "Upsample2x";
    case OpKind::Add:
      return "Add";
    case OpKind::Attention:
      return "Attention";
    case OpKind::SliceChannels:
      return "SliceChannels";
  }
  return "?";
}

std::int64_t Graph::parameter_count() const {
  std::int64_t count = 0;
  for (const Weight& w : weights) count += static_cast<std::int64_t>(w.numel());
  return count;
}

double Graph::macs(int h, int w) const {
  double total = 0;
  for (const Op& op : ops) {
    const ValueInfo& out = values.at(op.output);
    const double oh = static_cast<double>(h) * out.scale_num / out.scale_den;
    const double ow = static_cast<double>(w) * out.scale_num / out.scale_den;
    if (op.kind == OpKind::Conv2d) {
      total += oh * ow * op.out_channels * op.in_channels * op.kernel * op.kernel;
    } else if (op.kind == OpKind::Attention) {
      const double tokens = oh * ow;
      total += 2.0 * tokens * tokens * out.channels;  // q k^T and the weighted sum of v
    }
  }
  return total;
}

namespace {

[[noreturn]] void invalid(const Op& op, std::size_t index, const std::string& what) {
  throw Error("invalid VAE graph: op " + std::to_string(index) + " (" + op_kind_name(op.kind) +
              " '" + op.name + "'): " + what);
}

bool same_scale(const ValueInfo& a, const ValueInfo& b) {
  return static_cast<long long>(a.scale_num) * b.scale_den ==
         static_cast<long long>(b.scale_num) * a.scale_den;
}

int input_count(OpKind kind) {
  switch (kind) {
    case OpKind::Add:
      return 2;
    case OpKind::Attention:
      return 3;
    default:
      return 1;
  }
}

}  // namespace

void Graph::validate() const {
  if (values.empty()) throw Error("invalid VAE graph: no values");
  if (output <= 0 || output >= static_cast<int>(values.size()))
    throw Error("invalid VAE graph: output value " + std::to_string(output) + " out of range");
  std::vector<bool> written(values.size(), false);
  written[0] = true;
  for (std::size_t i = 0; i < ops.size(); ++i) {
    const Op& op = ops[i];
    if (op.output <= 0 || op.output >= static_cast<int>(values.size()))
      invalid(op, i, "output value out of range");
    if (written[op.output]) invalid(op, i, "output value written twice");
    const int inputs = input_count(op.kind);
    for (int k = 0; k < 3; ++k) {
      const int v = op.inputs[k];
      if (k >= inputs) {
        if (v != -1) invalid(op, i, "unexpected extra input");
        continue;
      }
      if (v < 0 || v >= static_cast<int>(values.size()) || !written[v])
        invalid(op, i, "input " + std::to_string(k) + " is not an earlier value");
    }
    const ValueInfo& in = values[op.inputs[0]];
    const ValueInfo& out = values[op.output];
    auto weight_shape_is = [&](int index, std::vector<std::int64_t> shape, const char* what) {
      if (index < 0 || index >= static_cast<int>(weights.size()))
        invalid(op, i, std::string(what) + " index out of range");
      if (weights[index].shape != shape)
        invalid(op, i, std::string(what) + " '" + weights[index].name + "' has the wrong shape");
      std::size_t numel = 1;
      for (auto d : shape) numel *= static_cast<std::size_t>(d);
      if (weights[index].data.size() != numel)
        invalid(op, i, std::string(what) + " '" + weights[index].name + "' has the wrong size");
    };
    switch (op.kind) {
      case OpKind::Conv2d: {
        if (op.kernel != 1 && op.kernel != 3) invalid(op, i, "kernel must be 1 or 3");
        if (op.stride != 1 && op.stride != 2) invalid(op, i, "stride must be 1 or 2");
        if (op.in_channels != in.channels || op.out_channels != out.channels)
          invalid(op, i, "channel counts do not match its values");
        weight_shape_is(op.weight, {op.out_channels, op.in_channels, op.kernel, op.kernel},
                        "weight");
        if (op.bias != -1) weight_shape_is(op.bias, {op.out_channels}, "bias");
        // Output size must be what the value info says: (H + pad - k) / stride + 1.
        const bool keeps = op.stride == 1 && op.pad.top + op.pad.bottom == op.kernel - 1 &&
                           op.pad.left + op.pad.right == op.kernel - 1;
        // Stride 2 halves an even size with a total padding of k - 2 (SD's asymmetric
        // (0, 1, 0, 1)) or k - 1 (TAE's symmetric 1 for a 3x3 kernel).
        auto halving_pad = [&](int sum) { return sum == op.kernel - 2 || sum == op.kernel - 1; };
        const bool halves = op.stride == 2 && halving_pad(op.pad.top + op.pad.bottom) &&
                            halving_pad(op.pad.left + op.pad.right);
        if (keeps && !same_scale(in, out)) invalid(op, i, "output scale must equal input scale");
        if (halves && static_cast<long long>(out.scale_num) * in.scale_den * 2 !=
                          static_cast<long long>(in.scale_num) * out.scale_den)
          invalid(op, i, "output scale must be half the input scale");
        if (!keeps && !halves) invalid(op, i, "padding must keep or exactly halve the size");
        break;
      }
      case OpKind::GroupNorm:
        if (op.groups <= 0 || in.channels % op.groups != 0)
          invalid(op, i, "channels not divisible by groups");
        if (out.channels != in.channels || !same_scale(in, out)) invalid(op, i, "shape changes");
        weight_shape_is(op.gamma, {in.channels}, "gamma");
        weight_shape_is(op.beta, {in.channels}, "beta");
        break;
      case OpKind::SiLU:
      case OpKind::ReLU:
      case OpKind::TanhClamp:
        if (out.channels != in.channels || !same_scale(in, out)) invalid(op, i, "shape changes");
        break;
      case OpKind::Upsample2x:
        if (out.channels != in.channels || static_cast<long long>(out.scale_num) * in.scale_den !=
                                               2LL * in.scale_num * out.scale_den)
          invalid(op, i, "output must be the input doubled");
        break;
      case OpKind::Add:
      case OpKind::Attention:
        for (int k = 1; k < input_count(op.kind); ++k) {
          const ValueInfo& other = values[op.inputs[k]];
          if (other.channels != in.channels || !same_scale(in, other))
            invalid(op, i, "inputs differ in shape");
        }
        if (out.channels != in.channels || !same_scale(in, out)) invalid(op, i, "shape changes");
        break;
      case OpKind::SliceChannels:
        if (op.begin < 0 || op.begin + out.channels > in.channels || !same_scale(in, out))
          invalid(op, i, "slice out of range");
        break;
    }
    written[op.output] = true;
  }
  if (!written[output]) throw Error("invalid VAE graph: the output value is never written");
}

}  // namespace dw::vae
