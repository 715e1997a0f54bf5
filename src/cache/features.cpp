#include "cache/features.h"

#include <algorithm>
#include <bit>
#include <cmath>
#include <numbers>
#include <vector>

#include "core/error.h"

namespace dw::cache {
namespace {

// Histograms look at no more than ~64k pixels: a uniform grid sample is as good as all pixels
// for a 32-bin histogram and keeps scoring cheap at 4K.
constexpr int kMaxSamplesPerAxis = 256;

void rgb_to_hsv(float r, float g, float b, float& h, float& s, float& v) {
  const float mx = std::max({r, g, b});
  const float mn = std::min({r, g, b});
  const float d = mx - mn;
  v = mx;
  s = mx > 0 ? d / mx : 0;
  if (d <= 0) {
    h = 0;
    return;
  }
  float hh;
  if (mx == r)
    hh = (g - b) / d;
  else if (mx == g)
    hh = 2 + (b - r) / d;
  else
    hh = 4 + (r - g) / d;
  hh /= 6;
  if (hh < 0) hh += 1;
  h = hh;
}

int bin(float x) {
  return std::clamp(static_cast<int>(x * kHsvBins), 0, kHsvBins - 1);
}

// 32x32 luma by box filtering: every source pixel contributes to exactly one cell. Integer luma
// (weights 299/587/114 per mille) and a column-to-cell table made once: no division or
// floating point per pixel, so a 1024x1024 frame costs well under a millisecond.
std::array<double, 32 * 32> luma_32x32(const Image& image) {
  std::array<std::uint64_t, 32 * 32> sum{};
  std::array<std::uint32_t, 32 * 32> count{};
  std::vector<std::uint8_t> cell_x(static_cast<std::size_t>(image.width));
  for (int x = 0; x < image.width; ++x)
    cell_x[x] = static_cast<std::uint8_t>(static_cast<long long>(x) * 32 / image.width);
  for (int y = 0; y < image.height; ++y) {
    const int cy = static_cast<int>(static_cast<long long>(y) * 32 / image.height);
    std::uint64_t* row_sum = sum.data() + cy * 32;
    std::uint32_t* row_count = count.data() + cy * 32;
    const std::uint8_t* p = image.pixel(0, y);
    for (int x = 0; x < image.width; ++x, p += 4) {
      row_sum[cell_x[x]] += 299u * p[0] + 587u * p[1] + 114u * p[2];
      ++row_count[cell_x[x]];
    }
  }
  std::array<double, 32 * 32> luma{};
  for (int i = 0; i < 32 * 32; ++i)
    luma[i] = count[i] ? static_cast<double>(sum[i]) / (1000.0 * count[i]) : 0;
  return luma;
}

}  // namespace

std::uint64_t perceptual_hash(const Image& image) {
  DW_CHECK(!image.empty(), "perceptual_hash needs a non-empty image");
  const auto luma = luma_32x32(image);
  // Separable DCT-II, only the 8 lowest frequencies in each direction are needed.
  static const auto basis = [] {
    std::array<double, 8 * 32> b{};
    for (int u = 0; u < 8; ++u)
      for (int x = 0; x < 32; ++x)
        b[u * 32 + x] = std::cos(std::numbers::pi * (2 * x + 1) * u / 64.0);
    return b;
  }();
  std::array<double, 8 * 32> rows{};  // [u][y]: DCT along x for every row y
  for (int y = 0; y < 32; ++y)
    for (int u = 0; u < 8; ++u) {
      double acc = 0;
      for (int x = 0; x < 32; ++x) acc += luma[y * 32 + x] * basis[u * 32 + x];
      rows[u * 32 + y] = acc;
    }
  std::array<double, 64> coeff{};  // [v][u]
  for (int v = 0; v < 8; ++v)
    for (int u = 0; u < 8; ++u) {
      double acc = 0;
      for (int y = 0; y < 32; ++y) acc += rows[u * 32 + y] * basis[v * 32 + y];
      coeff[v * 8 + u] = acc;
    }
  // The median of the 63 AC terms: the DC term (mean brightness) would dominate it.
  std::array<double, 63> ac{};
  std::copy(coeff.begin() + 1, coeff.end(), ac.begin());
  std::nth_element(ac.begin(), ac.begin() + 31, ac.end());
  const double median = ac[31];
  std::uint64_t hash = 0;
  for (int i = 0; i < 64; ++i)
    if (coeff[i] > median) hash |= std::uint64_t{1} << i;
  return hash;
}

ImageFeatures compute_features(const Image& image) {
  DW_CHECK(!image.empty(), "compute_features needs a non-empty image");
  ImageFeatures f;
  const int step_x = std::max(1, image.width / kMaxSamplesPerAxis);
  const int step_y = std::max(1, image.height / kMaxSamplesPerAxis);
  std::array<double, 3 * kHsvBins> counts{};
  for (int y = step_y / 2; y < image.height; y += step_y)
    for (int x = step_x / 2; x < image.width; x += step_x) {
      const std::uint8_t* p = image.pixel(x, y);
      float h, s, v;
      rgb_to_hsv(p[0] / 255.0f, p[1] / 255.0f, p[2] / 255.0f, h, s, v);
      counts[bin(h)] += 1;
      counts[kHsvBins + bin(s)] += 1;
      counts[2 * kHsvBins + bin(v)] += 1;
    }
  for (int c = 0; c < 3; ++c) {
    double total = 0;
    for (int i = 0; i < kHsvBins; ++i) total += counts[c * kHsvBins + i];
    for (int i = 0; i < kHsvBins; ++i)
      f.hsv[c * kHsvBins + i] = static_cast<float>(counts[c * kHsvBins + i] / total);
  }
  f.phash = perceptual_hash(image);
  f.measures = measure_picture(image);
  return f;
}

void add_latent_stats(ImageFeatures& features, std::span<const float> latent, int channels) {
  DW_CHECK(channels > 0 && latent.size() % channels == 0 && !latent.empty(),
           "latent size must be a multiple of its channel count");
  const std::size_t plane = latent.size() / channels;
  features.latent_stats.assign(2 * channels, 0.0f);
  for (int c = 0; c < channels; ++c) {
    double sum = 0, sq = 0;
    for (std::size_t i = 0; i < plane; ++i) {
      const double v = latent[c * plane + i];
      sum += v;
      sq += v * v;
    }
    const double mean = sum / plane;
    features.latent_stats[2 * c] = static_cast<float>(mean);
    features.latent_stats[2 * c + 1] =
        static_cast<float>(std::sqrt(std::max(0.0, sq / plane - mean * mean)));
  }
}

double colour_similarity(const ImageFeatures& a, const ImageFeatures& b) {
  double s = 0;
  for (std::size_t i = 0; i < a.hsv.size(); ++i) s += std::min(a.hsv[i], b.hsv[i]);
  return s;
}

double structure_similarity(std::uint64_t a, std::uint64_t b) {
  return 1.0 - std::popcount(a ^ b) / 64.0;
}

double latent_similarity(const ImageFeatures& a, const ImageFeatures& b) {
  if (a.latent_stats.empty() || a.latent_stats.size() != b.latent_stats.size()) return 0;
  double sq = 0;
  for (std::size_t i = 0; i < a.latent_stats.size(); ++i) {
    const double d = a.latent_stats[i] - b.latent_stats[i];
    sq += d * d;
  }
  return 1.0 / (1.0 + std::sqrt(sq / a.latent_stats.size()));
}

Similarity similarity(const ImageFeatures& a, const ImageFeatures& b) {
  return {colour_similarity(a, b), structure_similarity(a.phash, b.phash)};
}

}  // namespace dw::cache
