// Shared by the pipeline tests: a consumer that drains the frame ring as the presenter would and
// checks the stream's order, and a small, fast configuration (64x64 keyframes, 4 in-between frames,
// the real taef2 VAE on the CPU when ../shared/models has it).
#pragma once

#include <fmt/format.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <stop_token>
#include <string>
#include <vector>

#include "core/config.h"
#include "core/frame.h"
#include "core/frame_ring.h"
#include "support/test_support.h"

namespace dw::pipeline {

struct Drained {
  std::uint64_t frames = 0;
  std::uint64_t pairs_completed = 0;
  std::vector<std::string> problems;
  bool any_black = false;
  std::uint64_t posters = 0;  // the first keyframe shown as it is, before the first pair
};

// Pops frames as the presenter would and checks the stream's order: pair k runs steps 0..N-1
// (step 0 = keyframe k itself), then pair k+1 starts at step 0; sequences increase by one.
// `after_pair(n)` runs after the n-th pair completes (to inject a fault mid-stream, say).
inline Drained drain_until(FrameRing<Frame>& ring, std::uint64_t pairs,
                           std::chrono::seconds deadline,
                           const std::function<void(std::uint64_t)>& after_pair = {}) {
  Drained d;
  std::uint64_t expect_sequence = 0, expect_keyframe = 1, expect_step = 0;
  const auto end = std::chrono::steady_clock::now() + deadline;
  while (d.pairs_completed < pairs && std::chrono::steady_clock::now() < end) {
    if (!ring.wait_for_data(std::stop_token{}, std::chrono::milliseconds(100))) continue;
    const Frame& f = *ring.peek();
    const FrameInfo& i = f.info;
    if (i.poster) {
      if (d.frames > 0)
        d.problems.push_back(fmt::format("a poster frame after {} frames", d.frames));
      ++d.posters;
      ring.pop();
      continue;
    }
    if (i.sequence != expect_sequence || i.keyframe_index != expect_keyframe ||
        i.step != expect_step)
      d.problems.push_back(
          fmt::format("got seq {} pair {} step {}, expected seq {} pair {} step {}", i.sequence,
                      i.keyframe_index, i.step, expect_sequence, expect_keyframe, expect_step));
    if (f.location == PixelLocation::Host) {
      std::uint64_t sum = 0;
      for (std::size_t p = 0; p < f.host_rgba.size(); p += 4)
        sum += f.host_rgba[p] + f.host_rgba[p + 1] + f.host_rgba[p + 2];
      if (sum == 0) d.any_black = true;
    }
    expect_sequence = i.sequence + 1;
    if (i.step + 1 == i.steps_in_pair) {
      expect_keyframe = i.keyframe_index + 1;
      expect_step = 0;
      ++d.pairs_completed;
      if (after_pair) after_pair(d.pairs_completed);
    } else {
      expect_keyframe = i.keyframe_index;
      expect_step = i.step + 1;
    }
    ++d.frames;
    ring.pop();
  }
  return d;
}

inline Config small_config(const test::ScratchDir& dir) {
  Config c;
  c.comfy.width = 64;
  c.comfy.height = 64;
  c.interpolation.frames_between = 4;
  c.playback.target_buffer_s = 2;
  c.display.content_fps = 30;
  c.cache.dir = dir / "cache";
  c.status.path = dir / "status.json";
  c.status.interval_s = 0.1;
  const auto models = test::shared_models_dir();
  if (!models.empty()) {
    c.vae.decoder_path = (models / "taef2_decoder.safetensors").string();
    c.vae.encoder_path = (models / "taef2_encoder.safetensors").string();
    c.vae.backend = VaeBackendKind::Cpu;
  } else {
    c.vae.decoder_path = "none";  // pixel crossfades, as the expectations say
  }
  return c;
}

}  // namespace dw::pipeline
