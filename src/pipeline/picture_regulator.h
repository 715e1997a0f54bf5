// Keeps the offline generator's keyframes looking like the seed set. Every keyframe is measured
// (cache/picture_measures.h) and steered toward a look (the measures of the seed the generator is
// currently folding toward), never outside the middle of each band of the whole set: the detail
// (unsharp or blur) from the high-frequency energy, the contrast gain from the luma spread, the
// chroma gain from saturation and colourfulness, a soft roll-off at black and white from the
// share of clipped values. The controller has no memory: one keyframe's correction depends only
// on that keyframe, so interleaved strands and restarts behave the same.
#pragma once

#include "cache/picture_measures.h"
#include "core/image.h"
#include "pipeline/picture_ops.h"

namespace dw::pipeline {

struct Regulation {
  double detail = 0;  // unsharp amount added to the base sharpening (negative: blur)
  ToneChange tone;    // contrast and chroma gains (the knee is decided after them)
};

class PictureRegulator {
 public:
  // `strength`: the share of the way from a measure to its target taken per keyframe (0..1).
  PictureRegulator(cache::PictureBands bands, double strength);

  // The correction for a picture with measures `m` that should look like `look`. A measure's
  // goal is the measure itself when it is within a tenth of the band's width of the look's value,
  // else the nearest end of that range; goals never leave the middle 60% of the band.
  Regulation plan(const cache::PictureMeasures& m, const cache::PictureMeasures& look) const;
  // The soft roll-off at black and white for a picture clipping more than its goal (0: none).
  double knee(const cache::PictureMeasures& m, const cache::PictureMeasures& look) const;
  // Measures `image`, applies `base_sharpen` plus the planned correction, then the knee its
  // clipping calls for; returns the measures after all of it.
  cache::PictureMeasures apply(Image& image, const cache::PictureMeasures& look,
                               double base_sharpen) const;

  const cache::PictureBands& bands() const { return bands_; }
  // Where one step takes a measure: `strength` of the way to its goal.
  double target(cache::Measure which, double value, double look) const;

 private:
  cache::PictureBands bands_;
  double strength_;
};

}  // namespace dw::pipeline
