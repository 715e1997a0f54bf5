#include "pipeline/picture_ops.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <numbers>
#include <vector>

#include "core/error.h"

namespace dw::pipeline {
namespace {

std::uint8_t to_byte(double v) {
  return static_cast<std::uint8_t>(std::clamp(std::lround(v), 0L, 255L));
}

double luma(const std::uint8_t* p) {
  return 0.299 * p[0] + 0.587 * p[1] + 0.114 * p[2];
}

// Soft roll-off within `knee` levels of either end; never 0 or 255.
double roll_off(double u, double knee) {
  const double top = 255.0 - knee;
  if (u > top) u = top + knee * std::tanh((u - top) / knee);
  if (u < knee) u = knee - knee * std::tanh((knee - u) / knee);
  return std::clamp(u, 1.0, 254.0);
}

// Sums of each 3-value horizontal window (edges repeat) of one row of luma.
void row_sums(const double* row, int w, double* out) {
  for (int x = 0; x < w; ++x)
    out[x] = row[std::max(x - 1, 0)] + row[x] + row[std::min(x + 1, w - 1)];
}

}  // namespace

Image blend(const Image& a, const Image& b, double t) {
  DW_CHECK(a.width == b.width && a.height == b.height, "blend needs images of the same size");
  Image out = a;
  for (std::size_t i = 0; i < out.rgba.size(); ++i)
    out.rgba[i] = to_byte(a.rgba[i] * (1 - t) + b.rgba[i] * t);
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

void adjust_detail(Image& image, double amount) {
  const int w = image.width, h = image.height;
  if (amount == 0 || w < 3 || h < 3) return;
  // On luma only: sharpening each channel on its own draws rainbow fringes along every edge,
  // and a feedback loop turns those into contour lines.
  std::vector<double> l(static_cast<std::size_t>(w) * h);
  for (std::size_t i = 0; i < l.size(); ++i) l[i] = luma(&image.rgba[i * 4]);
  std::vector<double> rows(static_cast<std::size_t>(w) * 3);  // horizontal sums, rows y-1..y+1
  double* above = rows.data();
  double* here = above + w;
  double* below = here + w;
  row_sums(l.data(), w, above);
  std::copy(above, above + w, here);
  for (int y = 0; y < h; ++y) {
    row_sums(l.data() + static_cast<std::size_t>(std::min(y + 1, h - 1)) * w, w, below);
    for (int x = 0; x < w; ++x) {
      const std::size_t i = static_cast<std::size_t>(y) * w + x;
      const double detail = amount * (l[i] - (above[x] + here[x] + below[x]) / 9.0);
      std::uint8_t* p = &image.rgba[i * 4];
      for (int c = 0; c < 3; ++c) p[c] = to_byte(p[c] + detail);
    }
    std::swap(above, here);
    std::swap(here, below);
  }
}

void adjust_tone(Image& image, const ToneChange& change) {
  const std::size_t n = image.rgba.size() / 4;
  if (n == 0) return;
  double mean = 0;
  for (std::size_t i = 0; i < n; ++i) mean += luma(&image.rgba[i * 4]);
  mean /= static_cast<double>(n);
  for (std::size_t i = 0; i < n; ++i) {
    std::uint8_t* p = &image.rgba[i * 4];
    const double l = luma(p);
    const double shifted = mean + change.contrast_gain * (l - mean);
    for (int c = 0; c < 3; ++c) {
      const double u = shifted + change.chroma_gain * (p[c] - l);
      p[c] = to_byte(change.knee > 0 ? roll_off(u, change.knee) : u);
    }
  }
}

double mean_abs_difference(const Image& a, const Image& b, std::size_t step) {
  if (a.width != b.width || a.height != b.height || a.rgba.size() != b.rgba.size()) return 255.0;
  const std::size_t n = a.rgba.size() / 4;
  step = std::max<std::size_t>(step, 1);
  double sum = 0;
  std::size_t count = 0;
  for (std::size_t i = 0; i < n; i += step, ++count)
    for (int c = 0; c < 3; ++c) sum += std::abs(int{a.rgba[i * 4 + c]} - int{b.rgba[i * 4 + c]});
  return count ? sum / (3.0 * static_cast<double>(count)) : 0.0;
}

}  // namespace dw::pipeline
