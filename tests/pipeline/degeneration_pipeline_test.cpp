// Issue 11: a ComfyUI loop that fries or dissolves into noise (the fake server's "fry" and "noise"
// faults) is caught by the degeneration detector, broken by injection, and none of its degenerate
// frames reaches the persistent cache.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <string>

#include "cache/diversity_cache.h"
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

INSTANTIATE_TEST_SUITE_P(FryAndNoise, DegeneratingServer, ::testing::Values("fry", "noise"));

}  // namespace
}  // namespace dw::pipeline
