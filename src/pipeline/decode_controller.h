// How many frames of a pair the VAE decodes, chosen from what the backend delivers. A pair of
// N in-between frames is N + 1 content frames, played in (N + 1) / content_fps seconds; if the
// backend cannot encode the next keyframe and decode them all in that time (with headroom for the
// content clock's fastest rate), playback would starve. The controller then decodes every k-th
// frame (and the pair's end), and the frames between are blended in pixel space from their decoded
// neighbours: the stream keeps its length and its latent-path look at 1/k of the cost. Pure logic:
// the interpolation worker feeds it measured times and asks for the stride.
#pragma once

#include <cstddef>

namespace dw::pipeline {

struct DecodePlan {
  std::size_t stride = 1;   // decode frames 0, k, 2k, ... (1: every frame)
  std::size_t decoded = 0;  // VAE decodes per pair at this stride
  bool keeps_up = true;     // the plan fits the pair's playing time
};

class DecodeController {
 public:
  // Headroom over real time: the content clock may play up to 1.15x, and timings vary.
  static constexpr double kHeadroom = 1.3;
  static constexpr double kSmoothing = 0.3;  // weight of a new measurement

  // Decodes at this stride cost `count` frames' time; one call per measurement.
  void record_decode(double seconds, std::size_t count);
  void record_encode(double seconds);
  // The plan for a pair of `total` content frames at `content_fps`. Before anything has been
  // measured, the cheapest plan (only the pair's ends), so a slow backend cannot hold up the start.
  DecodePlan plan(std::size_t total, double content_fps, bool can_stride) const;

  bool measured() const { return decode_s_ > 0; }
  double decode_fps() const { return decode_s_ > 0 ? 1.0 / decode_s_ : 0.0; }
  double encode_s() const { return encode_s_; }
  // Decodes a pair of `total` frames needs at stride k (the pair's end is one more when k > 1).
  static std::size_t decodes_at(std::size_t total, std::size_t stride);

 private:
  double decode_s_ = 0;  // seconds per decoded frame, smoothed
  double encode_s_ = 0;  // seconds per keyframe encode, smoothed
};

}  // namespace dw::pipeline
