#include "vae/pixels.h"

#include <algorithm>
#include <cmath>

#include "core/error.h"
#include "vae/slerp.h"

namespace dw::vae {

HostTensor image_to_tensor(const Image& image) {
  HostTensor t(1, 3, image.height, image.width);
  const std::size_t plane = t.plane();
  for (std::size_t i = 0; i < plane; ++i)
    for (int c = 0; c < 3; ++c) t.data[c * plane + i] = image.rgba[i * 4 + c] / 255.0f;
  return t;
}

Image tensor_to_image(const HostTensor& images, int index) {
  Frame frame;
  tensor_to_frame(images, index, frame);
  Image image;
  image.width = frame.width;
  image.height = frame.height;
  image.rgba = std::move(frame.host_rgba);
  return image;
}

double psnr(const HostTensor& a, const HostTensor& b) {
  DW_CHECK(a.size() == b.size() && a.size() > 0, "psnr needs two tensors of one shape");
  double mse = 0;
  for (std::size_t i = 0; i < a.size(); ++i) {
    const double d = static_cast<double>(a.data[i]) - b.data[i];
    mse += d * d;
  }
  mse /= static_cast<double>(a.size());
  return 10.0 * std::log10(1.0 / std::max(mse, 1e-12));
}

}  // namespace dw::vae
