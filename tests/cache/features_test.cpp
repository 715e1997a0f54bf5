#include "cache/features.h"

#include <gtest/gtest.h>

#include <bit>
#include <numeric>

#include "test_images.h"

namespace dw::cache {
namespace {

TEST(Features, HistogramChannelsEachSumToOne) {
  const ImageFeatures f = compute_features(test::pattern_image(3, 300, 200));
  for (int c = 0; c < 3; ++c) {
    const float sum =
        std::accumulate(f.hsv.begin() + c * kHsvBins, f.hsv.begin() + (c + 1) * kHsvBins, 0.0f);
    EXPECT_NEAR(sum, 1.0f, 1e-5f);
  }
}

TEST(Features, IdenticalImagesAreFullySimilar) {
  const Image img = test::pattern_image(7);
  const Similarity s = similarity(compute_features(img), compute_features(img));
  EXPECT_NEAR(s.colour, 3.0, 1e-5);
  EXPECT_EQ(s.structure, 1.0);
}

TEST(Features, SolidRedAndSolidBlueShareOnlySaturationAndValue) {
  Image red, blue;
  for (Image* img : {&red, &blue}) {
    img->width = img->height = 16;
    img->rgba.assign(16 * 16 * 4, 255);
  }
  for (std::size_t i = 0; i < red.rgba.size(); i += 4) {
    red.rgba[i + 1] = red.rgba[i + 2] = 0;
    blue.rgba[i] = blue.rgba[i + 1] = 0;
  }
  // Hue differs completely; saturation and value are both 1 in either image.
  EXPECT_NEAR(colour_similarity(compute_features(red), compute_features(blue)), 2.0, 1e-5);
}

TEST(Features, PerceptualHashIsStableUnderSmallChangesAndTellsImagesApart) {
  const Image a = test::pattern_image(11, 128, 128);
  const std::uint64_t ha = perceptual_hash(a);
  EXPECT_LE(std::popcount(ha ^ perceptual_hash(test::nudged(a, 12))), 4)
      << "a slightly brighter copy must hash almost the same";
  EXPECT_LE(std::popcount(ha ^ perceptual_hash(resize_cover(a, 200, 200))), 6)
      << "a rescaled copy must hash almost the same";
  int far = 0;
  for (std::uint32_t seed = 100; seed < 110; ++seed)
    far += std::popcount(ha ^ perceptual_hash(test::pattern_image(seed, 128, 128))) >= 14;
  EXPECT_GE(far, 8) << "different patterns must mostly differ in many bits";
}

TEST(Features, LatentStatisticsSimilarity) {
  std::vector<float> latent(4 * 16);
  for (std::size_t i = 0; i < latent.size(); ++i) latent[i] = static_cast<float>(i % 7) - 3;
  ImageFeatures a, b;
  add_latent_stats(a, latent, 4);
  add_latent_stats(b, latent, 4);
  ASSERT_EQ(a.latent_stats.size(), 8u);
  EXPECT_DOUBLE_EQ(latent_similarity(a, b), 1.0);
  for (float& v : latent) v *= 3;
  add_latent_stats(b, latent, 4);
  EXPECT_LT(latent_similarity(a, b), 0.7);
  EXPECT_EQ(latent_similarity(a, ImageFeatures{}), 0.0);
}

}  // namespace
}  // namespace dw::cache
