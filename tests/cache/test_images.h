// Procedural test images: varied, deterministic patterns so that similarity has something real to
// measure.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <random>

#include "core/image.h"

namespace dw::test {

// A smooth colourful pattern whose frequencies, phases and palette come from `seed`.
inline Image pattern_image(std::uint32_t seed, int w = 96, int h = 96) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> u(0.0f, 1.0f);
  const float fx = 1 + 8 * u(rng), fy = 1 + 8 * u(rng), ph = 6.28f * u(rng);
  const float r0 = u(rng), g0 = u(rng), b0 = u(rng);
  const float r1 = u(rng), g1 = u(rng), b1 = u(rng);
  const float cx = u(rng), cy = u(rng), fr = 2 + 10 * u(rng);
  Image img(w, h);
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x) {
      const float nx = static_cast<float>(x) / w, ny = static_cast<float>(y) / h;
      const float wave = 0.5f + 0.5f * std::sin(fx * 6.28f * nx + ph) * std::cos(fy * 6.28f * ny);
      const float ring = 0.5f + 0.5f * std::sin(fr * std::hypot(nx - cx, ny - cy) * 6.28f);
      const float t = 0.6f * wave + 0.4f * ring;
      std::uint8_t* p = img.pixel(x, y);
      p[0] = static_cast<std::uint8_t>(255 * (r0 + (r1 - r0) * t));
      p[1] = static_cast<std::uint8_t>(255 * (g0 + (g1 - g0) * t));
      p[2] = static_cast<std::uint8_t>(255 * (b0 + (b1 - b0) * t * ring));
      p[3] = 255;
    }
  return img;
}

// The same image slightly brighter: what a low-denoise img2img step might do.
inline Image nudged(const Image& src, int delta) {
  Image out = src;
  for (std::size_t i = 0; i < out.rgba.size(); ++i)
    if (i % 4 != 3)
      out.rgba[i] = static_cast<std::uint8_t>(std::clamp(out.rgba[i] + delta, 0, 255));
  return out;
}

// A night sky: black above dark hills (pure black), a dim blue glow near the horizon, and stars,
// a few of them white. Most of its values are exactly 0, as in a real night picture; it is not
// fried. `seed` places the hills and the stars.
inline Image night_sky(std::uint32_t seed, int w = 96, int h = 96) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> u(0.0f, 1.0f);
  const float ridge = 0.7f + 0.1f * u(rng), hill_f = 2 + 4 * u(rng), hill_ph = 6.28f * u(rng);
  Image img(w, h);
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x) {
      const float nx = static_cast<float>(x) / w, ny = static_cast<float>(y) / h;
      std::uint8_t* p = img.pixel(x, y);
      p[3] = 255;
      const float hill = ridge - 0.08f * std::sin(hill_f * 6.28f * nx + hill_ph);
      if (ny > hill) continue;                                // the hills: black
      const float glow = std::max(0.0f, ny - 0.35f) / 0.45f;  // 0 high up, ~1 at the horizon
      p[0] = 0;
      p[1] = static_cast<std::uint8_t>(18 * glow * glow);
      p[2] = static_cast<std::uint8_t>(70 * glow * glow);
    }
  const int stars = w * h / 60;
  for (int i = 0; i < stars; ++i) {
    const int x = static_cast<int>(u(rng) * (w - 1)), y = static_cast<int>(u(rng) * h * 0.6f);
    const auto v = static_cast<std::uint8_t>(u(rng) < 0.3f ? 255 : 120 + 100 * u(rng));
    std::uint8_t* p = img.pixel(x, y);
    p[0] = p[1] = p[2] = v;
  }
  return img;
}

}  // namespace dw::test
