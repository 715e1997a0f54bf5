#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <random>
#include <set>

#include "cache/collapse_detector.h"
#include "cache/injection_policy.h"
#include "support/test_support.h"
#include "test_images.h"

namespace dw::cache {
namespace {

TEST(CollapseDetector, AStreamThatFreezesIsForcedToInject) {
  CollapseDetector detector{CollapseConfig{}};
  CollapseState s;
  // 45 varied keyframes: consecutive pairs are dissimilar.
  for (std::uint32_t k = 0; k < 45; ++k)
    s = detector.add_keyframe(compute_features(test::pattern_image(k * 13 + 1)));
  ASSERT_TRUE(s.ready);
  EXPECT_FALSE(s.forced);
  EXPECT_LT(s.colour_delta, 0.30);
  EXPECT_FALSE(s.collapsing) << "a varied stream's frames are the cache's to keep";
  EXPECT_FALSE(s.still);
  // Then the loop collapses: the same picture over and over.
  const ImageFeatures frozen = compute_features(test::pattern_image(4242));
  for (int k = 0; k < 25; ++k) s = detector.add_keyframe(frozen);
  EXPECT_TRUE(s.forced);
  EXPECT_GE(s.colour_delta, 0.30);
  EXPECT_DOUBLE_EQ(s.rate, 1.0);
  EXPECT_TRUE(s.collapsing);
  EXPECT_TRUE(s.still) << "one picture over and over";
  // After an injection only the newest 10 values remain: no more judging of the trend until the
  // history regrows (the variety held is judged from kLevelValues keyframes on).
  detector.on_injection();
  EXPECT_EQ(detector.history_size(), CollapseDetector::kKeptAfterInjection);
  EXPECT_FALSE(detector.state().ready);
  EXPECT_TRUE(detector.state().holding);
  EXPECT_TRUE(detector.state().collapsing) << "held: still not the cache's to keep";
}

// A server that pulls every input back to the one picture it collapsed into: after the injection
// the sameness no longer climbs (it never left the top), yet the stream is as stuck as before.
TEST(CollapseDetector, ALoopStillCollapsedAfterAnInjectionIsInjectedAgainUntilItVaries) {
  CollapseDetector detector{CollapseConfig{}};
  // A varied stream that stays as varied: nine different pictures in turn (a window of ten
  // keyframes, nine pairs, always holds each pair of the cycle once).
  std::uint32_t next = 0;
  const auto varied = [&](int n) {
    CollapseState s;
    for (int k = 0; k < n; ++k)
      s = detector.add_keyframe(compute_features(test::pattern_image(next++ % 9 * 13 + 1)));
    return s;
  };
  const ImageFeatures frozen = compute_features(test::pattern_image(4242));
  const auto stuck = [&](int n) {
    CollapseState s;
    for (int k = 0; k < n; ++k) s = detector.add_keyframe(frozen);
    return s;
  };
  // Longer than the history, so that the values from while the detector's window filled are gone.
  ASSERT_DOUBLE_EQ(varied(120).rate, 0.0);
  ASSERT_TRUE(stuck(25).forced);
  detector.on_injection();
  // Stuck again right after it: a trend over the 10 values kept would see nothing for 30 more.
  const CollapseState again = stuck(static_cast<int>(HeldLevel::kLevelValues));
  EXPECT_TRUE(again.holding);
  EXPECT_TRUE(again.forced) << "sameness above the variety held: " << again.colour_delta << ", "
                            << again.structure_delta;
  EXPECT_STREQ(again.cause, "collapse");
  // The variety was last there just before the first frozen keyframes (25 + kLevelValues ago),
  // or a few after them, while the detector's window still mixed them with varied ones.
  const std::size_t frozen_since = 25 + HeldLevel::kLevelValues;
  const auto window = static_cast<std::size_t>(CollapseConfig{}.window);
  EXPECT_LE(again.varied_ago, frozen_since);
  EXPECT_GE(again.varied_ago, frozen_since - (window - 1));
  // The newest keyframe certainly made before the collapse: at or before the last varied one, and
  // no more than a window before it.
  EXPECT_GE(again.before_collapse_ago, frozen_since);
  EXPECT_LE(again.before_collapse_ago, frozen_since + (window - 1));
  // Injected once more, and now the loop varies again: the held variety is let go once the newest
  // keyframes have differed as before for kEdgeValues keyframes, and nothing is scaled any more.
  detector.on_injection();
  CollapseState s = varied(static_cast<int>(kEdgeValues) - 1);
  EXPECT_TRUE(s.holding) << "not let go before kEdgeValues keyframes";
  EXPECT_FALSE(s.forced);
  s = varied(1);
  EXPECT_FALSE(s.holding);
  EXPECT_FALSE(s.collapsing);
  EXPECT_FALSE(s.still);
  EXPECT_DOUBLE_EQ(s.rate, 0.0);
  EXPECT_STREQ(s.cause, "");
}

// A stream whose keyframes stay the same keeps the variety held, however long: it stands still,
// and injections go on. A loop only calmer than before (consecutive keyframes alike, not the same)
// is fought for kEdgeValues keyframes, then accepted.
TEST(CollapseDetector, AStreamStandingStillIsNeverTakenAsANewPicture) {
  CollapseDetector detector{CollapseConfig{}};
  for (std::uint32_t k = 0; k < 120; ++k)
    detector.add_keyframe(compute_features(test::pattern_image(k % 9 * 13 + 1)));
  const ImageFeatures frozen = compute_features(test::pattern_image(4242));
  CollapseState s;
  for (int k = 0; k < 25; ++k) s = detector.add_keyframe(frozen);
  ASSERT_TRUE(s.forced);
  detector.on_injection();
  for (int k = 0; k < CollapseConfig{}.history + 20; ++k) s = detector.add_keyframe(frozen);
  EXPECT_TRUE(s.holding);
  EXPECT_TRUE(s.forced);
  // Now calmer than before the collapse, but changing: a picture and a brighter copy in turn.
  const Image calm = test::pattern_image(4242);
  const ImageFeatures calm_features[] = {compute_features(calm),
                                         compute_features(test::nudged(calm, 20))};
  // It is let go kEdgeValues keyframes after the stream last stood still (the detector's window
  // of `window` keyframes, and the kLevelValues newest means, still see frozen ones at first).
  detector.on_injection();
  bool forced_while_held = false;
  std::size_t calm_keyframes = 0;
  for (s = detector.state(); s.holding && calm_keyframes < 200; ++calm_keyframes) {
    s = detector.add_keyframe(calm_features[calm_keyframes % 2]);
    forced_while_held = forced_while_held || (s.holding && s.forced);
  }
  EXPECT_FALSE(s.holding);
  EXPECT_TRUE(forced_while_held) << "well above the variety held until then";
  const auto window = static_cast<std::size_t>(CollapseConfig{}.window);
  EXPECT_GE(calm_keyframes, kEdgeValues);
  EXPECT_LE(calm_keyframes, kEdgeValues + window + HeldLevel::kLevelValues);
}

// An injected keyframe differs from the one before it because the detector asked for it: that is
// not the loop varying. A frozen stream with an injection every fifth keyframe stays frozen to the
// detector.
TEST(CollapseDetector, AnInjectedKeyframeIsNotTakenForVariety) {
  CollapseDetector detector{CollapseConfig{}};
  const ImageFeatures frozen = compute_features(test::pattern_image(4242));
  CollapseState s;
  for (std::uint32_t k = 0; k < 30; ++k) {
    const bool injected = k % 5 == 4;
    s = detector.add_keyframe(injected ? compute_features(test::pattern_image(k)) : frozen,
                              injected);
  }
  EXPECT_NEAR(s.colour_mean, 3.0, 1e-6);
  EXPECT_NEAR(s.structure_mean, 1.0, 1e-6);
}

TEST(CollapseDetector, AnInjectionInAVariedStreamHoldsNothing) {
  CollapseDetector detector{CollapseConfig{}};
  CollapseState s;
  for (std::uint32_t k = 0; k < 45; ++k)
    s = detector.add_keyframe(compute_features(test::pattern_image(k % 9 * 13 + 1)));
  ASSERT_DOUBLE_EQ(s.rate, 0.0);
  detector.on_injection();  // an operator's, or one the policy's rate drew without a collapse
  for (std::uint32_t k = 0; k < 10; ++k)
    s = detector.add_keyframe(compute_features(test::pattern_image(k % 5 * 7 + 500)));
  EXPECT_FALSE(s.holding);
  EXPECT_DOUBLE_EQ(s.rate, 0.0);
}

TEST(CollapseDetector, NotReadyBeforeMinValues) {
  CollapseDetector detector{CollapseConfig{}};
  const ImageFeatures f = compute_features(test::pattern_image(1));
  for (int k = 0; k < 40; ++k) detector.add_keyframe(f);  // 39 pair means
  EXPECT_FALSE(detector.state().ready);
  detector.add_keyframe(f);
  EXPECT_TRUE(detector.state().ready);
  EXPECT_FALSE(detector.state().forced) << "a constant history has no upward trend";
}

TEST(CollapseDetector, HistoryIsBounded) {
  CollapseDetector detector{CollapseConfig{}};
  for (std::uint32_t k = 0; k < 500; ++k)
    detector.add_keyframe(compute_features(test::pattern_image(k % 5, 32, 32)));
  EXPECT_EQ(detector.history_size(), 100u);
}

TEST(InjectionPolicy, WarmupAndCooldownGateEvenForcedInjections) {
  InjectionPolicy policy(InjectionConfig{}, 1);
  CollapseState forced;
  forced.forced = true;
  forced.rate = 1;
  EXPECT_FALSE(policy.should_inject(10, forced)) << "warm-up is 10 keyframes";
  EXPECT_TRUE(policy.should_inject(11, forced));
  policy.record(11, InjectionChoice{});
  EXPECT_FALSE(policy.should_inject(12, forced));
  EXPECT_FALSE(policy.should_inject(13, forced));
  EXPECT_TRUE(policy.should_inject(14, forced)) << "cool-down is 2 keyframes";
}

TEST(InjectionPolicy, ScaledRateInjectsAboutThatOften) {
  InjectionPolicy policy(InjectionConfig{}, 7);
  CollapseState scaled;
  scaled.rate = 0.3;
  int injected = 0;
  for (int i = 0; i < 4000; ++i) injected += policy.should_inject(100, scaled);
  EXPECT_NEAR(injected / 4000.0, 0.3, 0.04);
  CollapseState calm;
  for (int i = 0; i < 100; ++i) EXPECT_FALSE(policy.should_inject(100, calm));
}

// `n` seed images' measures, all zero: clean and smooth, under any ceiling.
std::vector<PictureMeasures> seeds(std::size_t n) {
  return std::vector<PictureMeasures>(n);
}

std::vector<CacheEntry> entries_for(const std::vector<Image>& images) {
  std::vector<CacheEntry> entries;
  for (std::size_t i = 0; i < images.size(); ++i)
    entries.push_back(CacheEntry{i + 1, EntryKind::Keyframe, i, compute_features(images[i]), ""});
  return entries;
}

TEST(InjectionPolicy, ChoosesOnlyCandidatesInsideTheBandAndAvoidsRecentOnes) {
  InjectionPolicy policy(InjectionConfig{}, 3);
  const Image current = test::pattern_image(500);
  const ImageFeatures cf = compute_features(current);
  std::vector<Image> images;
  // Relatives of the current frame at growing distance (some in band), unrelated patterns
  // (mostly alien), and the frame itself (too similar).
  for (int delta : {20, 35, 50, 65, 80, 95, 110}) images.push_back(test::nudged(current, delta));
  for (std::uint32_t seed = 600; seed < 620; ++seed) images.push_back(test::pattern_image(seed));
  images.push_back(current);
  const auto entries = entries_for(images);
  const InjectionConfig band;
  std::map<std::uint64_t, int> picks;
  for (int i = 0; i < 300; ++i) {
    const auto choice = policy.choose(cf, entries, seeds(3), false);
    ASSERT_TRUE(choice.has_value());
    ASSERT_EQ(choice->source, InjectionChoice::Source::CacheEntry);
    const Similarity& s = choice->similarity;
    const bool in_band = (s.colour > band.color_low && s.colour < band.color_high) ||
                         (s.structure > band.structure_low && s.structure < band.structure_high);
    EXPECT_TRUE(in_band) << "colour " << s.colour << " structure " << s.structure;
    EXPECT_NE(choice->entry_id, entries.back().id) << "an identical frame is never injected";
    EXPECT_DOUBLE_EQ(choice->weight, 0.75);
    ++picks[choice->entry_id];
  }
  ASSERT_GE(picks.size(), 2u) << "several candidates are in band";
  // A just-injected entry is picked less often afterwards.
  const std::uint64_t favourite =
      std::max_element(picks.begin(), picks.end(), [](auto& a, auto& b) {
        return a.second < b.second;
      })->first;
  InjectionChoice recent;
  recent.entry_id = favourite;
  policy.record(50, recent);
  int again = 0;
  for (int i = 0; i < 300; ++i)
    again += policy.choose(cf, entries, seeds(3), false)->entry_id == favourite;
  EXPECT_LT(again, picks[favourite]);
}

// A loop held collapsed: the cache holds the collapsed picture's relatives, made since the
// collapse (keyframe indices above `made_by`), beside frames from before it. Only the older ones
// are injected; with none of them in band, a seed image is.
TEST(InjectionPolicy, WhileACollapseIsHeldOnlyFramesFromBeforeItAreInjected) {
  const Image current = test::pattern_image(800);
  std::vector<Image> images;
  for (int delta : {25, 40, 55, 70, 85, 100}) images.push_back(test::nudged(current, delta));
  auto entries = entries_for(images);  // keyframe indices 0..5
  const std::uint64_t made_by = 2;
  const ImageFeatures cf = compute_features(current);
  InjectionPolicy policy(InjectionConfig{}, 11);
  std::map<std::uint64_t, int> picks, free_picks;
  for (int i = 0; i < 200; ++i) {
    const auto held = policy.choose(cf, entries, seeds(3), true, std::nullopt, made_by);
    ASSERT_TRUE(held.has_value());
    if (held->source == InjectionChoice::Source::CacheEntry) ++picks[held->entry_id];
    const auto free = policy.choose(cf, entries, seeds(3), true);
    if (free->source == InjectionChoice::Source::CacheEntry) ++free_picks[free->entry_id];
  }
  ASSERT_FALSE(picks.empty()) << "frames from before the collapse are in band";
  for (const auto& [id, n] : picks)
    EXPECT_LE(entries[id - 1].keyframe_index, made_by) << "entry " << id << " made since";
  EXPECT_TRUE(std::ranges::any_of(free_picks, [&](const auto& p) {
    return entries[p.first - 1].keyframe_index > made_by;
  })) << "without the limit the newer ones are drawn too";
  // Every entry made since the collapse: a seed.
  for (CacheEntry& e : entries) e.keyframe_index += 10;
  const auto seed = policy.choose(cf, entries, seeds(3), true, std::nullopt, made_by);
  ASSERT_TRUE(seed.has_value());
  EXPECT_EQ(seed->source, InjectionChoice::Source::Seed);
}

// The one frame in band was injected a moment ago and did not change the loop: a seed goes
// instead of it, and once it is no longer among the recent ones it is a candidate again.
TEST(InjectionPolicy, TheOnlyCandidateInjectedLatelyGivesWayToASeed) {
  const Image current = test::pattern_image(900);
  const auto entries = entries_for({test::nudged(current, 60)});
  const ImageFeatures cf = compute_features(current);
  InjectionPolicy policy(InjectionConfig{}, 5);
  const auto first = policy.choose(cf, entries, seeds(3), true);
  ASSERT_TRUE(first.has_value());
  ASSERT_EQ(first->source, InjectionChoice::Source::CacheEntry) << "the frame is in band";
  policy.record(20, *first);
  const auto second = policy.choose(cf, entries, seeds(3), true);
  ASSERT_TRUE(second.has_value());
  EXPECT_EQ(second->source, InjectionChoice::Source::Seed);
  EXPECT_EQ(policy.choose(cf, entries, {}, true)->source, InjectionChoice::Source::CacheEntry)
      << "with no seeds, the recent frame is still better than nothing";
  for (int i = 0; i < InjectionConfig{}.recent_penalty; ++i) {
    InjectionChoice other;
    other.entry_id = 1000 + static_cast<std::uint64_t>(i);
    policy.record(30 + static_cast<std::uint64_t>(i), other);
  }
  EXPECT_EQ(policy.choose(cf, entries, seeds(3), true)->source,
            InjectionChoice::Source::CacheEntry);
}

// A loop recovering from noise: the cache holds clean relatives of the current frame and noisy
// ones (kept early in a slow climb). Under the ceiling only the clean ones are injected; without
// it the noisy ones are drawn too.
TEST(InjectionPolicy, UnderACeilingOnlyFramesCleanerThanItAreInjected) {
  const Image current = test::pattern_image(700);
  std::vector<Image> images;
  std::mt19937 rng(7);
  std::uniform_int_distribution<int> noise(-40, 40);
  for (int delta : {25, 40, 55, 70, 85, 100}) {
    images.push_back(test::nudged(current, delta));
    Image grainy = images.back();
    for (std::size_t i = 0; i < grainy.rgba.size(); ++i)
      if (i % 4 != 3)
        grainy.rgba[i] = static_cast<std::uint8_t>(std::clamp(grainy.rgba[i] + noise(rng), 0, 255));
    images.push_back(grainy);
  }
  const auto entries = entries_for(images);
  double clean_hf = 0;
  for (std::size_t i = 0; i < entries.size(); i += 2)
    clean_hf = std::max(clean_hf, entries[i].features.measures[Measure::Hf]);
  const MeasureCeiling ceiling{10.0, clean_hf + 0.01};
  const ImageFeatures cf = compute_features(current);
  int noisy_without = 0;
  for (int i = 0; i < 200; ++i) {
    InjectionPolicy with(InjectionConfig{}, i), without(InjectionConfig{}, i);
    const auto picked = with.choose(cf, entries, seeds(3), true, ceiling);
    ASSERT_TRUE(picked.has_value());
    if (picked->source == InjectionChoice::Source::CacheEntry) {
      EXPECT_EQ(picked->entry_id % 2, 1u) << "entry " << picked->entry_id << " is a noisy one";
    }
    const auto free = without.choose(cf, entries, seeds(3), true);
    noisy_without += free->source == InjectionChoice::Source::CacheEntry && free->entry_id % 2 == 0;
  }
  EXPECT_GT(noisy_without, 0) << "the noisy frames are candidates without the ceiling";
}

TEST(InjectionPolicy, FallsBackToASeedWhenNoCandidateFits) {
  InjectionPolicy policy(InjectionConfig{}, 5);
  const Image current = test::pattern_image(1);
  const auto entries = entries_for({current});  // only an identical frame: out of band
  const auto choice = policy.choose(compute_features(current), entries, seeds(4), true);
  ASSERT_TRUE(choice.has_value());
  EXPECT_EQ(choice->source, InjectionChoice::Source::Seed);
  EXPECT_LT(choice->seed_index, 4u);
  EXPECT_DOUBLE_EQ(choice->weight, 0.85);
  EXPECT_TRUE(choice->forced);
  EXPECT_FALSE(policy.choose(compute_features(current), entries, {}, true).has_value());
}

// The seeds the program ships, at a small keyframe size, and their measures: they range from a
// smooth sunset gradient to a flow field as fine as noise.
std::vector<PictureMeasures> shipped_seeds_at(int size) {
  std::vector<PictureMeasures> measures;
  for (const auto& f : std::filesystem::directory_iterator(test::source_dir() / "assets/seeds"))
    if (f.path().extension() == ".png")
      measures.push_back(measure_picture(resize_cover(load_image(f.path().string()), size, size)));
  return measures;
}

// Against noise (or fry) with nothing in the cache clean enough, a seed goes in: one as clean as
// the ceiling, never the flow field that would feed the noise; and when no seed is, the cleanest.
TEST(InjectionPolicy, UnderACeilingASeedIsDrawnFromTheSeedsCleanerThanIt) {
  const std::vector<PictureMeasures> seeds = shipped_seeds_at(64);
  ASSERT_GE(seeds.size(), 8u);
  std::vector<double> hf;
  for (const PictureMeasures& m : seeds) hf.push_back(m[Measure::Hf]);
  std::vector<double> sorted = hf;
  std::ranges::sort(sorted);
  const MeasureCeiling ceiling{100.0, sorted[sorted.size() / 2]};  // half the seeds are over it
  const Image current = test::pattern_image(1);
  const auto entries = entries_for({current});  // only an identical frame: out of band
  const ImageFeatures cf = compute_features(current);
  InjectionPolicy with(InjectionConfig{}, 3), without(InjectionConfig{}, 3);
  std::set<std::size_t> picked, picked_without;
  for (int i = 0; i < 200; ++i) {
    const auto choice = with.choose(cf, entries, seeds, true, ceiling);
    ASSERT_TRUE(choice.has_value());
    ASSERT_EQ(choice->source, InjectionChoice::Source::Seed);
    EXPECT_LE(hf[choice->seed_index], ceiling.hf) << "seed " << choice->seed_index + 1;
    picked.insert(choice->seed_index);
    picked_without.insert(without.choose(cf, entries, seeds, true)->seed_index);
  }
  EXPECT_GE(picked.size(), 2u) << "every seed under the ceiling is drawn";
  EXPECT_EQ(picked_without.size(), seeds.size()) << "without a ceiling any seed is";

  // A ceiling below every seed: the one least over it, by the measure it is over.
  const std::size_t smoothest = static_cast<std::size_t>(std::ranges::min_element(hf) - hf.begin());
  for (int i = 0; i < 20; ++i)
    EXPECT_EQ(with.choose(cf, entries, seeds, true, MeasureCeiling{100.0, 0.0001})->seed_index,
              smoothest);
  std::vector<double> fry;
  for (const PictureMeasures& m : seeds) fry.push_back(fry_index(m));
  const std::size_t mildest = static_cast<std::size_t>(std::ranges::min_element(fry) - fry.begin());
  ASSERT_NE(mildest, smoothest) << "the test tells the two measures apart";
  for (int i = 0; i < 20; ++i)
    EXPECT_EQ(with.choose(cf, entries, seeds, true, MeasureCeiling{0.0001, 100.0})->seed_index,
              mildest);
}

}  // namespace
}  // namespace dw::cache
