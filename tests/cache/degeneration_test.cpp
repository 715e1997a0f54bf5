// Fry and noise: the two ways a feedback loop fails that collapse detection does not see.
// Synthetic sequences: a healthy loop (varied pictures), then each failure as a real img2img loop
// shows it (contrast and chroma pushed up until values clip; noise growing at the pixel scale).
#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <random>

#include "cache/collapse_detector.h"
#include "cache/degeneration_detector.h"
#include "cache/picture_measures.h"
#include "test_images.h"

namespace dw::cache {
namespace {

// Contrast and chroma pushed up by `gain` about mid grey: what a frying loop does per step.
Image fried(const Image& src, double gain) {
  Image out = src;
  for (std::size_t i = 0; i < out.rgba.size(); i += 4) {
    const double l = 0.299 * src.rgba[i] + 0.587 * src.rgba[i + 1] + 0.114 * src.rgba[i + 2];
    for (int c = 0; c < 3; ++c) {
      const double v = 128 + gain * (l - 128) + gain * (src.rgba[i + c] - l);
      out.rgba[i + c] = static_cast<std::uint8_t>(std::clamp(v, 0.0, 255.0));
    }
  }
  return out;
}

// Independent pixel noise of +-amplitude added to every channel.
Image noisy(const Image& src, int amplitude, std::uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_int_distribution<int> d(-amplitude, amplitude);
  Image out = src;
  for (std::size_t i = 0; i < out.rgba.size(); ++i)
    if (i % 4 != 3)
      out.rgba[i] = static_cast<std::uint8_t>(std::clamp(src.rgba[i] + d(rng), 0, 255));
  return out;
}

TEST(PictureMeasures, EachMeasureSeesWhatItNames) {
  const Image base = test::pattern_image(3, 128, 128);
  const PictureMeasures m = measure_picture(base);
  const PictureMeasures f = measure_picture(fried(base, 2.5));
  EXPECT_GT(f[Measure::Contrast], m[Measure::Contrast] * 1.5);
  EXPECT_GT(f[Measure::Saturation], m[Measure::Saturation] * 1.5);
  EXPECT_GT(f[Measure::Colourfulness], m[Measure::Colourfulness] * 1.5);
  EXPECT_GT(f[Measure::Clipped], m[Measure::Clipped] + 0.1);
  const PictureMeasures n = measure_picture(noisy(base, 60, 1));
  EXPECT_GT(n[Measure::Hf], m[Measure::Hf] * 3) << "noise lives at the pixel scale";
  // A grey picture has no colour. Pure black and white is no clipping of colour; pure red, green
  // and blue is all clipped, and so is a colour at the gamut's edge (orange 255/128/0: 2 of 3).
  Image grey(32, 32), bw(32, 32), primaries(32, 32), orange(32, 32);
  for (std::size_t i = 0; i < grey.rgba.size(); ++i) {
    grey.rgba[i] = 100;
    bw.rgba[i] = (i / 4) % 2 ? 255 : 0;
    primaries.rgba[i] = (i / 4) % 3 == i % 4 ? 255 : 0;
    orange.rgba[i] = std::array<std::uint8_t, 4>{255, 128, 0, 255}[i % 4];
  }
  EXPECT_DOUBLE_EQ(measure_picture(grey)[Measure::Colourfulness], 0);
  EXPECT_DOUBLE_EQ(measure_picture(grey)[Measure::Saturation], 0);
  EXPECT_DOUBLE_EQ(measure_picture(bw)[Measure::Clipped], 0.0);
  EXPECT_DOUBLE_EQ(measure_picture(primaries)[Measure::Clipped], 1.0);
  EXPECT_DOUBLE_EQ(measure_picture(orange)[Measure::Clipped], 2.0 / 3.0);
}

// Share of an image's colour values that are exactly 0 or 255, whatever the pixel.
double share_at_ends(const Image& img) {
  std::size_t ends = 0;
  for (std::size_t i = 0; i < img.rgba.size(); ++i)
    if (i % 4 != 3 && (img.rgba[i] == 0 || img.rgba[i] == 255)) ++ends;
  return static_cast<double>(ends) / (img.rgba.size() / 4 * 3);
}

TEST(PictureMeasures, ANightSkyAndItsNegativeAreNotClipped) {
  // Dark themes (and white pages) are full of exact zeros (255s) that are no fried colour: counted,
  // the cache refused every such keyframe and the fry index of a dark loop read as fried.
  for (std::uint32_t seed = 1; seed <= 4; ++seed) {
    const Image night = test::night_sky(seed, 128, 128);
    Image day = night;  // the negative: a white sky with a pale orange glow
    for (std::size_t i = 0; i < day.rgba.size(); ++i)
      if (i % 4 != 3) day.rgba[i] = static_cast<std::uint8_t>(255 - day.rgba[i]);
    ASSERT_GT(share_at_ends(night), 0.5) << "the test picture should be mostly exact black";
    EXPECT_LT(measure_picture(night)[Measure::Clipped], 0.02) << seed;
    EXPECT_LT(measure_picture(day)[Measure::Clipped], 0.02) << seed;
    EXPECT_LT(fry_index(measure_picture(night)),
              fry_index(measure_picture(test::pattern_image(seed, 128, 128))))
        << "a dim, low-contrast picture is less fried than a colourful one";
  }
}

TEST(PictureBands, SeedsAreInsideTheirBandsAndAFriedSeedIsNot) {
  std::vector<Image> seeds;
  for (std::uint32_t s = 1; s <= 5; ++s) seeds.push_back(test::pattern_image(s, 96, 96));
  const PictureBands bands = bands_from_seeds(seeds, 0.1);
  for (const Image& seed : seeds) EXPECT_TRUE(bands.contains(measure_picture(seed)));
  const PictureMeasures bad = measure_picture(fried(seeds[0], 4.0));
  EXPECT_FALSE(bands.contains(bad));
  EXPECT_GT(bands.excess(bad), 0);
  EXPECT_NE(bands.describe_outside(bad).find("above"), std::string::npos)
      << bands.describe_outside(bad);
}

// A healthy loop of 50 varied keyframes, then `failing` for 30 more; returns the states.
template <typename Failing>
std::vector<CollapseState> run_loop(Failing failing) {
  CollapseDetector detector{CollapseConfig{}};
  std::vector<CollapseState> states;
  for (std::uint32_t k = 0; k < 50; ++k)
    states.push_back(detector.add_keyframe(compute_features(test::pattern_image(k % 12, 96, 96))));
  for (int k = 1; k <= 30; ++k)
    states.push_back(detector.add_keyframe(compute_features(failing(k))));
  return states;
}

TEST(TrendHistory, TheLowestStretchAndWhereAValueWasLastLowEnough) {
  TrendHistory h;
  for (double v : {5.0, 2.0, 1.0, 1.0, 4.0, 1.0, 1.0, 3.0, 5.0}) h.add(v, 100);
  EXPECT_DOUBLE_EQ(h.lowest_mean(2), 1.0);
  EXPECT_DOUBLE_EQ(h.lowest_mean(3), 4.0 / 3.0);
  EXPECT_DOUBLE_EQ(h.lowest_mean(50), 23.0 / 9.0) << "fewer values than asked: all";
  EXPECT_EQ(h.since_at_most(1.0), 2u);
  EXPECT_EQ(h.since_at_most(3.0), 1u);
  EXPECT_EQ(h.since_at_most(5.0), 0u);
  EXPECT_EQ(h.since_at_most(0.5), 9u) << "none that low";
}

TEST(DegenerationDetector, AHealthyLoopIsNeitherFriedNorNoisy) {
  const auto states = run_loop([](int k) { return test::pattern_image(100 + k, 96, 96); });
  for (const CollapseState& s : states) {
    EXPECT_FALSE(s.degeneration.degenerating()) << "fry climb " << s.degeneration.fry_delta
                                                << ", noise climb " << s.degeneration.noise_delta;
    EXPECT_FALSE(s.degeneration.forced());
  }
}

TEST(DegenerationDetector, AFryingLoopForcesAnInjection) {
  // Each step a little hotter than the last, pictures still changing (not a collapse).
  const auto states =
      run_loop([](int k) { return fried(test::pattern_image(200 + k, 96, 96), 1.0 + 0.08 * k); });
  const CollapseState& last = states.back();
  EXPECT_TRUE(last.degeneration.fry_forced) << "fry climb " << last.degeneration.fry_delta;
  EXPECT_FALSE(last.degeneration.noise_forced);
  EXPECT_TRUE(last.forced);
  EXPECT_STREQ(last.cause, "fry");
  EXPECT_DOUBLE_EQ(last.rate, 1.0);
  // It scaled the injection rate before it forced one.
  const auto first_scaled = std::find_if(states.begin(), states.end(), [](const CollapseState& s) {
    return s.degeneration.degenerating();
  });
  const auto first_forced =
      std::find_if(states.begin(), states.end(), [](const CollapseState& s) { return s.forced; });
  EXPECT_LT(first_scaled, first_forced);
}

TEST(DegenerationDetector, ALoopTurningToNightIsNotFrying) {
  const auto states = run_loop([](int k) { return test::night_sky(400 + k, 96, 96); });
  for (std::size_t k = 50; k < states.size(); ++k) {
    const DegenerationState& d = states[k].degeneration;
    EXPECT_FALSE(d.fry_forced) << "fry climb " << d.fry_delta;
    EXPECT_LT(d.fry_delta, 0.0) << "the fry index falls as the picture darkens";
  }
}

TEST(DegenerationDetector, ALoopDissolvingIntoNoiseForcesAnInjection) {
  const auto states =
      run_loop([](int k) { return noisy(test::pattern_image(300 + k, 96, 96), 4 * k, k); });
  const CollapseState& last = states.back();
  EXPECT_TRUE(last.degeneration.noise_forced) << "noise climb " << last.degeneration.noise_delta;
  EXPECT_TRUE(last.forced);
  EXPECT_STREQ(last.cause, "noise");
}

TEST(DegenerationDetector, AnInjectionRestartsTheHistory) {
  DegenerationDetector detector{CollapseConfig{}};
  PictureMeasures m;
  for (int k = 0; k < 60; ++k) {
    m[Measure::Hf] = 0.1 + 0.02 * k;
    detector.add_keyframe(m);
  }
  ASSERT_TRUE(detector.state().noise_forced);
  detector.on_injection();
  EXPECT_EQ(detector.history_size(), DegenerationDetector::kKeptAfterInjection);
  EXPECT_FALSE(detector.state().ready);
  EXPECT_FALSE(detector.state().degenerating());
}

// An injection made against collapse (a noisy loop's colours converge too) leaves the noise climb
// in view: its trend goes on and sees the climb when it gets there. One made against the noise
// itself, or by the operator, restarts it.
TEST(DegenerationDetector, AnInjectionAgainstAnotherCauseLeavesTheClimbInView) {
  DegenerationDetector kept{CollapseConfig{}}, cut{CollapseConfig{}};
  PictureMeasures m;
  const auto climb = [&m](DegenerationDetector& d, int from, int to) {
    for (int k = from; k < to; ++k) {
      m[Measure::Hf] = k < 50 ? 0.05 : 0.05 + (k - 49) * 0.03;
      d.add_keyframe(m);
    }
    return d.state();
  };
  ASSERT_FALSE(climb(kept, 0, 60).degenerating());
  ASSERT_FALSE(climb(cut, 0, 60).degenerating());
  kept.on_injection(/*cut_history=*/false);
  cut.on_injection();
  EXPECT_EQ(kept.history_size(), 60u);
  EXPECT_TRUE(climb(kept, 60, 70).degenerating());
  EXPECT_FALSE(climb(cut, 60, 70).degenerating()) << "its trend starts over from 10 values";
}

// Healthy at hf 0.05 for 50 keyframes, then noise climbing to 1.05 over 20: forced.
DegenerationDetector climbed_into_noise() {
  DegenerationDetector detector{CollapseConfig{}};
  PictureMeasures m;
  for (int k = 0; k < 70; ++k) {
    m[Measure::Hf] = k < 50 ? 0.05 : 0.05 + (k - 49) / 20.0;
    detector.add_keyframe(m);
  }
  return detector;
}

DegenerationState add_hf(DegenerationDetector& detector, double hf, int times) {
  PictureMeasures m;
  m[Measure::Hf] = hf;
  DegenerationState s;
  for (int i = 0; i < times; ++i) s = detector.add_keyframe(m);
  return s;
}

// The noise stops climbing but stays (a server that keeps what it was given): after the injection
// the trend alone would need 40 new keyframes and then see no climb; the held healthy level keeps
// the pressure on until the picture is back near it.
TEST(DegenerationDetector, ANoisyLevelThatStopsClimbingIsFoughtUntilItHeals) {
  DegenerationDetector detector = climbed_into_noise();
  ASSERT_TRUE(detector.state().noise_forced);
  detector.on_injection();
  EXPECT_TRUE(detector.state().holding);

  DegenerationState s = add_hf(detector, 0.6, HeldLevel::kLevelValues - 1);
  EXPECT_FALSE(s.degenerating()) << "too few keyframes since the injection to judge";
  s = add_hf(detector, 0.6, 1);
  EXPECT_TRUE(s.noise_forced) << "level above the healthy one " << s.noise_delta;
  EXPECT_STREQ(s.cause(), "noise");

  detector.on_injection();  // better, not healed: the rate stays raised without forcing
  s = add_hf(detector, 0.45, HeldLevel::kLevelValues);
  EXPECT_TRUE(s.degenerating());
  EXPECT_FALSE(s.forced());
  EXPECT_TRUE(s.holding);

  detector.on_injection();  // healed: nothing raised, and let go once that has lasted
  s = add_hf(detector, 0.08, HeldLevel::kLevelValues);
  EXPECT_FALSE(s.degenerating());
  EXPECT_TRUE(s.holding);
  s = add_hf(detector, 0.08, kEdgeValues - HeldLevel::kLevelValues);
  EXPECT_FALSE(s.holding);
  EXPECT_FALSE(s.degenerating());
  s = add_hf(detector, 0.08, 40);
  EXPECT_FALSE(s.degenerating());
}

// A level that does not come back even with injections is taken as the new picture after
// `history` keyframes, not fought for ever.
TEST(DegenerationDetector, ALastingLevelIsAcceptedAfterTheHistory) {
  DegenerationDetector detector = climbed_into_noise();
  detector.on_injection();
  const int history = CollapseConfig{}.history;
  DegenerationState s = add_hf(detector, 0.6, history - 1);
  EXPECT_TRUE(s.holding);
  EXPECT_TRUE(s.noise_forced);
  s = add_hf(detector, 0.6, 1);
  EXPECT_FALSE(s.holding);
  EXPECT_FALSE(s.degenerating()) << "climb " << s.noise_delta;
}

// Noise the cache would refuse (hf above cache.max_hf) is no new picture: however long it lasts,
// the healthy level stays held and the injections stay forced; they stop once it heals.
TEST(DegenerationDetector, NoiseTheCacheWouldRefuseIsFoughtBeyondTheHistory) {
  DegenerationDetector detector = climbed_into_noise();
  detector.on_injection();
  const int history = CollapseConfig{}.history;
  ASSERT_GT(0.9, BrokenPicture{}.max_hf);
  DegenerationState s = add_hf(detector, 0.9, 3 * history);
  EXPECT_TRUE(s.holding);
  EXPECT_TRUE(s.noise_forced);
  detector.on_injection();
  s = add_hf(detector, 0.08, kEdgeValues);
  EXPECT_FALSE(s.holding) << "healed, let go";
  EXPECT_FALSE(s.degenerating());
}

// The same for fry, by its clipping: a fried level (half the values clipped) is fought past the
// history; with cache.max_clipped raised above it, it is accepted after the history as before.
TEST(DegenerationDetector, AFriedLevelIsFoughtBeyondTheHistoryUnlessTheCacheWouldKeepIt) {
  const int history = CollapseConfig{}.history;
  for (const double max_clipped : {BrokenPicture{}.max_clipped, 0.6}) {
    DegenerationDetector detector{CollapseConfig{}};
    detector.set_broken(BrokenPicture{max_clipped, BrokenPicture{}.max_hf});
    PictureMeasures m;
    m[Measure::Contrast] = 30;
    m[Measure::Saturation] = 0.2;
    for (int k = 0; k < 70; ++k) {  // healthy, then clipping climbs to half the values
      m[Measure::Clipped] = k < 50 ? 0.0 : 0.5 * (k - 49) / 20.0;
      detector.add_keyframe(m);
    }
    ASSERT_TRUE(detector.state().fry_forced);
    detector.on_injection();
    DegenerationState s;
    for (int k = 0; k < history; ++k) s = detector.add_keyframe(m);
    if (max_clipped < 0.5) {
      EXPECT_TRUE(s.holding) << "a fried picture was accepted as the new normal";
      EXPECT_TRUE(s.fry_forced);
    } else {
      EXPECT_FALSE(s.holding) << "a picture the cache keeps is accepted after the history";
      EXPECT_FALSE(s.degenerating());
    }
  }
}

// An injection for collapse, with no fry or noise, holds nothing.
TEST(DegenerationDetector, AnInjectionOfAHealthyLoopHoldsNoLevel) {
  DegenerationDetector detector{CollapseConfig{}};
  add_hf(detector, 0.05, 60);
  detector.on_injection();
  EXPECT_FALSE(detector.state().holding);
  EXPECT_FALSE(add_hf(detector, 0.3, HeldLevel::kLevelValues).degenerating());
}

}  // namespace
}  // namespace dw::cache
