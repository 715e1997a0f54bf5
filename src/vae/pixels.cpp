#include "vae/pixels.h"

#include <algorithm>
#include <cmath>

#include "core/error.h"
#include "vae/backend.h"
#include "vae/slerp.h"

namespace dw::vae {

std::uint8_t unit_to_byte(float v) {
  if (!(v > 0.0f)) return 0;  // also NaN
  if (v >= 1.0f) return 255;
  return static_cast<std::uint8_t>(v * 255.0f + 0.5f);
}

void tensor_to_frame(const HostTensor& images, int index, Frame& frame) {
  DW_CHECK(images.c == 3 && index >= 0 && index < images.n, "tensor_to_frame needs [N, 3, H, W]");
  frame.resize_host(images.w, images.h);
  const std::size_t plane = images.plane();
  const float* r = images.at(index, 0);
  const float* g = images.at(index, 1);
  const float* b = images.at(index, 2);
  std::uint8_t* px = frame.host_rgba.data();
  for (std::size_t i = 0; i < plane; ++i) {
    px[4 * i + 0] = unit_to_byte(r[i]);
    px[4 * i + 1] = unit_to_byte(g[i]);
    px[4 * i + 2] = unit_to_byte(b[i]);
    px[4 * i + 3] = 255;
  }
}

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

ImageSize shrunk_size(int width, int height, int max_side) {
  DW_CHECK(width > 0 && height > 0 && max_side > 0, "shrunk_size needs positive sizes");
  const int longer = std::max(width, height);
  if (longer <= max_side) return {width, height};
  auto scaled = [&](int side) {
    return std::max(1, static_cast<int>(static_cast<long long>(side) * max_side / longer));
  };
  return {scaled(width), scaled(height)};
}

Image shrink_to_fit(const Image& image, int max_side) {
  const ImageSize size = shrunk_size(image.width, image.height, max_side);
  if (size.width == image.width && size.height == image.height) {
    Image out = image;  // kept at its size, but opaque like every other preview
    for (std::size_t i = 3; i < out.rgba.size(); i += 4) out.rgba[i] = 255;
    return out;
  }
  Image out(size.width, size.height);
  for (int oy = 0; oy < size.height; ++oy) {
    const int y0 = static_cast<int>(static_cast<long long>(oy) * image.height / size.height);
    const int y1 = static_cast<int>(static_cast<long long>(oy + 1) * image.height / size.height);
    for (int ox = 0; ox < size.width; ++ox) {
      const int x0 = static_cast<int>(static_cast<long long>(ox) * image.width / size.width);
      const int x1 = static_cast<int>(static_cast<long long>(ox + 1) * image.width / size.width);
      unsigned sum[3] = {0, 0, 0};
      for (int y = y0; y < y1; ++y)
        for (int x = x0; x < x1; ++x)
          for (int c = 0; c < 3; ++c) sum[c] += image.pixel(x, y)[c];
      const unsigned count = static_cast<unsigned>((x1 - x0) * (y1 - y0));
      std::uint8_t* o = out.pixel(ox, oy);
      for (int c = 0; c < 3; ++c) o[c] = static_cast<std::uint8_t>((sum[c] + count / 2) / count);
      o[3] = 255;
    }
  }
  return out;
}

Image VaeBackend::frame_preview(const Frame& frame, int max_side) {
  DW_CHECK(frame.location == PixelLocation::Host && frame.width > 0 && frame.height > 0 &&
               frame.host_rgba.size() == static_cast<std::size_t>(frame.width) * frame.height * 4,
           std::string(name()) + " backend: frame_preview needs a host frame it wrote");
  Image image;
  image.width = frame.width;
  image.height = frame.height;
  image.rgba = frame.host_rgba;
  return shrink_to_fit(image, max_side);
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
