// Comparing pictures in the render tests: PSNR over the colour channels, and a column crop.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstddef>

#include "core/image.h"

namespace dw::render {

// PSNR of a against b over R, G and B (alpha left out), in dB; 99 when identical. The sizes must
// match (a failed expectation otherwise).
inline double psnr(const Image& a, const Image& b) {
  EXPECT_EQ(a.width, b.width);
  EXPECT_EQ(a.height, b.height);
  double se = 0;
  std::size_t n = 0;
  for (std::size_t i = 0; i < a.rgba.size() && i < b.rgba.size(); ++i) {
    if (i % 4 == 3) continue;
    const double d = static_cast<double>(a.rgba[i]) - b.rgba[i];
    se += d * d;
    ++n;
  }
  const double mse = se / static_cast<double>(std::max<std::size_t>(n, 1));
  return mse == 0 ? 99.0 : 10 * std::log10(255.0 * 255.0 / mse);
}

// Columns x0 .. x0 + width - 1 of img.
inline Image crop_columns(const Image& img, int x0, int width) {
  Image out(width, img.height);
  for (int y = 0; y < img.height; ++y)
    for (int x = 0; x < width; ++x)
      for (int c = 0; c < 4; ++c) out.pixel(x, y)[c] = img.pixel(x0 + x, y)[c];
  return out;
}

}  // namespace dw::render
