// The operator's Commands carried out by the real pipeline (offline source, small keyframes): a
// pause stops the requests while what is in flight plays out and the stream then continues in
// order; next_theme moves the prompt source on; inject_now makes the next keyframe an injection.
// Every wait is for an event with a generous deadline.
#include <gtest/gtest.h>

#include <atomic>
#include <fstream>
#include <thread>

#include "core/commands.h"
#include "pipeline/metrics_table.h"
#include "pipeline/pipeline.h"
#include "pipeline_stream.h"
#include "support/test_support.h"

namespace dw::pipeline {
namespace {

using std::chrono::seconds;

// Everything requested has arrived and been handed on: nothing in flight, nothing queued.
bool settled(const Pipeline& pipeline, const FrameRing<Frame>& ring) {
  const StatusSnapshot s = pipeline.status();
  const OrchestratorStats& o = s.orchestrator;
  return s.source_pending == 0 && s.interpolation_queued_frames == 0 && ring.size() == 0 &&
         o.keyframes == 1 + o.requests + o.injections;
}

// Pops every frame as the presenter would, until stopped; counts frames of injected keyframes.
class Drainer {
 public:
  explicit Drainer(FrameRing<Frame>& ring)
      : thread_([this, &ring](std::stop_token stop) {
          while (!stop.stop_requested()) {
            if (!ring.wait_for_data(stop, std::chrono::milliseconds(100))) continue;
            injected_frames += ring.peek()->info.injected;
            ring.pop();
          }
        }) {}
  std::atomic<std::uint64_t> injected_frames{0};

 private:
  std::jthread thread_;
};

std::string overlay_value(const StatusSnapshot& s, std::string_view label) {
  for (const auto& [l, v] : status_overlay_lines(s))
    if (l == label) return v;
  return "absent";
}

TEST(PipelineControl, PauseStopsRequestsTheBufferPlaysOutAndResumeContinuesInOrder) {
  test::ScratchDir dir;
  ConfigStore config(small_config(dir));
  FrameRing<Frame> ring(32);
  Commands commands;
  PipelineHooks hooks;
  hooks.commands = &commands;
  Pipeline pipeline(config, ring, hooks);

  // The consumer checks order across the whole run; it pauses generation after pair 3.
  Drained d;
  std::jthread consumer([&] {
    d = drain_until(ring, 12, seconds(200), [&](std::uint64_t pair) {
      if (pair == 3) commands.set_pause(kPauseOperator, true);
    });
  });
  ASSERT_TRUE(test::wait_until([&] { return commands.generation_paused(); }, seconds(120)));
  // What was in flight arrives and plays out; then the ring stays dry.
  ASSERT_TRUE(test::wait_until([&] { return settled(pipeline, ring); }, seconds(120)));
  const StatusSnapshot paused = pipeline.status();
  EXPECT_FALSE(test::wait_until(
      [&] { return pipeline.status().orchestrator.requests > paused.orchestrator.requests; },
      seconds(2)))
      << "a keyframe was requested while paused";
  EXPECT_TRUE(paused.control.paused);
  EXPECT_EQ(paused.control.pause_reasons, "operator");
  EXPECT_EQ(overlay_value(paused, "control.paused"), "yes");
  EXPECT_EQ(overlay_value(paused, "control.pause_reasons"), "operator");
  EXPECT_NE(status_to_prometheus(paused).find("dreamwindow_control_paused 1"), std::string::npos);

  commands.set_pause(kPauseOperator, false);
  consumer.join();
  EXPECT_EQ(d.pairs_completed, 12u) << "the stream continues after the pause";
  EXPECT_TRUE(d.problems.empty()) << d.problems.front();
  const StatusSnapshot resumed = pipeline.status();
  EXPECT_GT(resumed.orchestrator.requests, paused.orchestrator.requests);
  EXPECT_FALSE(resumed.control.paused);
  EXPECT_EQ(resumed.control.pause_reasons, "");
}

// The schedule's pause and the operator's are separate: lifting one leaves the other in force.
TEST(PipelineControl, AScheduledPauseOutlivesTheOperatorsResume) {
  test::ScratchDir dir;
  ConfigStore config(small_config(dir));
  FrameRing<Frame> ring(32);
  Commands commands;
  commands.set_pause(kPauseSchedule, true);
  commands.set_pause(kPauseOperator, true);
  PipelineHooks hooks;
  hooks.commands = &commands;
  Pipeline pipeline(config, ring, hooks);
  EXPECT_EQ(pipeline.status().control.pause_reasons, "operator, schedule");
  commands.set_pause(kPauseOperator, false);
  EXPECT_EQ(pipeline.status().control.pause_reasons, "schedule");
  // Only the seed keyframe: nothing is requested while the schedule holds the pause.
  ASSERT_TRUE(
      test::wait_until([&] { return pipeline.status().orchestrator.keyframes == 1; }, seconds(60)));
  EXPECT_FALSE(
      test::wait_until([&] { return pipeline.status().orchestrator.requests > 0; }, seconds(2)));
  commands.set_pause(kPauseSchedule, false);
  EXPECT_TRUE(test::wait_until([&] { return pipeline.status().orchestrator.keyframes >= 3; },
                               seconds(120)));
}

TEST(PipelineControl, NextThemeMovesThePromptSourceOnAtTheNextRequest) {
  test::ScratchDir dir;
  const auto themes = dir / "themes.toml";
  std::ofstream(themes) << "[[theme]]\nname = \"first\"\npositive = \"one\"\n"
                           "[[theme]]\nname = \"second\"\npositive = \"two\"\n"
                           "[[theme]]\nname = \"third\"\npositive = \"three\"\n";
  Config c = small_config(dir);
  c.prompts.themes_file = themes;
  c.prompts.shuffle = false;
  c.prompts.rotate_every = 1000000;  // only a request moves it on
  ConfigStore config(c);
  FrameRing<Frame> ring(32);
  Commands commands;
  PipelineHooks hooks;
  hooks.commands = &commands;
  Pipeline pipeline(config, ring, hooks);
  Drainer drainer(ring);  // keeps requests going

  ASSERT_TRUE(test::wait_until([&] { return pipeline.status().orchestrator.theme == "first"; },
                               seconds(60)));
  commands.next_theme.fetch_add(1);
  EXPECT_TRUE(test::wait_until([&] { return pipeline.status().orchestrator.theme == "second"; },
                               seconds(60)));
  commands.next_theme.fetch_add(1);
  EXPECT_TRUE(test::wait_until([&] { return pipeline.status().orchestrator.theme == "third"; },
                               seconds(60)));
  EXPECT_EQ(pipeline.status().orchestrator.theme_skips, 2u);
}

TEST(PipelineControl, InjectNowMakesTheNextKeyframeAnInjection) {
  test::ScratchDir dir;
  Config c = small_config(dir);
  c.injection.warmup = 1000000;  // the policy never injects on its own here
  ConfigStore config(c);
  FrameRing<Frame> ring(32);
  Commands commands;
  PipelineHooks hooks;
  hooks.commands = &commands;
  Pipeline pipeline(config, ring, hooks);
  Drainer drainer(ring);
  ASSERT_TRUE(test::wait_until([&] { return pipeline.status().orchestrator.keyframes >= 3; },
                               seconds(120)));
  EXPECT_EQ(pipeline.status().orchestrator.injections, 0u);
  commands.inject_now.fetch_add(1);
  ASSERT_TRUE(test::wait_until(
      [&] { return pipeline.status().orchestrator.operator_injections == 1; }, seconds(120)));
  const StatusSnapshot s = pipeline.status();
  EXPECT_EQ(s.orchestrator.injections, 1u);
  EXPECT_EQ(overlay_value(s, "control.operator_injections"), "1");
  // The injected keyframe reaches the screen as one.
  EXPECT_TRUE(test::wait_until([&] { return drainer.injected_frames.load() > 0; }, seconds(120)));
}

// A decoder-only VAE (no encoder file given): keyframes are crossfaded, and an injection, which
// a collapsed loop needs, is blended in pixels instead of failing on every try.
TEST(PipelineControl, ADecoderOnlyVaeStillInjectsInPixels) {
  test::ScratchDir dir;
  Config c = small_config(dir);
  c.injection.warmup = 1000000;
  c.vae.decoder_path =
      (test::source_dir() / "tests/fixtures/vae/tae4_decoder.safetensors").string();
  c.vae.encoder_path.clear();
  c.vae.backend = VaeBackendKind::Cpu;
  ConfigStore config(c);
  FrameRing<Frame> ring(32);
  Commands commands;
  PipelineHooks hooks;
  hooks.commands = &commands;
  Pipeline pipeline(config, ring, hooks);
  Drainer drainer(ring);
  ASSERT_TRUE(test::wait_until([&] { return pipeline.status().orchestrator.keyframes >= 3; },
                               seconds(120)));
  commands.inject_now.fetch_add(1);
  ASSERT_TRUE(test::wait_until(
      [&] { return pipeline.status().orchestrator.operator_injections == 1; }, seconds(120)))
      << "errors: " << pipeline.status().orchestrator.errors << ", last "
      << pipeline.status().orchestrator.last_error;
  EXPECT_TRUE(test::wait_until([&] { return drainer.injected_frames.load() > 0; }, seconds(120)));
  const StatusSnapshot s = pipeline.status();
  EXPECT_EQ(s.orchestrator.errors, 0u) << s.orchestrator.last_error;
  EXPECT_EQ(s.interpolation.encode_errors, 0u) << "no encode is tried without an encoder";
}

}  // namespace
}  // namespace dw::pipeline
