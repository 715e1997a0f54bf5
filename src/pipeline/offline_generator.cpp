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

EvolveParams random_step(std::mt19937_64& rng, double motion, double hue_drift_deg) {
  std::uniform_real_distribution<double> u(-1.0, 1.0);
  EvolveParams p;
  p.zoom = 1.0 + motion * (0.02 + 0.015 * u(rng));
  p.rotation_deg = motion * 1.5 * u(rng);
  p.warp_amplitude = motion * (3.0 + 2.0 * u(rng));
  p.warp_frequency = 1.5 + 1.0 * u(rng);
  p.warp_phase = std::numbers::pi * u(rng);
  p.hue_shift_deg = hue_drift_deg * (1.0 + 0.75 * u(rng));
  return p;
}

Image evolve(const Image& src, const EvolveParams& params) {
  DW_CHECK(!src.empty(), "evolve needs a non-empty image");
  Image out;
  out.width = src.width;
  out.height = src.height;
  out.rgba.resize(src.rgba.size());
  const double cx = (src.width - 1) * params.centre_x, cy = (src.height - 1) * params.centre_y;
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

OfflineGenerator::OfflineGenerator(std::vector<Image> seeds, const OfflineConfig& config)
    : seeds_(std::move(seeds)),
      config_(config),
      regulator_(cache::bands_from_seeds(seeds_, config.band_margin), config.regulation) {
  for (const Image& seed : seeds_) seed_measures_.push_back(cache::measure_picture(seed));
}

std::size_t OfflineGenerator::seed_index(std::uint64_t index) const {
  return (index / static_cast<std::uint64_t>(std::max(config_.seed_every, 1))) % seeds_.size();
}

cache::PictureMeasures OfflineGenerator::look_at(std::uint64_t index) const {
  const auto every = static_cast<std::uint64_t>(std::max(config_.seed_every, 1));
  const cache::PictureMeasures& now = seed_measures_[seed_index(index)];
  if (index < every) return now;
  const cache::PictureMeasures& before = seed_measures_[seed_index(index - every)];
  const double ease =
      std::min(1.0, static_cast<double>(index % every) / std::max(every / 4.0, 1.0));
  cache::PictureMeasures look;
  for (int i = 0; i < cache::kMeasureCount; ++i)
    look.values[i] = before.values[i] + ease * (now.values[i] - before.values[i]);
  return look;
}

Image OfflineGenerator::fitted_seed(std::size_t which, const Image& like) const {
  const Image& seed = seeds_[which];
  return seed.width == like.width && seed.height == like.height
             ? seed
             : resize_cover(seed, like.width, like.height);
}

OfflineStep OfflineGenerator::step(const Image& input, std::uint64_t index,
                                   std::uint64_t seed) const {
  std::mt19937_64 rng(seed);
  OfflineStep out;
  EvolveParams motion = random_step(rng, config_.motion, config_.hue_drift_deg);
  // The centre wanders on a slow Lissajous path: a fixed centre draws radial streaks.
  const double t = static_cast<double>(index);
  motion.centre_x = 0.5 + 0.3 * std::sin(t * 0.0131);
  motion.centre_y = 0.5 + 0.3 * std::sin(t * 0.0173 + 1.0);
  out.image = evolve(input, motion);
  const Image seed_image = fitted_seed(seed_index(index), out.image);
  if (config_.fold_every > 0 && index % static_cast<std::uint64_t>(config_.fold_every) == 0) {
    out.image = blend(out.image, seed_image, config_.fold_weight);
    out.folded = true;
  }
  const cache::PictureMeasures look = look_at(index);
  out.measures = regulator_.apply(out.image, look, config_.sharpen);
  // Still outside a band: re-seed, each try further toward the seed; the seed itself always fits.
  for (const double weight : {0.4, 0.7}) {
    if (bands().contains(out.measures)) return out;
    if (!out.reseeded) out.left_band = bands().describe_outside(out.measures);
    out.reseeded = true;
    out.image = blend(out.image, seed_image, weight);
    out.measures = regulator_.apply(out.image, look, 0.0);
  }
  if (!bands().contains(out.measures)) {
    out.image = seed_image;
    out.measures = cache::measure_picture(seed_image);
  }
  return out;
}

}  // namespace dw::pipeline
