// What the ComfyUI source's tests share (comfy_source_test.cpp, comfy_leftovers_test.cpp): the
// options for the fake server, keyframe requests whose flat colour encodes their index, a loop
// that submits and collects like the orchestrator, and the check that every keyframe is its own
// input inverted (the fake's "generation").
#pragma once

#include <gtest/gtest.h>

#include <array>
#include <chrono>
#include <map>
#include <string>
#include <vector>

#include "comfy/comfy_source.h"
#include "pipeline/keyframe_source.h"

namespace dw::comfy::test_helpers {

using namespace std::chrono_literals;
using pipeline::Keyframe;
using pipeline::KeyframeRequest;
using Clock = std::chrono::steady_clock;

inline constexpr int kSize = 64;

inline ComfySourceOptions options_for(std::vector<std::string> urls) {
  ComfySourceOptions o;
  o.urls = std::move(urls);
  o.defaults.checkpoint = "v1-5-pruned-emaonly.safetensors";
  o.defaults.width = o.defaults.height = kSize;
  o.in_flight = 2;
  o.request_timeout_s = 5.0;
  o.connect_timeout_s = 1.0;
  o.retry_base_s = 0.02;
  o.retry_max_s = 0.3;
  return o;
}

// Keyframe k's input: a flat colour that encodes k, so the output tells which input it came from.
inline std::array<std::uint8_t, 3> colour_of(std::uint64_t k) {
  return {static_cast<std::uint8_t>(20 + 13 * k), static_cast<std::uint8_t>(200 - 7 * k),
          static_cast<std::uint8_t>(90 + 3 * k)};
}

inline KeyframeRequest request(std::uint64_t k) {
  KeyframeRequest r;
  r.index = k;
  r.input = Image(kSize, kSize);
  const auto c = colour_of(k);
  for (int y = 0; y < kSize; ++y)
    for (int x = 0; x < kSize; ++x) {
      std::uint8_t* p = r.input.pixel(x, y);
      p[0] = c[0], p[1] = c[1], p[2] = c[2], p[3] = 255;
    }
  r.prompt = {"a lighthouse in fog", "blurry"};
  r.seed = 1000 + k;
  return r;
}

// Submits keyframes [0, count) as the source takes them and collects each result, like the
// orchestrator. Fails on a duplicate; stops at the deadline.
inline std::map<std::uint64_t, Keyframe> run_keyframes(ComfyKeyframeSource& source,
                                                       std::uint64_t count,
                                                       std::chrono::milliseconds within = 30s) {
  std::map<std::uint64_t, Keyframe> got;
  std::uint64_t next = 0;
  const auto deadline = Clock::now() + within;
  while (got.size() < count && Clock::now() < deadline) {
    while (next < count && source.submit(request(next))) ++next;
    if (auto k = source.next(std::stop_token{}, 100ms)) {
      EXPECT_FALSE(got.count(k->index)) << "keyframe " << k->index << " came back twice";
      got[k->index] = std::move(*k);
    }
  }
  return got;
}

// The fake's "generation" inverts the input: every keyframe must be its own input, inverted.
inline void expect_complete_and_correct(const std::map<std::uint64_t, Keyframe>& got,
                                        std::uint64_t count) {
  ASSERT_EQ(got.size(), count) << "a keyframe is missing";
  for (std::uint64_t k = 0; k < count; ++k) {
    ASSERT_TRUE(got.count(k)) << "keyframe " << k << " is missing";
    const Keyframe& kf = got.at(k);
    ASSERT_EQ(kf.image.width, kSize);
    ASSERT_EQ(kf.image.height, kSize);
    const auto c = colour_of(k);
    const std::uint8_t* p = kf.image.pixel(kSize / 2, kSize / 2);
    EXPECT_EQ(p[0], 255 - c[0]) << "keyframe " << k;
    EXPECT_EQ(p[1], 255 - c[1]) << "keyframe " << k;
    EXPECT_EQ(p[2], 255 - c[2]) << "keyframe " << k;
    EXPECT_EQ(p[3], 255);
  }
}

}  // namespace dw::comfy::test_helpers
