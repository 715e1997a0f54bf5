// The watchdog's judgement under simulated time: when the pings continue and when they stop.
#include "app/service_watchdog.h"

#include <gtest/gtest.h>

#include <cstdint>

namespace dw::service {
namespace {

using std::chrono::seconds;

struct Sim {
  WatchdogJudge judge{seconds(10)};
  Clock::time_point now{};
  WatchdogSample sample;

  Sim() { sample.running = {{"orchestrator", 0}, {"interpolation", 0}, {"cache", 0}}; }
  std::size_t stuck_output = SIZE_MAX;  // an output (index into sample.outputs) that stops
  // Advances time by `dt`; the display, its outputs and every worker move unless told otherwise.
  WatchdogVerdict tick(seconds dt, const std::string& stuck_worker = "", bool frames = true) {
    now += dt;
    if (frames) sample.frames_presented += 60;
    for (std::size_t i = 0; i < sample.outputs.size(); ++i)
      if (i != stuck_output) sample.outputs[i].presented += 50;
    for (auto& w : sample.running)
      if (w.name != stuck_worker) w.steps += 5;
    return judge.observe(now, sample);
  }
};

TEST(WatchdogJudge, HealthyWhileFramesAndWorkersMove) {
  Sim sim;
  for (int i = 0; i < 100; ++i) ASSERT_TRUE(sim.tick(seconds(1)).healthy) << "at tick " << i;
}

TEST(WatchdogJudge, AWedgedWorkerStopsThePingsAfterTheWindowAndIsNamed) {
  Sim sim;
  sim.tick(seconds(1));
  for (int i = 0; i < 10; ++i) EXPECT_TRUE(sim.tick(seconds(1), "interpolation").healthy);
  const WatchdogVerdict v = sim.tick(seconds(1), "interpolation");
  EXPECT_FALSE(v.healthy);
  EXPECT_NE(v.reason.find("'interpolation' made no step for 11 s"), std::string::npos) << v.reason;
  // It stays unhealthy while the worker stays wedged, and recovers when it moves again.
  EXPECT_FALSE(sim.tick(seconds(30), "interpolation").healthy);
  EXPECT_TRUE(sim.tick(seconds(1)).healthy);
}

TEST(WatchdogJudge, ARenderLoopThatStopsPresentingIsUnhealthy) {
  Sim sim;
  sim.tick(seconds(1));
  EXPECT_TRUE(sim.tick(seconds(10), "", /*frames=*/false).healthy);
  const WatchdogVerdict v = sim.tick(seconds(1), "", /*frames=*/false);
  EXPECT_FALSE(v.healthy);
  EXPECT_NE(v.reason.find("no frame presented"), std::string::npos) << v.reason;
}

// A projector drawn by a thread of its own that stops (its driver wedged in a swap) would stay on
// one picture for good while the main window goes on: the pings stop and it is named.
TEST(WatchdogJudge, AnOutputThreadThatStopsPresentingIsUnhealthyAndNamed) {
  Sim sim;
  sim.sample.outputs = {{0, /*judged=*/false}, {0, true}, {0, true}};
  sim.tick(seconds(1));
  sim.stuck_output = 2;
  for (int i = 0; i < 10; ++i) EXPECT_TRUE(sim.tick(seconds(1)).healthy);
  const WatchdogVerdict v = sim.tick(seconds(1));
  EXPECT_FALSE(v.healthy);
  EXPECT_EQ(v.reason, "output 3 presented no frame for 11 s");
  sim.stuck_output = SIZE_MAX;
  EXPECT_TRUE(sim.tick(seconds(1)).healthy) << "it presents again";
}

// A projector switched off takes its window off its display: it is not judged meanwhile, and its
// window starts again when it is back.
TEST(WatchdogJudge, AnOutputWhoseDisplayIsAwayIsExcused) {
  Sim sim;
  sim.sample.outputs = {{0, false}, {0, true}};
  sim.tick(seconds(1));
  sim.stuck_output = 1;
  sim.sample.outputs[1].judged = false;
  for (int i = 0; i < 60; ++i) ASSERT_TRUE(sim.tick(seconds(1)).healthy) << "at " << i;
  sim.sample.outputs[1].judged = true;
  for (int i = 0; i < 10; ++i) EXPECT_TRUE(sim.tick(seconds(1)).healthy) << "back " << i;
  EXPECT_FALSE(sim.tick(seconds(1)).healthy) << "back, and still not presenting";
}

TEST(WatchdogJudge, PausedGenerationAndAFullBufferExcuseStillWorkersAndRestartTheWindow) {
  for (const bool paused : {true, false}) {
    Sim sim;
    sim.tick(seconds(1));
    sim.sample.generation_paused = paused;
    sim.sample.buffer_full = !paused;
    for (int i = 0; i < 60; ++i)
      ASSERT_TRUE(sim.tick(seconds(1), "orchestrator").healthy) << "paused " << paused;
    // The excuse ends: the worker gets a full window from then on, not from its last step.
    sim.sample.generation_paused = false;
    sim.sample.buffer_full = false;
    for (int i = 0; i < 10; ++i) EXPECT_TRUE(sim.tick(seconds(1), "orchestrator").healthy);
    EXPECT_FALSE(sim.tick(seconds(1), "orchestrator").healthy);
  }
}

// The frames queued for the interpolation worker count in the buffer, so a full buffer says
// nothing about it: hung in a decode (a CUDA call that never returns), it is found after the
// window although the orchestrator keeps the buffer at its target. Only a ring more than half
// full, its own wait, excuses it.
TEST(WatchdogJudge, AFullBufferDoesNotHideAHungInterpolationWorker) {
  Sim sim;
  for (auto& w : sim.sample.running) w.fills_ring = w.name == "interpolation";
  sim.tick(seconds(1));
  sim.sample.buffer_full = true;  // at its target by the queued frames; the ring runs dry
  for (int i = 0; i < 10; ++i) ASSERT_TRUE(sim.tick(seconds(1), "interpolation").healthy);
  const WatchdogVerdict v = sim.tick(seconds(1), "interpolation");
  EXPECT_FALSE(v.healthy);
  EXPECT_NE(v.reason.find("'interpolation'"), std::string::npos) << v.reason;
  // Waiting for room in a ring more than half full is its legitimate wait.
  sim.sample.ring_full = true;
  for (int i = 0; i < 60; ++i) ASSERT_TRUE(sim.tick(seconds(1), "interpolation").healthy);
  // The orchestrator, blocked behind it, stays excused by the full buffer meanwhile.
  sim.sample.ring_full = false;
  for (int i = 0; i < 60; ++i) ASSERT_TRUE(sim.tick(seconds(1), "orchestrator").healthy);
}

TEST(WatchdogJudge, APausedStreamStillNeedsTheRenderLoop) {
  Sim sim;
  sim.sample.generation_paused = true;
  sim.tick(seconds(1));
  EXPECT_FALSE(sim.tick(seconds(11), "", /*frames=*/false).healthy);
}

TEST(WatchdogJudge, AFailedWorkerIsUnhealthyAtOnce) {
  Sim sim;
  sim.tick(seconds(1));
  sim.sample.failed = {"cache"};
  const WatchdogVerdict v = sim.tick(seconds(1));
  EXPECT_FALSE(v.healthy);
  EXPECT_EQ(v.reason, "worker 'cache' failed");
}

TEST(WatchdogJudge, ALiveWindowChangeApplies) {
  Sim sim;
  sim.tick(seconds(1));
  sim.tick(seconds(3), "cache");
  sim.judge.set_window(seconds(2));
  EXPECT_FALSE(sim.tick(seconds(1), "cache").healthy);
}

pipeline::StatusSnapshot snapshot() {
  pipeline::StatusSnapshot s;
  s.display.frames_presented = 42;
  s.display.current_keyframe = 7;
  s.display.fps = 59.94;
  s.buffer_s = 3.0;
  s.buffer_target_s = 16.0;
  s.ring_capacity = 256;
  s.ring_depth = 36;
  s.orchestrator.theme = "ocean\nfloor";
  s.workers = {{"orchestrator", pipeline::WorkerState::Running, 0, "", 12},
               {"cache", pipeline::WorkerState::Failed, 1, "boom", 3},
               {"keyframes", pipeline::WorkerState::Running, 0, "", std::nullopt}};
  return s;
}

TEST(WatchdogSampleFrom, TakesRunningWorkersWithStepsAndFailedOnes) {
  const WatchdogSample sample = sample_from(snapshot(), false);
  EXPECT_EQ(sample.frames_presented, 42u);
  ASSERT_EQ(sample.running.size(), 1u);  // the source has no steps; the failed one is listed apart
  EXPECT_EQ(sample.running[0].name, "orchestrator");
  EXPECT_EQ(sample.running[0].steps, 12u);
  EXPECT_EQ(sample.failed, std::vector<std::string>{"cache"});
  EXPECT_FALSE(sample.buffer_full);
}

TEST(WatchdogSampleFrom, TheBufferIsFullAboveItsTargetOrAboveHalfTheRing) {
  pipeline::StatusSnapshot s = snapshot();
  s.buffer_s = 16.0;
  EXPECT_TRUE(sample_from(s, false).buffer_full);
  EXPECT_FALSE(sample_from(s, false).ring_full) << "the queued frames are not the ring";
  s = snapshot();
  s.ring_depth = 129;
  EXPECT_TRUE(sample_from(s, false).buffer_full);
  EXPECT_TRUE(sample_from(s, false).ring_full);
  EXPECT_TRUE(sample_from(snapshot(), true).generation_paused);
}

// Output 1 is the main window's (frames_presented); an output is judged when its own thread
// draws it on its display.
TEST(WatchdogSampleFrom, JudgesOutputsWithAThreadOfTheirOwnOnTheirDisplay) {
  pipeline::StatusSnapshot s = snapshot();
  s.display.outputs = {{100, 0, 60, /*own_thread=*/false, true},
                       {90, 2, 50, true, true},
                       {80, 0, 0, true, /*on_display=*/false}};
  const WatchdogSample sample = sample_from(s, false);
  ASSERT_EQ(sample.outputs.size(), 3u);
  EXPECT_FALSE(sample.outputs[0].judged);
  EXPECT_TRUE(sample.outputs[1].judged);
  EXPECT_EQ(sample.outputs[1].presented, 90u);
  EXPECT_FALSE(sample.outputs[2].judged);
}

// A pair is one step of the interpolation worker, and a slow decoder takes long over it: the
// frames it wrote count as progress too.
TEST(WatchdogSampleFrom, TheInterpolationWorkersFramesCountAsItsProgress) {
  pipeline::StatusSnapshot s = snapshot();
  s.workers.push_back({"interpolation", pipeline::WorkerState::Running, 0, "", 5});
  s.interpolation.frames = 100;
  const WatchdogSample sample = sample_from(s, false);
  ASSERT_EQ(sample.running.size(), 2u);
  EXPECT_EQ(sample.running[1].name, "interpolation");
  EXPECT_EQ(sample.running[1].steps, 105u);
  EXPECT_TRUE(sample.running[1].fills_ring);
  EXPECT_FALSE(sample.running[0].fills_ring);
}

TEST(StatusLine, OneLineWithKeyframeThemeRateBufferAndVerdict) {
  const std::string ok = status_line(snapshot(), {true, "ok"}, false);
  EXPECT_EQ(ok, "keyframe 7, theme 'ocean floor', 59.9 fps, buffer 3.0 s, watchdog ok");
  const std::string bad =
      status_line(snapshot(), {false, "worker 'cache' failed"}, /*generation_paused=*/true);
  EXPECT_NE(bad.find("generation paused"), std::string::npos);
  EXPECT_NE(bad.find("watchdog stalled: worker 'cache' failed"), std::string::npos);
}

}  // namespace
}  // namespace dw::service
