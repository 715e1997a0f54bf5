// Issue 11: a ComfyUI loop that fries or dissolves into noise (the fake server's "fry" and "noise"
// faults) is caught by the degeneration detector, broken by injection, and none of its degenerate
// frames reaches the persistent cache.
#include <gtest/gtest.h>

#include <algorithm>
#include <deque>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "cache/collapse_detector.h"
#include "cache/degeneration_detector.h"
#include "cache/diversity_cache.h"
#include "cache/features.h"
#include "cache/picture_measures.h"
#include "comfy/comfy_source.h"
#include "fake_server.h"
#include "pipeline/cache_worker.h"
#include "pipeline/pipeline.h"
#include "pipeline_stream.h"
#include "support/test_support.h"

namespace dw::pipeline {
namespace {

Config degenerating_config(const test::ScratchDir& dir, const test::FakeComfy& server) {
  Config c = small_config(dir);
  c.source.kind = SourceKind::Comfy;
  c.comfy.urls = {server.url()};
  c.comfy.request_timeout_s = 10;
  c.comfy.retry_max_s = 1;
  // At 64x64 a healthy keyframe's high-frequency energy is already ~0.6 of the ~1 that pure noise
  // has (at the default 512x512 it is ~0.1), so the noise levels are scaled down to match.
  c.collapse.noise_scale = 0.15;
  c.collapse.noise_force = 0.25;
  // Pixel crossfades: the detector must see the server's frames as they come, not after a VAE
  // round trip (taef2 at 64x64 smooths the injected pixel noise below the scale level).
  c.vae.decoder_path = "none";
  return c;
}

PipelineHooks comfy_only() {
  PipelineHooks hooks;
  hooks.make_comfy_source = [](LiveSection<ComfyConfig> c) -> std::unique_ptr<KeyframeSource> {
    return std::make_unique<comfy::ComfyKeyframeSource>(comfy::options_from_config(*c.get()));
  };
  return hooks;
}

struct Degenerating {
  test::FakeComfy server;
  test::ScratchDir dir;
  ConfigStore config{degenerating_config(dir, server)};
  FrameRing<Frame> ring{32};
  Pipeline pipeline{config, ring, comfy_only()};
};

class DegeneratingServer : public ::testing::TestWithParam<std::string> {};

TEST_P(DegeneratingServer, TheDetectorFiresInjectsAndTheCacheStaysClean) {
  const std::string fault = GetParam();
  Degenerating run;
  auto& [server, dir, config, ring, pipeline] = run;
  // A healthy loop first, long enough for the detector's history ...
  const std::uint64_t healthy_pairs =
      static_cast<std::uint64_t>(config.get()->collapse.min_values) + 5;
  const Drained before = drain_until(ring, healthy_pairs, std::chrono::seconds(200));
  ASSERT_EQ(before.pairs_completed, healthy_pairs);
  const OrchestratorStats at_fault = pipeline.status().orchestrator;
  const std::uint64_t decided = 1 + at_fault.requests + at_fault.injections;
  // ... then every prompt makes its output a little more fried (or noisy) than its input.
  server.fault(fault, -1);
  const CollapseConfig& limits = config.get()->collapse;
  double max_climb = 0;
  std::uint64_t injected_frames = 0;
  const auto end = std::chrono::steady_clock::now() + std::chrono::seconds(200);
  const double scale = fault == "fry" ? limits.fry_scale : limits.noise_scale;
  while ((injected_frames == 0 || max_climb < scale) && std::chrono::steady_clock::now() < end) {
    const cache::DegenerationState d = pipeline.status().orchestrator.collapse.degeneration;
    max_climb = std::max(max_climb, fault == "fry" ? d.fry_delta : d.noise_delta);
    if (!ring.wait_for_data(std::stop_token{}, std::chrono::milliseconds(100))) continue;
    const FrameInfo& i = ring.peek()->info;
    injected_frames += i.injected && i.keyframe_index > decided;
    ring.pop();
  }
  const StatusSnapshot s = pipeline.status();
  EXPECT_GT(s.orchestrator.injections, at_fault.injections) << "no injection after the " << fault;
  EXPECT_GT(injected_frames, 0u) << "the injected keyframe reaches the screen";
  EXPECT_GE(max_climb, scale) << "the detector saw the " << fault << " climb";
  EXPECT_GT(s.cache_worker.refused_degenerate, 0u) << "the cache refused the " << fault;
  pipeline.stop();
  // Nothing degenerate was admitted: every PNG the cache left on disk passes the gate (read
  // directly: loading the cache would drop a degenerate entry itself).
  const CacheConfig& c = config.get()->cache;
  for (const auto& f : std::filesystem::directory_iterator(c.dir)) {
    if (f.path().extension() != ".png") continue;
    std::string why;
    EXPECT_FALSE(cache::degenerate(cache::measure_picture(load_image(f.path().string())),
                                   thresholds_from(c), &why))
        << f.path() << ": " << why;
  }
}

// The measure the fault drives (fry index or high-frequency energy) of a frame on the ring.
Image image_of(const Frame& f) {
  Image image(f.width, f.height);
  image.rgba = f.host_rgba;
  return image;
}

double measure_of(const Frame& f, const std::string& fault) {
  const cache::PictureMeasures m = cache::measure_picture(image_of(f));
  return fault == "fry" ? cache::fry_index(m) : m[cache::Measure::Hf];
}

// Pops frames until `keyframes` more keyframes (step 0 of a pair) were shown or the deadline;
// returns each one's measure.
std::vector<double> keyframe_measures(FrameRing<Frame>& ring, const std::string& fault,
                                      std::size_t keyframes, std::chrono::seconds deadline,
                                      const std::function<bool(const std::vector<double>&)>& done) {
  std::vector<double> values;
  const auto end = std::chrono::steady_clock::now() + deadline;
  while (values.size() < keyframes && std::chrono::steady_clock::now() < end) {
    if (!ring.wait_for_data(std::stop_token{}, std::chrono::milliseconds(100))) continue;
    const Frame& f = *ring.peek();
    if (f.info.step == 0 && !f.info.poster) {
      values.push_back(measure_of(f, fault));
      if (done && done(values)) break;
    }
    ring.pop();
  }
  return values;
}

double mean_of_last(const std::vector<double>& v, std::size_t n) {
  n = std::min(n, v.size());
  double sum = 0;
  for (std::size_t i = v.size() - n; i < v.size(); ++i) sum += v[i];
  return n ? sum / static_cast<double>(n) : 0.0;
}

// After the fault ends, a server that keeps what it is given (the fake inverts exactly; a real
// one at low denoise comes close) leaves the picture as fried or noisy as it got. The detector's
// trend no longer climbs, but the healthy level it held keeps injections coming until the picture
// is back near where it was before the fault, well within the detector's history.
TEST_P(DegeneratingServer, AfterTheFaultThePictureReturnsToItsHealthyLevel) {
  const std::string fault = GetParam();
  Degenerating run;
  auto& [server, dir, config, ring, pipeline] = run;
  const CollapseConfig& limits = config.get()->collapse;
  const double scale = fault == "fry" ? limits.fry_scale : limits.noise_scale;
  constexpr std::size_t kMean = 10;  // keyframes averaged for a level
  const std::size_t healthy_count = static_cast<std::size_t>(limits.min_values) + 5;
  const auto healthy =
      keyframe_measures(ring, fault, healthy_count, std::chrono::seconds(200), nullptr);
  ASSERT_EQ(healthy.size(), healthy_count);
  const double healthy_level = mean_of_last(healthy, kMean);

  server.fault(fault, -1);
  // Until the picture got clearly worse and the detector injected against it (and holds the
  // healthy level).
  bool held = false;  // seen at some keyframe: the detector may let go between two injections
  const auto failing =
      keyframe_measures(ring, fault, 200, std::chrono::seconds(200), [&](const auto& values) {
        held = held || pipeline.status().orchestrator.collapse.degeneration.holding;
        return *std::max_element(values.begin(), values.end()) > healthy_level + scale && held;
      });
  ASSERT_TRUE(held) << "no " << fault << " injection in " << failing.size() << " keyframes";
  const double worst = *std::max_element(failing.begin(), failing.end());
  ASSERT_GT(worst, healthy_level + scale);
  server.fault(fault, 0);

  const std::size_t within = static_cast<std::size_t>(limits.history) * 3 / 4;
  const auto after =
      keyframe_measures(ring, fault, within, std::chrono::seconds(300), [&](const auto& values) {
        return values.size() >= kMean && mean_of_last(values, kMean) < healthy_level + scale / 2;
      });
  ASSERT_GE(after.size(), kMean);
  EXPECT_LT(mean_of_last(after, kMean), healthy_level + scale / 2)
      << "healthy " << healthy_level << ", at the fault's worst " << worst << ", " << after.size()
      << " keyframes after it ended";
  EXPECT_LT(after.size(), within);
}

// How alike consecutive shown keyframes are: the mean colour and structure similarity of each
// shown keyframe to the one before, over the newest `kSameness` of them (what the collapse
// detector measures, taken here from the screen's frames).
struct Sameness {
  static constexpr std::size_t kSameness = 10;
  std::deque<cache::ImageFeatures> recent;
  std::deque<cache::Similarity> pairs;
  void add(const cache::ImageFeatures& f) {
    recent.push_back(f);
    if (recent.size() > 2) recent.pop_front();
    if (recent.size() == 2) pairs.push_back(cache::similarity(recent.front(), recent.back()));
    if (pairs.size() > kSameness) pairs.pop_front();
  }
  bool ready() const { return pairs.size() == kSameness; }
  double colour() const {
    return mean([](const cache::Similarity& s) { return s.colour; });
  }
  double structure() const {
    return mean([](const cache::Similarity& s) { return s.structure; });
  }
  template <typename F>
  double mean(F of) const {
    double sum = 0;
    for (const auto& s : pairs) sum += of(s);
    return pairs.empty() ? 0.0 : sum / static_cast<double>(pairs.size());
  }
};

// Pops frames until `keyframes` more keyframes were shown, `done` says so, or the deadline; each
// shown keyframe goes to `sameness` and `seen` (its frame and features).
std::size_t watch_keyframes(
    FrameRing<Frame>& ring, Sameness& sameness, std::size_t keyframes,
    std::chrono::seconds deadline, const std::function<bool()>& done,
    const std::function<void(const Frame&, const cache::ImageFeatures&)>& seen = nullptr) {
  std::size_t shown = 0;
  const auto end = std::chrono::steady_clock::now() + deadline;
  while (shown < keyframes && std::chrono::steady_clock::now() < end) {
    if (!ring.wait_for_data(std::stop_token{}, std::chrono::milliseconds(100))) continue;
    const Frame& f = *ring.peek();
    if (f.info.step == 0 && !f.info.poster) {
      const cache::ImageFeatures features = cache::compute_features(image_of(f));
      sameness.add(features);
      if (seen) seen(f, features);
      ++shown;
      if (done && done()) break;
    }
    ring.pop();
  }
  return shown;
}

// A server that collapsed (every prompt returned one picture) and then keeps what it is given
// leaves the loop stuck on that picture once every strand of it holds the picture: the
// detector's trend rose once, an injection cut its history, and the sameness is flat again (the
// injections made while the server still ignored its input were lost). The variety the detector
// held from before the collapse keeps injections coming while the stream stands still, and for a
// while after, until the collapsed picture has left the screen and consecutive keyframes are no
// longer the same picture (a loop calmer than before is accepted, not fought for ever).
TEST(CollapsedServer, AfterTheCollapseThePictureItCollapsedIntoLeavesTheScreen) {
  Degenerating run;
  auto& [server, dir, config, ring, pipeline] = run;
  const CollapseConfig& limits = config.get()->collapse;
  Sameness sameness;
  const std::size_t healthy_count = static_cast<std::size_t>(limits.min_values) + 5;
  ASSERT_EQ(watch_keyframes(ring, sameness, healthy_count, std::chrono::seconds(200), nullptr),
            healthy_count);
  const double healthy_colour = sameness.colour(), healthy_structure = sameness.structure();

  // The collapse, until the detector injected against it and then for as many keyframes again
  // as its trend needs to see a climb (the first injection is lost on a server that ignores it).
  server.fault("collapse", -1);
  std::optional<Image> collapsed;  // the server's one picture, as shown
  std::size_t since_held = 0;
  watch_keyframes(
      ring, sameness, 400, std::chrono::seconds(300),
      [&] {
        if (since_held > 0 || pipeline.status().orchestrator.collapse.holding) ++since_held;
        return since_held > cache::kEdgeValues;
      },
      [&](const Frame& f, const cache::ImageFeatures&) {
        if (!f.info.injected) collapsed = image_of(f);
      });
  ASSERT_GT(since_held, cache::kEdgeValues) << "no collapse injection";
  ASSERT_TRUE(collapsed.has_value());
  server.fault("collapse", 0);

  // The fake inverts what it is given: the collapsed picture comes back as itself or its negative.
  Image negative = *collapsed;
  for (std::size_t i = 0; i < negative.rgba.size(); ++i)
    if (i % 4 != 3) negative.rgba[i] = static_cast<std::uint8_t>(255 - negative.rgba[i]);
  const cache::ImageFeatures as_collapsed[] = {cache::compute_features(*collapsed),
                                               cache::compute_features(negative)};
  std::deque<bool> stuck;  // of the newest kSameness keyframes: the collapsed picture?
  const auto is_stuck = [&](const cache::ImageFeatures& f) {
    return std::ranges::any_of(as_collapsed, [&](const cache::ImageFeatures& c) {
      return cache::similarity(f, c).structure > 0.9;
    });
  };
  const std::size_t within = static_cast<std::size_t>(limits.history) * 3 / 4;
  const auto recovered = [&] {
    return sameness.ready() && stuck.size() == Sameness::kSameness &&
           std::ranges::none_of(stuck, [](bool b) { return b; }) &&
           (sameness.colour() < cache::CollapseDetector::kStillColour ||
            sameness.structure() < cache::CollapseDetector::kStillStructure);
  };
  const std::size_t after =
      watch_keyframes(ring, sameness, within, std::chrono::seconds(300), recovered,
                      [&](const Frame&, const cache::ImageFeatures& f) {
                        stuck.push_back(is_stuck(f));
                        if (stuck.size() > Sameness::kSameness) stuck.pop_front();
                      });
  EXPECT_TRUE(recovered()) << "healthy sameness " << healthy_colour << ", " << healthy_structure
                           << "; " << after << " keyframes after the collapse " << sameness.colour()
                           << ", " << sameness.structure() << " with "
                           << std::ranges::count(stuck, true) << " of the newest " << stuck.size()
                           << " the collapsed picture";
  EXPECT_LT(after, within);
  // Nor is it kept to come back later: the cache holds no frame of the collapse (what it took
  // before the collapse was seen has been taken out again).
  const StatusSnapshot status = pipeline.status();
  EXPECT_GT(status.cache_worker.refused_collapse + status.cache_worker.forgotten, 0u);
  pipeline.stop();
  for (const auto& f : std::filesystem::directory_iterator(config.get()->cache.dir)) {
    if (f.path().extension() != ".png") continue;
    EXPECT_FALSE(is_stuck(cache::compute_features(load_image(f.path().string()))))
        << f.path() << " is the collapsed picture";
  }
}

INSTANTIATE_TEST_SUITE_P(FryAndNoise, DegeneratingServer, ::testing::Values("fry", "noise"));

}  // namespace
}  // namespace dw::pipeline
