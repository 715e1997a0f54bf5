#include "cache/picture_measures.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "core/error.h"

namespace dw::cache {
namespace {

constexpr int kMaxSamplesPerAxis = 256;  // the HSV histogram's grid (features.cpp)
constexpr double kHfContrastFloor = 8.0;

double luma(const std::uint8_t* p) {
  return 0.299 * p[0] + 0.587 * p[1] + 0.114 * p[2];
}

// Running sums over the sample grid.
struct Sums {
  double n = 0;
  double luma_sum = 0, luma_sq = 0;
  double rg = 0, rg_sq = 0, yb = 0, yb_sq = 0;
  double chroma = 0;
  std::array<double, 3> channel{}, channel_sq{};
  double clipped = 0;
  double gradient = 0;

  void add(const Image& image, int x, int y) {
    const std::uint8_t* p = image.pixel(x, y);
    const double l = luma(p);
    n += 1;
    luma_sum += l;
    luma_sq += l * l;
    const double r = p[0], g = p[1], b = p[2];
    rg += r - g;
    rg_sq += (r - g) * (r - g);
    const double yellow_blue = 0.5 * (r + g) - b;
    yb += yellow_blue;
    yb_sq += yellow_blue * yellow_blue;
    const double pixel_chroma = std::max({r, g, b}) - std::min({r, g, b});
    chroma += pixel_chroma;
    const bool coloured = pixel_chroma >= kClippedMinChroma;
    for (int c = 0; c < 3; ++c) {
      clipped += (coloured && (p[c] == 0 || p[c] == 255)) ? 1 : 0;
      channel[c] += p[c];
      channel_sq[c] += static_cast<double>(p[c]) * p[c];
    }
    const int right = std::min(x + 1, image.width - 1), down = std::min(y + 1, image.height - 1);
    gradient += 0.5 * (std::abs(luma(image.pixel(right, y)) - l) +
                       std::abs(luma(image.pixel(x, down)) - l));
  }
};

double variance(double sum, double sum_sq, double n) {
  const double mean = sum / n;
  return std::max(0.0, sum_sq / n - mean * mean);
}

// A band's floor width per measure, so a single seed (or identical seeds) still gives room.
constexpr std::array<double, kMeasureCount> kMinWidening = {4.0, 3.0, 0.02, 0.01, 0.02, 3.0};
constexpr std::array<double, kMeasureCount> kLimit = {255.0, 127.5, 1.0, 1.0, 4.0, 127.5};

}  // namespace

const char* measure_name(Measure m) {
  switch (m) {
    case Measure::Colourfulness:
      return "colourfulness";
    case Measure::Contrast:
      return "contrast";
    case Measure::Saturation:
      return "saturation";
    case Measure::Clipped:
      return "clipped";
    case Measure::Hf:
      return "hf";
    case Measure::Variation:
      return "variation";
  }
  return "?";
}

PictureMeasures measure_picture(const Image& image) {
  DW_CHECK(!image.empty(), "measure_picture needs a non-empty image");
  const int step_x = std::max(1, image.width / kMaxSamplesPerAxis);
  const int step_y = std::max(1, image.height / kMaxSamplesPerAxis);
  Sums s;
  for (int y = step_y / 2; y < image.height; y += step_y)
    for (int x = step_x / 2; x < image.width; x += step_x) s.add(image, x, y);
  PictureMeasures m;
  const double var_rg = variance(s.rg, s.rg_sq, s.n), var_yb = variance(s.yb, s.yb_sq, s.n);
  const double mean_rg = s.rg / s.n, mean_yb = s.yb / s.n;
  m[Measure::Colourfulness] =
      std::sqrt(var_rg + var_yb) + 0.3 * std::sqrt(mean_rg * mean_rg + mean_yb * mean_yb);
  m[Measure::Contrast] = std::sqrt(variance(s.luma_sum, s.luma_sq, s.n));
  m[Measure::Saturation] = s.chroma / (255.0 * s.n);
  m[Measure::Clipped] = s.clipped / (3.0 * s.n);
  m[Measure::Hf] = (s.gradient / s.n) / std::max(m[Measure::Contrast], kHfContrastFloor);
  double channel_variance = 0;
  for (int c = 0; c < 3; ++c) channel_variance += variance(s.channel[c], s.channel_sq[c], s.n);
  m[Measure::Variation] = std::sqrt(channel_variance / 3.0);
  return m;
}

bool PictureBands::contains(const PictureMeasures& m) const {
  for (int i = 0; i < kMeasureCount; ++i)
    if (!bands[i].contains(m.values[i])) return false;
  return true;
}

double PictureBands::excess(const PictureMeasures& m) const {
  double worst = 0;
  for (int i = 0; i < kMeasureCount; ++i) {
    const Band& b = bands[i];
    const double width = std::max(b.width(), 1e-9);
    const double v = m.values[i];
    if (v < b.lo) worst = std::max(worst, (b.lo - v) / width);
    if (v > b.hi) worst = std::max(worst, (v - b.hi) / width);
  }
  return worst;
}

std::string PictureBands::describe_outside(const PictureMeasures& m) const {
  std::string out;
  for (int i = 0; i < kMeasureCount; ++i) {
    const Band& b = bands[i];
    const double v = m.values[i];
    if (b.contains(v)) continue;
    if (!out.empty()) out += ", ";
    out += fmt::format("{} {:.3g} {} {:.3g}..{:.3g}", measure_name(static_cast<Measure>(i)), v,
                       v < b.lo ? "below" : "above", b.lo, b.hi);
  }
  return out;
}

PictureBands bands_from_seeds(std::span<const Image> seeds, double margin) {
  DW_CHECK(!seeds.empty(), "picture bands need at least one seed image");
  DW_CHECK(margin >= 0, "a band margin cannot be negative");
  PictureBands bands;
  for (Band& b : bands.bands) {
    b.lo = 1e300;
    b.hi = -1e300;
  }
  for (const Image& seed : seeds) {
    const PictureMeasures m = measure_picture(seed);
    for (int i = 0; i < kMeasureCount; ++i) {
      bands.bands[i].lo = std::min(bands.bands[i].lo, m.values[i]);
      bands.bands[i].hi = std::max(bands.bands[i].hi, m.values[i]);
    }
  }
  for (int i = 0; i < kMeasureCount; ++i) {
    Band& b = bands.bands[i];
    const double widen = std::max(margin * b.width(), kMinWidening[i]);
    b.lo = std::max(0.0, b.lo - widen);
    b.hi = std::min(kLimit[i], b.hi + widen);
  }
  return bands;
}

}  // namespace dw::cache
