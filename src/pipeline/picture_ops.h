// The pixel operations the offline generator and its regulator are made of. Each works on 8-bit
// RGBA in place (or returns a new image of the same size) and leaves alpha at 255.
#pragma once

#include "core/image.h"

namespace dw::pipeline {

// Linear blend of two same-sized images: a * (1 - t) + b * t.
Image blend(const Image& a, const Image& b, double t);

// Rotates hue by `degrees` (rotation about the grey axis in RGB: cheap and exact for greys).
void rotate_hue(Image& image, double degrees);

// A 3x3 unsharp mask on luma: each channel += amount * (luma - 3x3 box mean of luma), so edges
// sharpen without colour fringes. amount > 0 sharpens, amount < 0 blurs (-1: luma box blur).
void adjust_detail(Image& image, double amount);

// A tone change about the picture's mean luma, in luma + chroma (value - luma per channel):
// luma deviations scaled by `contrast_gain`, chroma by `chroma_gain`. Then `knee` > 0 rolls
// values off softly within `knee` levels of 0 and 255 instead of clipping them, so no value
// reaches either end (knee 0: hard clipping as usual).
struct ToneChange {
  double contrast_gain = 1.0;
  double chroma_gain = 1.0;
  double knee = 0.0;
};
void adjust_tone(Image& image, const ToneChange& change);

// Mean absolute difference of the RGB values of two same-sized images, in levels (0..255), over
// every `step`-th pixel (a sample is enough to tell "the same picture" from "a different one").
// Images of different sizes differ: 255.
double mean_abs_difference(const Image& a, const Image& b, std::size_t step = 7);

}  // namespace dw::pipeline
