// The offline keyframe generator: with no ComfyUI server, keyframes still evolve. Each keyframe is
// the previous one moved by slow image-space transforms (zoom, rotation, a sinusoidal warp, hue
// drift), now and then folded toward a seed image, and regulated so that it keeps the look of the
// seed set (picture_regulator.h): a feedback loop of resampling and sharpening left to itself
// decays into clipped rainbow cells and pixel noise. Deterministic for a given seed.
#pragma once

#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "cache/picture_measures.h"
#include "core/config.h"
#include "core/image.h"
#include "pipeline/picture_ops.h"
#include "pipeline/picture_regulator.h"

namespace dw::pipeline {

struct EvolveParams {
  double zoom = 1.0;      // > 1 zooms in about the centre
  double centre_x = 0.5;  // the centre of zoom and rotation, as a share of width and height
  double centre_y = 0.5;
  double rotation_deg = 0;
  double warp_amplitude = 0;  // pixels, relative to a 512-pixel frame
  double warp_frequency = 1;  // waves across the frame
  double warp_phase = 0;
  double hue_shift_deg = 0;
};

// Draws a gentle random step from the generator's seed stream: `motion` scales zoom, rotation
// and warp; the hue turns by about `hue_drift_deg`.
EvolveParams random_step(std::mt19937_64& rng, double motion = 1.0, double hue_drift_deg = 4.0);

// One step: the transforms applied to `src` (bilinear, mirrored at the edges), same size.
Image evolve(const Image& src, const EvolveParams& params);

// One keyframe of the offline generator, with what happened to it.
struct OfflineStep {
  Image image;
  cache::PictureMeasures measures;  // of `image`
  bool folded = false;              // folded toward a seed on schedule
  bool reseeded = false;            // left its bands and was re-seeded from a seed image
  std::string left_band;            // why it was re-seeded: the measures outside, with bands
};

// The generator: seeds, their picture bands and the settings. The run spends `seed_every`
// keyframes with each seed in turn. Each step evolves the input, folds it toward the current seed
// every `fold_every` keyframes, and regulates it toward the current seed's look (its measures,
// eased from the previous seed's over the first quarter of its turn) inside the set's bands; a
// keyframe that is still outside a band is folded harder toward the seed (re-seeding) until it is
// inside, at worst replaced by the seed itself, which is inside by construction. Stateless
// between steps and deterministic for (input, index, seed).
class OfflineGenerator {
 public:
  OfflineGenerator(std::vector<Image> seeds, const OfflineConfig& config);

  OfflineStep step(const Image& input, std::uint64_t index, std::uint64_t seed) const;
  const cache::PictureBands& bands() const { return regulator_.bands(); }
  const OfflineConfig& config() const { return config_; }

 private:
  std::size_t seed_index(std::uint64_t index) const;
  cache::PictureMeasures look_at(std::uint64_t index) const;
  Image fitted_seed(std::size_t which, const Image& like) const;

  std::vector<Image> seeds_;
  std::vector<cache::PictureMeasures> seed_measures_;
  OfflineConfig config_;
  PictureRegulator regulator_;
};

}  // namespace dw::pipeline
