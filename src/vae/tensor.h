// Host tensors: dense fp32, NCHW. Small and boring on purpose: latents, images and weights on the
// host all use this; device memory is each backend's own business.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace dw::vae {

struct HostTensor {
  int n = 0, c = 0, h = 0, w = 0;  // x: [N, C, H, W]
  std::vector<float> data;

  HostTensor() = default;
  HostTensor(int n_, int c_, int h_, int w_)
      : n(n_), c(c_), h(h_), w(w_), data(static_cast<std::size_t>(n_) * c_ * h_ * w_) {}

  std::size_t size() const { return data.size(); }
  std::size_t plane() const { return static_cast<std::size_t>(h) * w; }
  std::size_t item() const { return static_cast<std::size_t>(c) * h * w; }  // one batch entry
  float* at(int in, int ic) { return data.data() + in * item() + ic * plane(); }
  const float* at(int in, int ic) const { return data.data() + in * item() + ic * plane(); }
  std::string shape_text() const;  // "[2, 4, 16, 16]"
};

// A weight as stored in the file, converted to fp32: any rank (conv [O, I, kh, kw], norm [C],
// linear [O, I]).
struct Weight {
  std::string name;  // the checkpoint key it came from, for error messages
  std::vector<std::int64_t> shape;
  std::vector<float> data;
  std::size_t numel() const { return data.size(); }
};

}  // namespace dw::vae
