// A VAE half (encoder or decoder) as a flat list of operations over numbered values: the contract
// between the model layer (which builds it from a checkpoint's keys) and the backends (which run
// it). The CPU backend interprets it op by op; the CUDA backend compiles it once per input shape
// into cached plans, fusing conv + residual add + ReLU into one convolution, a conv's bias into
// the GroupNorm that alone reads it, and GroupNorm + SiLU (src/vae/cuda/plan_steps.cpp). The x2
// upsample is a step of its own by default; an experimental option, off by default
// (PlanOptions::fuse_upsample), turns an upsample read only by a 3x3 convolution into one
// low-resolution phase convolution plus an interleave.
//
// What must stay true:
//  - values are single-assignment: value 0 is the graph input, each op writes one new value;
//  - ops are in execution order and read only values written earlier;
//  - `Graph::values[v].channels` is the channel count of value v; spatial sizes follow from the
//    input size (only Conv2d with stride 2 and Upsample2x change them);
//  - weights are fp32 on the host in the checkpoint's layout (conv [O, I, kh, kw]); every op's
//    weight indices are valid and their shapes match the op (the model layer checks this).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "vae/tensor.h"

namespace dw::vae {

enum class OpKind : std::uint8_t {
  Conv2d,         // out = conv(in0, weight) + bias?           kernel 1 or 3, stride 1 or 2
  GroupNorm,      // out = (in0 - mean_g) / sqrt(var_g + eps) * gamma + beta
  SiLU,           // out = in0 * sigmoid(in0)
  ReLU,           // out = max(in0, 0)
  TanhClamp,      // out = tanh(in0 / 3) * 3                   (TAE decoder input)
  Upsample2x,     // nearest-neighbour x2 in H and W
  Add,            // out = in0 + in1                           (residuals)
  Attention,      // single-head spatial self-attention: in0 = q, in1 = k, in2 = v, all
                  // [N, C, H, W]; out[n, :, p] = sum_j softmax_j(q_p . k_j / sqrt(C)) v_j
  SliceChannels,  // out = in0[:, begin : begin + channels]  (encoder: the mean of (mean, logvar))
};

const char* op_kind_name(OpKind kind);

struct Padding {
  int top = 0, left = 0, bottom = 0, right = 0;
};

struct Op {
  OpKind kind;
  int inputs[3] = {-1, -1, -1};
  int output = -1;
  std::string name;  // checkpoint prefix this op came from ("decoder.up.1.block.0.conv1")

  // Conv2d
  int in_channels = 0, out_channels = 0, kernel = 1, stride = 1;
  Padding pad;
  int weight = -1;  // index into Graph::weights: [out, in, k, k]
  int bias = -1;    // [out] or -1
  // GroupNorm
  int groups = 0;
  float eps = 1e-6f;
  int gamma = -1, beta = -1;  // [C]
  // SliceChannels
  int begin = 0;
};

struct ValueInfo {
  int channels = 0;
  int scale_num = 1, scale_den = 1;  // spatial size = input size * num / den
};

struct Graph {
  std::vector<Op> ops;
  std::vector<ValueInfo> values;  // values[0] is the input
  std::vector<Weight> weights;
  int output = -1;

  int input_channels() const { return values.empty() ? 0 : values[0].channels; }
  int output_channels() const { return values.at(output).channels; }
  std::int64_t parameter_count() const;
  // Multiply-accumulates for one batch item at input size h x w (convs and attention).
  double macs(int h, int w) const;
  // Throws dw::Error when an invariant above does not hold (used by the model layer and tests).
  void validate() const;
};

}  // namespace dw::vae
