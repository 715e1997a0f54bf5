// The decode controller against simulated backends: it picks the smallest stride whose cost fits a
// pair's playing time, so playback is never starved by the VAE.
#include "pipeline/decode_controller.h"

#include <gtest/gtest.h>

namespace dw::pipeline {
namespace {

// Runs `pairs` pairs on a simulated backend that takes `decode_s` per decoded frame and
// `encode_s` per keyframe, feeding the controller what it would measure. Returns the last plan.
DecodePlan simulate(DecodeController& c, double decode_s, double encode_s, std::size_t total,
                    double fps, int pairs = 12) {
  DecodePlan p;
  for (int i = 0; i < pairs; ++i) {
    p = c.plan(total, fps, /*can_stride=*/true);
    c.record_encode(encode_s);
    c.record_decode(decode_s * static_cast<double>(p.decoded), p.decoded);
  }
  return p;
}

double pair_cost(const DecodePlan& p, double decode_s, double encode_s) {
  return encode_s + decode_s * static_cast<double>(p.decoded);
}

TEST(DecodeController, StartsWithTheCheapestPlanBeforeMeasuring) {
  DecodeController c;
  const DecodePlan p = c.plan(11, 12, true);
  EXPECT_EQ(p.stride, 11u);
  EXPECT_EQ(p.decoded, 2u) << "only the pair's two ends";
}

TEST(DecodeController, AFastBackendDecodesEveryFrame) {
  DecodeController c;
  const DecodePlan p = simulate(c, 0.004, 0.002, 11, 12);  // a GPU: 250 frames/s
  EXPECT_EQ(p.stride, 1u);
  EXPECT_EQ(p.decoded, 11u);
  EXPECT_TRUE(p.keeps_up);
  EXPECT_NEAR(c.decode_fps(), 250, 1);
}

TEST(DecodeController, ASlowBackendDecodesEveryKthFrameAndKeepsUp) {
  // 12.5 frames/s decode against 12 fps content and 11-frame pairs: all 11 would take 0.88 s + the
  // encode, over the 0.92 s / 1.3 budget; every 2nd fits.
  DecodeController c;
  const double decode_s = 0.08, encode_s = 0.05;
  const DecodePlan p = simulate(c, decode_s, encode_s, 11, 12);
  EXPECT_GT(p.stride, 1u);
  EXPECT_LT(p.stride, 11u);
  EXPECT_TRUE(p.keeps_up);
  const double budget = 11.0 / 12 / DecodeController::kHeadroom;
  EXPECT_LE(pair_cost(p, decode_s, encode_s), budget) << "playback would starve";
  // The smallest such stride: one less would not fit.
  DecodePlan denser = p;
  --denser.stride;
  denser.decoded = DecodeController::decodes_at(11, denser.stride);
  EXPECT_GT(pair_cost(denser, decode_s, encode_s), budget);
}

TEST(DecodeController, ABackendTooSlowForAnyStrideSaysSo) {
  // The 2-core CPU on taef2 at 512x512: seconds per frame. Only the ends are decoded, and the
  // controller reports that it does not keep up (the content clock then follows the supply).
  DecodeController c;
  const DecodePlan p = simulate(c, 2.5, 1.5, 11, 12);
  EXPECT_EQ(p.stride, 11u);
  EXPECT_EQ(p.decoded, 2u);
  EXPECT_FALSE(p.keeps_up);
}

TEST(DecodeController, FollowsABackendThatSpeedsUpAndSlowsDown) {
  DecodeController c;
  EXPECT_GT(simulate(c, 0.08, 0.05, 11, 12).stride, 1u);
  EXPECT_EQ(simulate(c, 0.004, 0.002, 11, 12, 30).stride, 1u) << "faster: every frame again";
  EXPECT_GT(simulate(c, 0.2, 0.05, 11, 12, 30).stride, 2u) << "slower again: sparser";
}

TEST(DecodeController, GpuFramesAreNeverStrided) {
  DecodeController c;
  c.record_decode(0.5, 1);
  const DecodePlan p = c.plan(11, 12, /*can_stride=*/false);
  EXPECT_EQ(p.stride, 1u);
  EXPECT_EQ(p.decoded, 11u);
  EXPECT_FALSE(p.keeps_up);
}

TEST(DecodeController, DecodeCountsPerStride) {
  EXPECT_EQ(DecodeController::decodes_at(11, 1), 11u);
  EXPECT_EQ(DecodeController::decodes_at(11, 2), 7u);  // 0 2 4 6 8 10 + the end
  EXPECT_EQ(DecodeController::decodes_at(11, 5), 4u);  // 0 5 10 + the end
  EXPECT_EQ(DecodeController::decodes_at(1, 1), 1u);
}

}  // namespace
}  // namespace dw::pipeline
