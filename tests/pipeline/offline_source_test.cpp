#include "pipeline/offline_source.h"

#include <gtest/gtest.h>

#include "../cache/test_images.h"
#include "cache/collapse_detector.h"
#include "cache/features.h"
#include "pipeline/offline_generator.h"
#include "pipeline/pipeline.h"

namespace dw::pipeline {
namespace {

TEST(OfflineGenerator, EvolutionChangesTheImageGentlyAndDeterministically) {
  const Image a = test::pattern_image(3, 128, 128);
  std::mt19937_64 r1(42), r2(42);
  const Image b = evolve(a, random_step(r1));
  const Image b2 = evolve(a, random_step(r2));
  EXPECT_EQ(b.rgba, b2.rgba) << "same seed, same step";
  EXPECT_NE(b.rgba, a.rgba);
  const cache::Similarity s =
      cache::similarity(cache::compute_features(a), cache::compute_features(b));
  EXPECT_GT(s.structure, 0.7) << "one step keeps the composition";
  EXPECT_GT(s.colour, 1.5) << "one step keeps most of the colours";
}

TEST(OfflineGenerator, HueRotationKeepsGreysAndFullTurnIsIdentity) {
  Image img = test::pattern_image(9, 32, 32);
  const Image original = img;
  rotate_hue(img, 120);
  rotate_hue(img, 120);
  rotate_hue(img, 120);
  for (std::size_t i = 0; i < img.rgba.size(); ++i) EXPECT_NEAR(img.rgba[i], original.rgba[i], 3);
  Image grey;
  grey.width = grey.height = 2;
  grey.rgba.assign(16, 128);
  rotate_hue(grey, 77);
  for (std::uint8_t v : grey.rgba) EXPECT_EQ(v, 128);
}

TEST(OfflineKeyframeSource, ReturnsEveryRequestInOrder) {
  OfflineKeyframeSource source({test::pattern_image(1, 64, 64)}, OfflineSourceOptions{});
  Image current = test::pattern_image(2, 64, 64);
  std::uint64_t next_to_submit = 1;
  for (std::uint64_t k = 1; k <= 20; ++k) {
    while (next_to_submit <= 20 && next_to_submit < k + 3 &&
           source.submit(KeyframeRequest{next_to_submit, current, {}, next_to_submit * 977}))
      ++next_to_submit;
    auto kf = source.next(std::stop_token{}, std::chrono::seconds(10));
    ASSERT_TRUE(kf.has_value()) << "keyframe " << k;
    EXPECT_EQ(kf->index, k);
    EXPECT_EQ(kf->image.width, 64);
    EXPECT_EQ(kf->origin, "offline");
  }
  EXPECT_EQ(source.pending(), 0u);
}

TEST(OfflineKeyframeSource, AFeedbackLoopDoesNotCollapseIntoOneColour) {
  // 120 keyframes of feedback: the colour spread must survive (seed folds keep it alive).
  OfflineKeyframeSource source({test::pattern_image(5, 64, 64), test::pattern_image(6, 64, 64)},
                               OfflineSourceOptions{});
  Image current = test::pattern_image(7, 64, 64);
  for (std::uint64_t k = 1; k <= 120; ++k) {
    ASSERT_TRUE(source.submit(KeyframeRequest{k, current, {}, k}));
    auto kf = source.next(std::stop_token{}, std::chrono::seconds(10));
    ASSERT_TRUE(kf.has_value());
    current = kf->image;
  }
  double mean = 0, sq = 0;
  const std::size_t n = current.rgba.size() / 4;
  for (std::size_t i = 0; i < n; ++i) {
    const double v = current.rgba[i * 4];
    mean += v;
    sq += v * v;
  }
  mean /= n;
  EXPECT_GT(std::sqrt(sq / n - mean * mean), 8.0) << "the red channel still varies";
}

}  // namespace
}  // namespace dw::pipeline

namespace dw::pipeline {
namespace {

// Issue 11's proof that the offline generator stays beautiful: 3000 keyframes of feedback from the
// shipped seeds (at a small size, so it is quick), each growing from the one before. Every 10th is
// measured: it stays inside the seed set's bands (colourfulness, contrast, saturation, clipped
// share, high-frequency energy), and the degeneration detector never sees it fry or turn to noise.
TEST(OfflineGenerator, ThreeThousandKeyframesStayInsideTheSeedBands) {
  const std::vector<Image> seeds = load_seed_images("", 96, 96);
  ASSERT_GE(seeds.size(), 4u) << "the shipped seeds (assets/seeds) are found";
  const OfflineConfig config;
  const OfflineGenerator generator(seeds, config);
  // The bands as the issue defines them, computed here from the seeds, not taken from the code.
  const cache::PictureBands bands = cache::bands_from_seeds(seeds, config.band_margin);
  cache::CollapseDetector detector{CollapseConfig{}};
  Image current = seeds.front();
  int sampled = 0, reseeded = 0;
  for (std::uint64_t k = 2; k <= 3000; ++k) {
    OfflineStep step = generator.step(current, k, k * 2654435761u);
    reseeded += step.reseeded;
    current = std::move(step.image);
    if (k % 10 != 0) continue;
    ++sampled;
    const cache::ImageFeatures f = cache::compute_features(current);
    ASSERT_TRUE(bands.contains(f.measures))
        << "keyframe " << k << ": " << bands.describe_outside(f.measures);
    const cache::CollapseState s = detector.add_keyframe(f);
    ASSERT_FALSE(s.degeneration.forced())
        << "keyframe " << k << ": fry climb " << s.degeneration.fry_delta << ", noise climb "
        << s.degeneration.noise_delta;
  }
  EXPECT_EQ(sampled, 300);
  EXPECT_LT(reseeded, 300) << "re-seeding is the fallback, not the way the loop runs";
}

TEST(OfflineGenerator, ARegulatedStepPullsAFriedOrNoisyPictureBackIntoItsBands) {
  const std::vector<Image> seeds = load_seed_images("", 96, 96);
  const OfflineGenerator generator(seeds, OfflineConfig{});
  Image fried = seeds[1];
  adjust_tone(fried, ToneChange{3.0, 3.0, 0.0});
  Image noisy = seeds[1];
  std::mt19937 rng(5);
  for (std::size_t i = 0; i < noisy.rgba.size(); ++i)
    if (i % 4 != 3) noisy.rgba[i] = static_cast<std::uint8_t>(rng());
  for (const Image* bad : {&fried, &noisy}) {
    ASSERT_FALSE(generator.bands().contains(cache::measure_picture(*bad)));
    const OfflineStep step = generator.step(*bad, 5, 77);
    EXPECT_TRUE(generator.bands().contains(step.measures))
        << generator.bands().describe_outside(step.measures);
    EXPECT_TRUE(generator.bands().contains(cache::measure_picture(step.image)));
  }
}

}  // namespace
}  // namespace dw::pipeline
