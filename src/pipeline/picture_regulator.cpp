#include "pipeline/picture_regulator.h"

#include <algorithm>
#include <cmath>

namespace dw::pipeline {
namespace {

using cache::Measure;

constexpr double kInner = 0.2;      // the goals lie in the middle 60% of each band
constexpr double kTolerance = 0.1;  // of a band's width: how close to the look is close enough
constexpr double kMaxGain = 1.25;
// Roughly how much one unit of unsharp amount raises hf (relative): the detail controller's
// inverse gain.
constexpr double kDetailPerUnit = 0.8;

double ratio_gain(double target, double value) {
  if (value <= 1e-6) return kMaxGain;
  return std::clamp(target / value, 1.0 / kMaxGain, kMaxGain);
}

}  // namespace

PictureRegulator::PictureRegulator(cache::PictureBands bands, double strength)
    : bands_(bands), strength_(std::clamp(strength, 0.0, 1.0)) {}

double PictureRegulator::target(Measure which, double value, double look) const {
  const cache::Band& b = bands_[which];
  const double tolerance = kTolerance * b.width();
  const double near_look = std::clamp(value, look - tolerance, look + tolerance);
  const double goal = std::clamp(near_look, b.lo + kInner * b.width(), b.hi - kInner * b.width());
  return value + strength_ * (goal - value);
}

Regulation PictureRegulator::plan(const cache::PictureMeasures& m,
                                  const cache::PictureMeasures& look) const {
  const auto goal = [&](Measure which) { return target(which, m[which], look[which]); };
  Regulation r;
  if (strength_ <= 0) return r;
  const double hf = m[Measure::Hf];
  const double hf_ratio = goal(Measure::Hf) / std::max(hf, 1e-3);
  r.detail = std::clamp((hf_ratio - 1.0) / kDetailPerUnit, -0.9, 0.3);
  r.tone.contrast_gain = ratio_gain(goal(Measure::Contrast), m[Measure::Contrast]);
  const double saturation = ratio_gain(goal(Measure::Saturation), m[Measure::Saturation]);
  const double colourfulness = ratio_gain(goal(Measure::Colourfulness), m[Measure::Colourfulness]);
  r.tone.chroma_gain = std::sqrt(saturation * colourfulness);
  return r;
}

double PictureRegulator::knee(const cache::PictureMeasures& m,
                              const cache::PictureMeasures& look) const {
  // Clipping: roll off the ends, more the further above its goal it is.
  const double clipped = m[Measure::Clipped];
  const double goal = target(Measure::Clipped, clipped, look[Measure::Clipped]);
  if (clipped <= goal) return 0;
  const double width = std::max(bands_[Measure::Clipped].width(), 1e-3);
  return std::clamp(48.0 * (clipped - goal) / width, 4.0, 32.0);
}

cache::PictureMeasures PictureRegulator::apply(Image& image, const cache::PictureMeasures& look,
                                               double base_sharpen) const {
  const Regulation r = plan(cache::measure_picture(image), look);
  adjust_detail(image, base_sharpen + r.detail);
  if (r.tone.contrast_gain != 1.0 || r.tone.chroma_gain != 1.0) adjust_tone(image, r.tone);
  // Gains and sharpening are what clip, so clipping is judged after them.
  cache::PictureMeasures after = cache::measure_picture(image);
  if (const double k = knee(after, look); k > 0) {
    adjust_tone(image, ToneChange{1.0, 1.0, k});
    after = cache::measure_picture(image);
  }
  return after;
}

}  // namespace dw::pipeline
