#include "render/content_clock.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <bit>
#include <cmath>

#include "core/config.h"

namespace dw::render {
namespace {

ClockInputs steady(double dt, std::size_t buffered) {
  ClockInputs in;
  in.dt = dt;
  in.content_fps = 12;
  in.buffered = buffered;
  in.start_frames = 10;
  in.target_frames = 20;
  in.has_next = true;
  return in;
}

TEST(ContentClock, WaitsForTheMinimumBufferThenPlays) {
  ContentClock clock;
  EXPECT_EQ(clock.advance(steady(1.0 / 60, 5)), 0);
  EXPECT_FALSE(clock.playing());
  clock.advance(steady(1.0 / 60, 10));
  EXPECT_TRUE(clock.playing());
}

TEST(ContentClock, BlendsContinuouslyAtDisplayRate) {
  // A healthy buffer (half the target) keeps rate 1: 12 content frames per second at 60 Hz is a
  // blend step of 0.2 per display frame and one content frame every 5 display frames.
  ContentClock clock;
  int steps = 0;
  double last_blend = 0;
  for (int frame = 0; frame < 600; ++frame) {
    steps += clock.advance(steady(1.0 / 60, 10));
    if (frame > 0) {
      // Every display frame moves the blend by the same 0.2 (modulo the step to the next frame).
      const double moved = std::fmod(clock.blend() - last_blend + 1.0, 1.0);
      EXPECT_NEAR(std::min(moved, 1.0 - moved), 0.2, 1e-6) << "frame " << frame;
    }
    last_blend = clock.blend();
  }
  EXPECT_NEAR(steps, 120, 1);
}

TEST(ContentClock, HoldsTheCurrentFrameWhenTheNextIsMissing) {
  ContentClock clock;
  clock.advance(steady(1.0 / 60, 10));
  ClockInputs starving = steady(0.5, 0);
  starving.has_next = false;
  EXPECT_EQ(clock.advance(starving), 0);
  EXPECT_EQ(clock.blend(), 0.0) << "no next frame: show the current one fully, no jump later";
}

TEST(ContentClock, RateEasesTowardTheBufferAndStaysInItsLimits) {
  EXPECT_DOUBLE_EQ(ContentClock::target_rate(0.5, 0.6, 1.15), 1.0);
  EXPECT_DOUBLE_EQ(ContentClock::target_rate(0.0, 0.6, 1.15), 0.6);
  EXPECT_DOUBLE_EQ(ContentClock::target_rate(1.0, 0.6, 1.15), 1.15);
  ContentClock clock;
  double previous = 1.0;
  for (int i = 0; i < 600; ++i) {
    ClockInputs low = steady(1.0 / 60, 1);
    low.start_frames = 0;
    clock.advance(low);  // nearly empty buffer: slow down, gently
    EXPECT_LE(clock.rate_factor(), previous + 1e-12);
    EXPECT_GT(previous - clock.rate_factor(), -1e-12);
    EXPECT_LT(previous - clock.rate_factor(), 0.01) << "no jumps";
    previous = clock.rate_factor();
  }
  EXPECT_NEAR(clock.rate_factor(), ContentClock::target_rate(1.0 / 20, 0.6, 1.15), 0.02);
}

TEST(ContentClock, FollowsASlowProducerSmoothlyInsteadOfStalling) {
  // The producer delivers 3 frames/s against a 12 fps content rate: the clock slows toward the
  // supply rate (below min_rate), gently, and plays about as fast as frames come.
  ContentClock clock;
  double previous = 1.0;
  for (int i = 0; i < 60 * 30; ++i) {
    ClockInputs in = steady(1.0 / 60, 10);
    in.supply_fps = 3;
    clock.advance(in);
    EXPECT_LT(std::abs(previous - clock.rate_factor()), 0.01) << "no jumps";
    previous = clock.rate_factor();
  }
  EXPECT_NEAR(clock.rate_factor() * 12, 3, 0.1);
  EXPECT_LT(clock.rate_factor(), 0.6) << "below min_rate: the clock follows what is produced";
  // A fast producer does not lift the rate above what the buffer asks for.
  EXPECT_DOUBLE_EQ(ContentClock::supplied_rate(0.5, 5.0, 0.6, 1.15), 1.0);
  EXPECT_GE(ContentClock::supplied_rate(0.0, 0.001, 0.6, 1.15), ContentClock::kMinSupplyRate);
}

TEST(SupplyMeter, MeasuresBurstyArrivals) {
  // A pair of 11 frames every 6 s (one burst per 360 display frames) is 11/6 frames per second.
  SupplyMeter meter;
  for (int i = 0; i < 360 * 10; ++i) meter.add(1.0 / 60, i % 360 == 0 ? 11 : 0);
  ASSERT_TRUE(meter.known());
  EXPECT_NEAR(meter.fps(), 11.0 / 6, 0.1);
  // Nothing comes any more: the estimate decays toward zero.
  for (int i = 0; i < 60 * 600; ++i) meter.add(1.0 / 60, 0);
  EXPECT_LT(meter.fps(), 0.1);
  // Frames come again (at another rate): the dry spell is not averaged in.
  for (int i = 0; i < 360 * 2 + 1; ++i) meter.add(1.0 / 60, i % 180 == 0 ? 11 : 0);
  ASSERT_TRUE(meter.known());
  EXPECT_NEAR(meter.fps(), 11.0 / 3, 0.2);
}

// Generation paused for an hour (closing hours, the operator, a server away): the ring ran dry.
// When frames come again the picture plays them at about the normal rate within seconds, not at
// the crawl an hour of "no supply" would suggest.
TEST(ContentClock, PlaysAtOnceAfterAnHoursPause) {
  SupplyMeter meter;
  ContentClock clock;
  std::size_t buffered = 0;
  const auto display_frame = [&](bool produce, int i) {
    const std::size_t arrived = produce && i % 33 == 0 ? 11 : 0;  // a pair of 11 every 0.55 s
    buffered += arrived;
    meter.add(1.0 / 60, arrived);
    ClockInputs in = steady(1.0 / 60, buffered);
    in.supply_fps = meter.known() ? meter.fps() : 0;
    in.has_next = buffered > 0;
    const int steps = std::min<int>(clock.advance(in), static_cast<int>(buffered));
    buffered -= steps;
    return steps;
  };
  for (int i = 0; i < 60 * 600; ++i) display_frame(true, i);  // ten minutes of supply
  for (int i = 0; i < 60 * 3600; ++i) display_frame(false, i);
  EXPECT_EQ(buffered, 0u) << "the pause emptied the buffer";
  int shown = 0;
  for (int i = 0; i < 60 * 4; ++i) shown += display_frame(true, i);
  // 12 content frames/s at rate 0.6..1.15 (the buffer's rule) for 4 s, less the ease from the
  // slowest rate (2 s time constant): well over 20. The crawl shown before was 1.
  EXPECT_GE(shown, 20) << "rate " << clock.rate_factor() << ", buffered " << buffered;
}

TEST(BufferLevels, TheDefaultsCanBeReached) {
  const Config c;  // the shipped defaults
  const BufferLevels l =
      buffer_levels(c.playback.min_buffer_s, c.playback.target_buffer_s, c.display.content_fps,
                    std::bit_ceil(std::size_t(c.playback.ring_capacity)));
  // Not capped: the configured target fits in the ring with the presenter's frames held aside.
  EXPECT_EQ(l.target_frames, static_cast<std::size_t>(
                                 std::ceil(c.playback.target_buffer_s * c.display.content_fps)));
  EXPECT_LE(l.target_frames + 2, std::size_t(c.playback.ring_capacity));
  EXPECT_LE(c.playback.min_buffer_s, c.playback.target_buffer_s);
  EXPECT_EQ(l.start_frames,
            static_cast<std::size_t>(std::ceil(c.playback.min_buffer_s * c.display.content_fps)));
}

TEST(BufferLevels, ATargetBeyondTheRingIsCappedToWhatItHolds) {
  const BufferLevels l = buffer_levels(20, 30, 12, 256);
  EXPECT_EQ(l.target_frames, 192u);
  EXPECT_LE(l.start_frames, l.target_frames);
}

}  // namespace
}  // namespace dw::render
