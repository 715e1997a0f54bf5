#include "pipeline/offline_generator.h"

#include <algorithm>
#include <cmath>
#include <numbers>

#include "core/error.h"

namespace dw::pipeline {
namespace {

int mirror(int i, int n) {
  if (n == 1) return 0;
  const int period = 2 * (n - 1);
  i %= period;
  if (i < 0) i += period;
  return i < n ? i : period - i;
}

std::uint8_t to_byte(double v) {
  return static_cast<std::uint8_t>(std::clamp(std::lround(v), 0L, 255L));
}

}  // namespace

EvolveParams random_step(std::mt19937_64& rng) {
  std::uniform_real_distribution<double> u(-1.0, 1.0);
  EvolveParams p;
  p.zoom = 1.0 + 0.02 + 0.015 * u(rng);
  p.rotation_deg = 1.5 * u(rng);
  p.warp_amplitude = 3.0 + 2.0 * u(rng);
  p.warp_frequency = 1.5 + 1.0 * u(rng);
  p.warp_phase = std::numbers::pi * u(rng);
  p.hue_shift_deg = 4.0 + 3.0 * u(rng);
  return p;
}

Image evolve(const Image& src, const EvolveParams& params) {
  DW_CHECK(!src.empty(), "evolve needs a non-empty image");
  Image out;
  out.width = src.width;
  out.height = src.height;
  out.rgba.resize(src.rgba.size());
  const double cx = (src.width - 1) / 2.0, cy = (src.height - 1) / 2.0;
  const double theta = params.rotation_deg * std::numbers::pi / 180.0;
  const double c = std::cos(theta) / params.zoom, s = std::sin(theta) / params.zoom;
  const double scale = std::max(src.width, src.height) / 512.0;
  const double amplitude = params.warp_amplitude * scale;
  const double k = 2 * std::numbers::pi * params.warp_frequency;
  for (int y = 0; y < out.height; ++y) {
    const double ny = static_cast<double>(y) / out.height;
    for (int x = 0; x < out.width; ++x) {
      const double nx = static_cast<double>(x) / out.width;
      // Inverse map: where in the source does this output pixel come from?
      const double dx = x - cx + amplitude * std::sin(k * ny + params.warp_phase);
      const double dy = y - cy + amplitude * std::sin(k * nx + 1.7 * params.warp_phase);
      const double sx = cx + c * dx - s * dy;
      const double sy = cy + s * dx + c * dy;
      const int x0 = static_cast<int>(std::floor(sx)), y0 = static_cast<int>(std::floor(sy));
      const double fx = sx - x0, fy = sy - y0;
      const std::uint8_t* p00 = src.pixel(mirror(x0, src.width), mirror(y0, src.height));
      const std::uint8_t* p10 = src.pixel(mirror(x0 + 1, src.width), mirror(y0, src.height));
      const std::uint8_t* p01 = src.pixel(mirror(x0, src.width), mirror(y0 + 1, src.height));
      const std::uint8_t* p11 = src.pixel(mirror(x0 + 1, src.width), mirror(y0 + 1, src.height));
      std::uint8_t* o = out.pixel(x, y);
      for (int ch = 0; ch < 3; ++ch) {
        const double top = p00[ch] + (p10[ch] - p00[ch]) * fx;
        const double bottom = p01[ch] + (p11[ch] - p01[ch]) * fx;
        o[ch] = to_byte(top + (bottom - top) * fy);
      }
      o[3] = 255;
    }
  }
  if (params.hue_shift_deg != 0) rotate_hue(out, params.hue_shift_deg);
  return out;
}

void rotate_hue(Image& image, double degrees) {
  // Rotation by `degrees` about the (1,1,1) axis, as a 3x3 matrix.
  const double a = degrees * std::numbers::pi / 180.0;
  const double cosa = std::cos(a), sina = std::sin(a);
  const double third = 1.0 / 3.0, root = std::sqrt(third);
  const double m0 = cosa + (1 - cosa) * third;
  const double m1 = third * (1 - cosa) - root * sina;
  const double m2 = third * (1 - cosa) + root * sina;
  for (std::size_t i = 0; i < image.rgba.size(); i += 4) {
    const double r = image.rgba[i], g = image.rgba[i + 1], b = image.rgba[i + 2];
    image.rgba[i] = to_byte(m0 * r + m1 * g + m2 * b);
    image.rgba[i + 1] = to_byte(m2 * r + m0 * g + m1 * b);
    image.rgba[i + 2] = to_byte(m1 * r + m2 * g + m0 * b);
  }
}

void restore_detail(Image& image, double amount, double target_std, double max_gain) {
  const int w = image.width, h = image.height;
  if (amount > 0 && w >= 3 && h >= 3) {
    const std::vector<std::uint8_t> src = image.rgba;
    for (int y = 0; y < h; ++y)
      for (int x = 0; x < w; ++x)
        for (int ch = 0; ch < 3; ++ch) {
          double sum = 0;
          for (int dy = -1; dy <= 1; ++dy)
            for (int dx = -1; dx <= 1; ++dx)
              sum += src[(static_cast<std::size_t>(mirror(y + dy, h)) * w + mirror(x + dx, w)) * 4 +
                         ch];
          const double centre = src[(static_cast<std::size_t>(y) * w + x) * 4 + ch];
          image.pixel(x, y)[ch] = to_byte(centre + amount * (centre - sum / 9.0));
        }
  }
  const std::size_t n = static_cast<std::size_t>(w) * h;
  for (int ch = 0; ch < 3; ++ch) {
    double mean = 0, sq = 0;
    for (std::size_t i = 0; i < n; ++i) {
      const double v = image.rgba[i * 4 + ch];
      mean += v;
      sq += v * v;
    }
    mean /= n;
    const double std_dev = std::sqrt(std::max(0.0, sq / n - mean * mean));
    if (std_dev < 1e-3) continue;
    const double gain = std::clamp(target_std / std_dev, 1.0 / max_gain, max_gain);
    for (std::size_t i = 0; i < n; ++i)
      image.rgba[i * 4 + ch] = to_byte(mean + (image.rgba[i * 4 + ch] - mean) * gain);
  }
}

Image blend(const Image& a, const Image& b, double t) {
  DW_CHECK(a.width == b.width && a.height == b.height, "blend needs images of the same size");
  Image out = a;
  for (std::size_t i = 0; i < out.rgba.size(); ++i)
    out.rgba[i] = to_byte(a.rgba[i] * (1 - t) + b.rgba[i] * t);
  return out;
}

}  // namespace dw::pipeline
