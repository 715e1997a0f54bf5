// The offline keyframe generator: with no ComfyUI server, keyframes still evolve. Each keyframe is
// the previous one moved by slow image-space transforms (zoom, rotation, a sinusoidal warp, hue
// drift), now and then folded toward a seed or cached image so the stream never converges to
// mush. Deterministic for a given seed.
#pragma once

#include <cstdint>
#include <random>

#include "core/image.h"

namespace dw::pipeline {

struct EvolveParams {
  double zoom = 1.0;  // > 1 zooms in about the centre
  double rotation_deg = 0;
  double warp_amplitude = 0;  // pixels, relative to a 512-pixel frame
  double warp_frequency = 1;  // waves across the frame
  double warp_phase = 0;
  double hue_shift_deg = 0;
};

// Draws a gentle random step from the generator's seed stream.
EvolveParams random_step(std::mt19937_64& rng);

// One step: the transforms applied to `src` (bilinear, mirrored at the edges), same size.
Image evolve(const Image& src, const EvolveParams& params);

// Counters the blur that repeated resampling causes: a 3x3 unsharp mask (`amount` of detail added
// back), then each channel's contrast is pulled toward `target_std` (at most `max_gain` per call).
void restore_detail(Image& image, double amount, double target_std, double max_gain = 1.25);

// Linear blend of two same-sized images: a * (1 - t) + b * t.
Image blend(const Image& a, const Image& b, double t);

// Rotates hue by `degrees` (rotation about the grey axis in RGB: cheap and exact for greys).
void rotate_hue(Image& image, double degrees);

}  // namespace dw::pipeline
