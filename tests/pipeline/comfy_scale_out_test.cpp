// Scale-out: the whole pipeline against 1, 2 and 3 fake ComfyUI servers (tests/comfy/fake_comfy.py)
// whose every prompt takes a fixed time. A server runs one prompt at a time, so keyframes per
// second can only grow with the servers when the pipeline keeps every server's lanes busy: the
// source's capacity (lanes x healthy servers) is the pipeline's depth. The stream stays in order
// with no gap however many servers answer, and every server does its share.
//
// The figure is a ratio of rates that a sleep on the server side sets (the pipeline's own work per
// keyframe is a few milliseconds at 64x64 with pixel crossfades), so it holds on a loaded machine.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <memory>
#include <vector>

#include "comfy/comfy_source.h"
#include "fake_server.h"
#include "pipeline/pipeline.h"
#include "pipeline_stream.h"
#include "support/test_support.h"

namespace dw::pipeline {
namespace {

using Clock = std::chrono::steady_clock;

constexpr double kGenerationSeconds = 0.5;  // per prompt, on every server
constexpr std::uint64_t kWarmupPairs = 10;  // the start-up burst from the buffer drains first
constexpr std::uint64_t kMeasuredPairs = 20;

struct ScaleOutRun {
  double keyframes_per_second = 0;
  Drained drained;
  std::vector<std::uint64_t> prompts_per_server;
};

Config scale_out_config(const test::ScratchDir& dir, const std::vector<std::string>& urls) {
  Config c = small_config(dir);
  c.vae.decoder_path = "none";  // pixel crossfades: the servers' latency is what is measured
  c.vae.encoder_path.clear();
  c.source.kind = SourceKind::Comfy;
  c.comfy.urls = urls;
  c.comfy.in_flight = 2;  // lanes per server
  c.comfy.request_timeout_s = 20;
  c.comfy.retry_max_s = 1;
  c.injection.warmup = 10000;  // every keyframe comes from a server
  c.playback.target_buffer_s = 1;
  return c;
}

ScaleOutRun run_with_servers(int count) {
  std::vector<std::unique_ptr<test::FakeComfy>> servers;
  std::vector<std::string> urls;
  for (int i = 0; i < count; ++i) {
    servers.push_back(std::make_unique<test::FakeComfy>());
    servers.back()->fault("latency", 1, kGenerationSeconds);
    urls.push_back(servers.back()->url());
  }
  test::ScratchDir dir;
  ConfigStore config(scale_out_config(dir, urls));
  FrameRing<Frame> ring(32);
  PipelineHooks hooks;
  hooks.make_comfy_source = [](LiveSection<ComfyConfig> c) -> std::unique_ptr<KeyframeSource> {
    return std::make_unique<comfy::ComfyKeyframeSource>(comfy::options_from_config(*c.get()));
  };
  Pipeline pipeline(config, ring, hooks);
  // Every server up before the clock runs: a server still connecting adds no lanes yet.
  EXPECT_TRUE(test::wait_until(
      [&] {
        const auto servers_now = pipeline.status().source_health.servers;
        return std::all_of(servers_now.begin(), servers_now.end(),
                           [](const ServerHealth& s) { return s.healthy; });
      },
      std::chrono::seconds(30)));

  ScaleOutRun run;
  Clock::time_point start, end;
  run.drained = drain_until(ring, kWarmupPairs + kMeasuredPairs, std::chrono::seconds(120),
                            [&](std::uint64_t pairs) {
                              if (pairs == kWarmupPairs) start = Clock::now();
                              if (pairs == kWarmupPairs + kMeasuredPairs) end = Clock::now();
                            });
  EXPECT_EQ(pipeline.status().source_capacity, static_cast<std::size_t>(2 * count))
      << "the source's capacity is lanes x healthy servers";
  pipeline.stop();
  if (run.drained.pairs_completed == kWarmupPairs + kMeasuredPairs)
    run.keyframes_per_second = kMeasuredPairs / std::chrono::duration<double>(end - start).count();
  for (auto& server : servers)
    run.prompts_per_server.push_back(server->stats()["prompts_executed"].get<std::uint64_t>());
  return run;
}

TEST(PipelineScaleOut, KeyframesPerSecondGrowWithTheServersInOrderWithNoGap) {
  std::vector<double> rates;
  for (int count = 1; count <= 3; ++count) {
    const ScaleOutRun run = run_with_servers(count);
    ASSERT_EQ(run.drained.pairs_completed, kWarmupPairs + kMeasuredPairs) << count << " server(s)";
    EXPECT_TRUE(run.drained.problems.empty())
        << count << " server(s): " << run.drained.problems.front();
    for (std::size_t i = 0; i < run.prompts_per_server.size(); ++i)
      EXPECT_GE(run.prompts_per_server[i], kMeasuredPairs / (2 * count))
          << "server " << i + 1 << " of " << count << " did little of the work";
    rates.push_back(run.keyframes_per_second);
    const std::string line = fmt::format("{} server(s), {:.1f} s per prompt: {:.2f} keyframes/s",
                                         count, kGenerationSeconds, run.keyframes_per_second);
    RecordProperty(fmt::format("servers_{}", count), fmt::format("{:.3f}", rates.back()));
    std::printf("%s\n", line.c_str());
  }
  // One server runs one prompt at a time: 1 / kGenerationSeconds at best.
  EXPECT_GT(rates[0], 0.8 / kGenerationSeconds);
  // Scale-out, not a speed target: with no scaling (lanes not added) the ratios stay near 1, and a
  // server left idle fails the share of work above. The margins below 2x and 3x leave room for
  // the loaded 2-core CI machine under ASan, where the client's own work per keyframe grows (one
  // run there: 1.75x, 2.87x, when 1.6x was the bound for two).
  EXPECT_GE(rates[1], 1.45 * rates[0]) << "2 servers vs 1";
  EXPECT_GE(rates[2], 1.9 * rates[0]) << "3 servers vs 1";
}

}  // namespace
}  // namespace dw::pipeline
