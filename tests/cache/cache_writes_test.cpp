// What the cache writes to disk: degenerate frames never, refused frames never, and at the
// defaults no more than 1 GB a day (an installation runs from an SD card). Time is simulated: the
// cache's clock is a variable the test moves.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <optional>
#include <random>

#include "cache/diversity_cache.h"
#include "cache/picture_measures.h"
#include "core/config.h"
#include "support/test_support.h"
#include "test_images.h"

namespace dw::cache {
namespace {

using std::chrono::steady_clock;

std::uint64_t png_bytes_on_disk(const std::filesystem::path& dir) {
  std::uint64_t bytes = 0;
  for (const auto& f : std::filesystem::directory_iterator(dir))
    if (f.path().extension() == ".png") bytes += f.file_size();
  return bytes;
}

// A full-size frame whose PNG does not compress (the worst case for bytes written).
Image incompressible_frame(std::mt19937& rng, int w, int h) {
  Image img(w, h);
  for (auto& v : img.rgba) v = static_cast<std::uint8_t>(rng());
  return img;
}

// Features of a frame unlike any other: random histograms and hash, healthy measures.
ImageFeatures unique_features(std::mt19937& rng) {
  ImageFeatures f;
  std::uniform_real_distribution<float> u(0.0f, 1.0f);
  for (int c = 0; c < 3; ++c) {
    float total = 0;
    for (int i = 0; i < kHsvBins; ++i) total += f.hsv[c * kHsvBins + i] = u(rng) * u(rng) * u(rng);
    for (int i = 0; i < kHsvBins; ++i) f.hsv[c * kHsvBins + i] /= total;
  }
  f.phash = (std::uint64_t{rng()} << 32) | rng();
  f.measures[Measure::Contrast] = 40;
  f.measures[Measure::Hf] = 0.2;
  f.measures[Measure::Variation] = 45;
  return f;
}

CacheThresholds defaults() {
  const CacheConfig c;
  return CacheThresholds{static_cast<std::size_t>(c.max_entries),
                         c.color_threshold,
                         c.structure_threshold,
                         c.max_clipped,
                         c.max_hf,
                         c.min_variation,
                         c.write_mb_per_day * 1e6};
}

TEST(CacheWrites, AnHourAtTheDefaultsWritesLessThanAGigabyteADayWould) {
  test::ScratchDir dir;
  auto now = steady_clock::time_point{} + std::chrono::hours(1000);
  DiversityCache cache(dir.path().string(), defaults(), [&] { return now; });
  // The default stream offers a keyframe and a pair's middle frame per keyframe: 12 content fps
  // over 11 frames per pair is ~1.1 keyframes/s, so ~2.2 frames/s. Offer 3 per second, each one
  // diverse enough to be worth caching and 512x512 like the default keyframe.
  std::mt19937 rng(11);
  const Image frame = incompressible_frame(rng, 512, 512);
  const auto start = now;
  std::uint64_t accepted = 0, accepted_last_quarter = 0;
  for (int i = 0; i < 3 * 3600; ++i) {
    now = start + std::chrono::milliseconds(i * 1000 / 3);
    const Verdict v = cache.consider(frame, unique_features(rng), EntryKind::Keyframe, i);
    accepted += v.accepted;
    if (i >= 3 * 2700) accepted_last_quarter += v.accepted;
  }
  const double per_day_limit = 1e9;
  const double written = static_cast<double>(cache.bytes_written());
  EXPECT_LE(written, per_day_limit / 24) << accepted << " frames admitted in an hour";
  EXPECT_GT(accepted_last_quarter, 0u) << "the cache keeps renewing itself within its budget";
  EXPECT_EQ(cache.files_written(), accepted) << "one PNG per admitted frame, none for the rest";
  // The bytes counted are the bytes there: PNGs of the entries kept plus those evicted.
  EXPECT_GE(written, static_cast<double>(png_bytes_on_disk(dir.path())));
}

TEST(CacheWrites, ARefusedFrameWritesNothing) {
  test::ScratchDir dir;
  DiversityCache cache(dir.path().string(), CacheThresholds{});
  const Image a = test::pattern_image(1);
  ASSERT_TRUE(cache.consider(a, compute_features(a), EntryKind::Keyframe, 1).accepted);
  const std::uint64_t bytes = cache.bytes_written();
  const Image twin = test::nudged(a, 2);
  const Verdict v = cache.consider(twin, compute_features(twin), EntryKind::Keyframe, 2);
  EXPECT_EQ(v.refusal, Refusal::Similar);
  EXPECT_EQ(cache.bytes_written(), bytes);
  EXPECT_EQ(cache.files_written(), 1u);
}

TEST(CacheWrites, AFullCacheAdmitsOnlyWhatMakesItMoreDiverse) {
  test::ScratchDir dir;
  DiversityCache cache(dir.path().string(), CacheThresholds{4, 3.5, 1.5});
  for (std::uint32_t seed : {11u, 20u, 30u, 40u}) {
    const Image img = test::pattern_image(seed);
    ASSERT_TRUE(cache.consider(img, compute_features(img), EntryKind::Keyframe, seed).accepted);
  }
  // A near twin of an entry would only replace its neighbour: refused, nothing written.
  const std::uint64_t files = cache.files_written();
  const Image twin = test::nudged(test::pattern_image(20), 2);
  EXPECT_EQ(cache.consider(twin, compute_features(twin), EntryKind::Keyframe, 21).refusal,
            Refusal::NoGain);
  EXPECT_EQ(cache.files_written(), files);
}

// A full cache admits only what makes its worst pair better, which within days is nothing: for
// weeks it held the first days' pictures. Once an hour a newcomer that adds no diversity, but is
// diverse by the thresholds and a near copy of no entry, takes the oldest entry's place; a near
// copy never does, and between renewals nothing of the kind gets in.
TEST(CacheWrites, AFullCacheRenewsItselfOnceAnHourTheOldestGoing) {
  test::ScratchDir dir;
  auto now = steady_clock::time_point{} + std::chrono::hours(1000);
  CacheThresholds t;
  t.max_entries = 4;
  DiversityCache cache(dir.path().string(), t, [&] { return now; });
  std::uint32_t seed = 100;
  for (; cache.size() < 4 && seed < 300; ++seed) {
    const Image img = test::pattern_image(seed);
    cache.consider(img, compute_features(img), EntryKind::Keyframe, seed);
  }
  ASSERT_EQ(cache.size(), 4u);
  std::vector<std::uint32_t> no_gain;  // refused within the first hour: nothing renews yet
  for (; no_gain.size() < 40 && seed < 1000; ++seed) {
    const Image img = test::pattern_image(seed);
    if (cache.consider(img, compute_features(img), EntryKind::Keyframe, seed).refusal ==
        Refusal::NoGain)
      no_gain.push_back(seed);
  }
  ASSERT_FALSE(no_gain.empty());
  EXPECT_EQ(cache.renewals(), 0u);

  now += std::chrono::hours(2);
  std::uint64_t oldest = ~std::uint64_t{0};
  for (const CacheEntry& e : cache.entries()) oldest = std::min(oldest, e.id);
  const Image copy = test::nudged(cache.load_image(oldest), 2);
  EXPECT_FALSE(cache.consider(copy, compute_features(copy), EntryKind::Keyframe, 1).accepted)
      << "a near copy of an entry never takes a place";
  std::optional<Verdict> renewed;
  for (const std::uint32_t s : no_gain) {
    const Image img = test::pattern_image(s);
    const Verdict v = cache.consider(img, compute_features(img), EntryKind::Keyframe, s);
    if (v.accepted) {
      renewed = v;
      break;
    }
  }
  ASSERT_TRUE(renewed.has_value()) << "nothing renewed the full cache after an hour";
  EXPECT_EQ(renewed->evicted, oldest) << "the oldest entry makes way";
  EXPECT_EQ(cache.renewals(), 1u);
  EXPECT_EQ(cache.size(), 4u);
  for (const std::uint32_t s : no_gain) {  // within the same hour: no second renewal
    const Image img = test::pattern_image(s);
    cache.consider(img, compute_features(img), EntryKind::Keyframe, s);
  }
  EXPECT_EQ(cache.renewals(), 1u);
}

TEST(CacheWrites, DegenerateFramesAreNeverAdmittedNorKeptFromAnOldIndex) {
  test::ScratchDir dir;
  const Image healthy = test::pattern_image(7);
  Image noise(96, 96);
  std::mt19937 rng(3);
  for (auto& v : noise.rgba) v = static_cast<std::uint8_t>(rng());
  Image fried(96, 96);
  for (std::size_t i = 0; i < fried.rgba.size(); ++i) fried.rgba[i] = (i / 4 + i % 4) % 3 ? 255 : 0;
  {
    DiversityCache cache(dir.path().string(), CacheThresholds{});
    EXPECT_EQ(cache.consider(noise, compute_features(noise), EntryKind::Keyframe, 1).refusal,
              Refusal::Degenerate);
    EXPECT_EQ(cache.consider(fried, compute_features(fried), EntryKind::Keyframe, 2).refusal,
              Refusal::Degenerate);
    EXPECT_TRUE(
        cache.consider(healthy, compute_features(healthy), EntryKind::Keyframe, 3).accepted);
    EXPECT_EQ(cache.size(), 1u);
  }
  // A night sky is mostly exact black, and kept: no fried colour in it.
  {
    DiversityCache cache(dir.path().string() + "/night", CacheThresholds{});
    const Image night = test::night_sky(5, 128, 128);
    const auto verdict = cache.consider(night, compute_features(night), EntryKind::Keyframe, 5);
    EXPECT_TRUE(verdict.accepted) << refusal_name(verdict.refusal);
  }
  // A cache written by a build without the gate (limits off) holds the noise; a build with the
  // gate drops it when it loads the index, and its file with it.
  CacheThresholds no_gate;
  no_gate.max_clipped = 1.0;
  no_gate.max_hf = 100;
  {
    DiversityCache old(dir.path().string(), no_gate);
    ASSERT_TRUE(old.consider(noise, compute_features(noise), EntryKind::Keyframe, 4).accepted);
    ASSERT_EQ(old.size(), 2u);
  }
  DiversityCache reloaded(dir.path().string(), CacheThresholds{});
  ASSERT_EQ(reloaded.size(), 1u);
  EXPECT_EQ(reloaded.entries().front().keyframe_index, 3u);
  int files = 0;
  for (const auto& f : std::filesystem::directory_iterator(dir.path()))
    files += f.path().extension() == ".png";
  EXPECT_EQ(files, 1);
}

// The middle of a crossfade from a picture to its negative (the fake server inverts, and a real
// one can at high denoise), with a decoder's dither: a grey screen.
Image crossfade_through_grey(const Image& picture) {
  Image middle = picture;
  for (std::size_t i = 0; i < middle.rgba.size(); ++i)
    if (i % 4 != 3)
      middle.rgba[i] = static_cast<std::uint8_t>(
          (picture.rgba[i] + (255 - picture.rgba[i]) + 1) / 2 + (i / 4) % 5 - 2);
  return middle;
}

// The flat floor as an installer turns it on (it is off by default).
CacheThresholds with_floor() {
  CacheThresholds t = defaults();
  t.min_variation = 12;
  return t;
}

// Injecting a featureless frame would put a grey screen up. Low contrast alone is not flat: a
// pattern of hues at one brightness is a picture. Every picture the program ships as a seed stays
// above the floor.
TEST(CacheWrites, AFlatFrameIsNeverAdmittedButAPatternOfHuesAndEveryShippedSeedIs) {
  test::ScratchDir dir;
  const Image middle = crossfade_through_grey(test::pattern_image(5));
  const ImageFeatures flat = compute_features(middle);
  ASSERT_LT(flat.measures[Measure::Variation], 3.0);
  DiversityCache cache(dir.path().string(), with_floor());
  EXPECT_EQ(cache.consider(middle, flat, EntryKind::Middle, 1).refusal, Refusal::Degenerate);
  std::string why;
  EXPECT_TRUE(degenerate(flat.measures, with_floor(), &why));
  EXPECT_NE(why.find("variation"), std::string::npos) << why;
  EXPECT_NE(why.find("flat"), std::string::npos) << why;
  EXPECT_EQ(cache.files_written(), 0u);

  const Image hues = test::pattern_image(18);
  const ImageFeatures hue_features = compute_features(hues);
  ASSERT_LT(hue_features.measures[Measure::Contrast], with_floor().min_variation);
  EXPECT_TRUE(cache.consider(hues, hue_features, EntryKind::Keyframe, 2).accepted);

  int seeds = 0;
  for (const auto& f : std::filesystem::directory_iterator(test::source_dir() / "assets/seeds")) {
    if (f.path().extension() != ".png") continue;
    ++seeds;
    const PictureMeasures m = measure_picture(load_image(f.path().string()));
    EXPECT_FALSE(degenerate(m, with_floor(), &why)) << f.path().filename() << ": " << why;
  }
  EXPECT_GE(seeds, 8);
}

// An index written before the variation measure holds five measures per entry and may hold a flat
// frame: the measures are taken from the images, the flat one is dropped and the rest kept.
TEST(CacheWrites, AnIndexFromBeforeTheVariationMeasureLosesOnlyItsFlatFrames) {
  test::ScratchDir dir;
  const Image healthy = test::pattern_image(7);
  const Image middle = crossfade_through_grey(healthy);
  {
    CacheThresholds no_floor;
    no_floor.min_variation = 0;
    DiversityCache old(dir.path().string(), no_floor);
    ASSERT_TRUE(old.consider(healthy, compute_features(healthy), EntryKind::Keyframe, 1).accepted);
    ASSERT_TRUE(old.consider(middle, compute_features(middle), EntryKind::Middle, 2).accepted);
  }
  const std::string index_path = (dir.path() / "index.json").string();
  nlohmann::json index = nlohmann::json::parse(std::ifstream(index_path));
  for (auto& entry : index["entries"]) {
    ASSERT_EQ(entry["measures"].size(), static_cast<std::size_t>(kMeasureCount));
    entry["measures"].erase(entry["measures"].size() - 1);
  }
  std::ofstream(index_path) << index.dump();

  DiversityCache reloaded(dir.path().string(), with_floor());
  ASSERT_EQ(reloaded.size(), 1u);
  const CacheEntry kept = reloaded.entries().front();
  EXPECT_EQ(kept.keyframe_index, 1u);
  EXPECT_DOUBLE_EQ(kept.features.measures[Measure::Variation],
                   measure_picture(healthy)[Measure::Variation]);
  int files = 0;
  for (const auto& f : std::filesystem::directory_iterator(dir.path()))
    files += f.path().extension() == ".png";
  EXPECT_EQ(files, 1);
}

}  // namespace
}  // namespace dw::cache
