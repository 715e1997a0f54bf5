// What a picture looks like, as six numbers, and the bands a healthy picture stays inside.
//
// The measures are taken on the same uniform sample grid as the cache's HSV histogram (at most
// 256 x 256 samples), so they cost well under a millisecond at any size:
//  - colourfulness: Hasler and Suesstrunk's M = sqrt(var(rg) + var(yb)) + 0.3 sqrt(mean(rg)^2 +
//    mean(yb)^2), rg = R - G, yb = (R + G) / 2 - B, in 0..255 units (grey 0, vivid ~100+);
//  - contrast: standard deviation of luma (BT.601 weights), 0..127.5;
//  - saturation: mean chroma (max - min of R, G, B) / 255, 0..1 (HSV's S would explode in the
//    darks; chroma does not, and it is the same for a picture and its negative);
//  - clipped: share of channel values at 0 or 255 in strongly coloured pixels (chroma, max - min
//    of R, G, B, at least kClippedMinChroma = 128): colours pushed to the gamut's edge, what an
//    img2img loop frying makes (a pure red pixel counts 3 of its 3, orange 255/128/0 counts 2).
//    Black, white, greys and dim colours are not counted: a night sky or a black background is
//    full of zeros and is no fried picture (it was counted, and refused by the cache, once);
//    a loop blowing out into black and white is still seen by contrast, 0..1;
//  - hf: high-frequency energy, the mean absolute luma difference to the right and lower
//    neighbours at full resolution, over the luma's standard deviation (at least 8), so it
//    measures how much of the picture's variation sits at the pixel scale, not how strong it is:
//    smooth pictures ~0.05, fine texture ~0.3, noise ~1;
//  - variation: how far the colours stray from the picture's mean colour, the RMS over R, G and
//    B of each channel's standard deviation, 0..127.5. Unlike contrast it also sees a pattern of
//    hues at one brightness; a featureless picture (one colour, or a crossfade through grey) is
//    near 0, a real picture 20..70.
// A real img2img loop (and the offline generator) fails by "frying" (contrast, saturation and
// clipping climb) or dissolving into noise (hf climbs); the degeneration detector watches these.
#pragma once

#include <array>
#include <span>
#include <string>

#include "core/image.h"

namespace dw::cache {

// The least chroma (0..255) a pixel needs for its values at 0 or 255 to count as clipped.
inline constexpr int kClippedMinChroma = 128;

enum class Measure { Colourfulness, Contrast, Saturation, Clipped, Hf, Variation };
inline constexpr int kMeasureCount = 6;
const char* measure_name(Measure m);

struct PictureMeasures {
  std::array<double, kMeasureCount> values{};

  double operator[](Measure m) const { return values[static_cast<int>(m)]; }
  double& operator[](Measure m) { return values[static_cast<int>(m)]; }
};

PictureMeasures measure_picture(const Image& image);

struct Band {
  double lo = 0;
  double hi = 0;
  bool contains(double v) const { return v >= lo && v <= hi; }
  double width() const { return hi - lo; }
};

// One band per measure. From a seed set: each measure's range over the seeds, widened by
// `margin` times that range (and by a small floor, so one seed still gives a usable band).
struct PictureBands {
  std::array<Band, kMeasureCount> bands{};

  const Band& operator[](Measure m) const { return bands[static_cast<int>(m)]; }
  Band& operator[](Measure m) { return bands[static_cast<int>(m)]; }
  bool contains(const PictureMeasures& m) const;
  // How far outside its band the worst measure is, in band widths (0 when inside).
  double excess(const PictureMeasures& m) const;
  // "contrast 71.2 above 64.0..70.1, ..." for the measures outside their band; empty when inside.
  std::string describe_outside(const PictureMeasures& m) const;
};

PictureBands bands_from_seeds(std::span<const Image> seeds, double margin);

}  // namespace dw::cache
