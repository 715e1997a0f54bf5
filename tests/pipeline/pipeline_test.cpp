// The pipeline end to end on this machine: offline keyframes, the CPU VAE with the real taef2
// weights when ../shared/models exists (pixel crossfades otherwise), the frame ring drained by a
// consumer thread standing in for the render loop.
#include "pipeline/pipeline.h"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <stdexcept>
#include <thread>

#include "../cache/test_images.h"
#include "core/files.h"
#include "pipeline/metrics_table.h"
#include "pipeline/picture_ops.h"
#include "pipeline_stream.h"
#include "support/test_support.h"

namespace dw::pipeline {
namespace {

TEST(Pipeline, ThirtyKeyframesFlowInOrderWithNoGapAndNoDuplicate) {
  test::ScratchDir dir;
  ConfigStore config(small_config(dir));
  FrameRing<Frame> ring(32);
  Pipeline pipeline(config, ring, PipelineHooks{});
  const Drained d = drain_until(ring, 30, std::chrono::seconds(90));
  EXPECT_EQ(d.pairs_completed, 30u);
  EXPECT_TRUE(d.problems.empty()) << d.problems.front();
  EXPECT_FALSE(d.any_black);
  EXPECT_EQ(d.frames, 30u * 5);
  const StatusSnapshot s = pipeline.status();
  EXPECT_GE(s.orchestrator.keyframes, 31u);
  EXPECT_EQ(s.vae_backend, test::shared_models_dir().empty() ? "none" : "cpu");
  EXPECT_EQ(s.interpolation.decode_errors, 0u);
  EXPECT_EQ(s.interpolation.encode_errors, 0u);
  pipeline.stop();

  // status.json is the final state and agrees with what happened.
  const auto bytes = read_file(config.get()->status.path, 1 << 20);
  const auto j = nlohmann::json::parse(bytes.begin(), bytes.end());
  EXPECT_GE(j["generation"]["keyframes"].get<std::uint64_t>(), 31u);
  EXPECT_GE(j["interpolation"]["frames"].get<std::uint64_t>(), d.frames);
  // The cache worker may still have accepted frames between the snapshot and the stop: the final
  // count is at least what the snapshot saw, and within the configured bound.
  EXPECT_GE(j["cache"]["entries"].get<std::size_t>(), s.cache_entries);
  EXPECT_LE(j["cache"]["entries"].get<std::size_t>(),
            static_cast<std::size_t>(config.get()->cache.max_entries));
  EXPECT_GT(s.cache_entries, 0u) << "keyframes and middle frames reach the cache";
}

// What a keyframe tells (the archive, the cache, collapse) failing for one keyframe (out of
// memory, an observer that throws) loses nothing of the stream: that keyframe and every one after
// it are shown. The keyframe was lost, and the stream stopped behind it for good.
TEST(Pipeline, AKeyframeWhoseNoteFailsIsShownAllTheSame) {
  test::ScratchDir dir;
  ConfigStore config(small_config(dir));
  FrameRing<Frame> ring(32);
  PipelineHooks hooks;
  std::atomic<int> noted{0};
  hooks.on_keyframe = [&](const KeyframeNote& k) {
    ++noted;
    if (k.index == 3) throw std::runtime_error("the archive's disk is full");
  };
  Pipeline pipeline(config, ring, hooks);
  const Drained d = drain_until(ring, 8, std::chrono::seconds(90));
  EXPECT_EQ(d.pairs_completed, 8u) << "the stream stopped at the keyframe whose note failed";
  EXPECT_TRUE(d.problems.empty()) << d.problems.front();
  EXPECT_GE(noted.load(), 8);
  pipeline.stop();
}

TEST(Pipeline, TheCacheSurvivesARestartAndStaysWithinItsSize) {
  test::ScratchDir dir;
  Config c = small_config(dir);
  c.cache.max_entries = 5;
  c.cache.color_threshold = 3.5;  // accept everything: the bound is what is tested
  c.cache.structure_threshold = 1.5;
  std::size_t entries_before = 0;
  {
    ConfigStore config(c);
    FrameRing<Frame> ring(32);
    Pipeline pipeline(config, ring, PipelineHooks{});
    drain_until(ring, 12, std::chrono::seconds(60));
    ASSERT_TRUE(test::wait_until([&] { return pipeline.status().cache_entries == 5; }));
    pipeline.stop();
    entries_before = 5;
  }
  ConfigStore config(c);
  FrameRing<Frame> ring(32);
  Pipeline again(config, ring, PipelineHooks{});
  EXPECT_EQ(again.status().cache_entries, entries_before);
  std::size_t pngs = 0;
  for (const auto& f : std::filesystem::directory_iterator(c.cache.dir))
    pngs += f.path().extension() == ".png";
  EXPECT_LE(pngs, 5u);
}

TEST(Pipeline, StopsPromptly) {
  test::ScratchDir dir;
  ConfigStore config(small_config(dir));
  FrameRing<Frame> ring(8);  // fills fast: workers are blocked on a full ring when stop comes
  Pipeline pipeline(config, ring, PipelineHooks{});
  // The producer reserves up to half the ring at a time, so "full" is within one batch of it.
  ASSERT_TRUE(test::wait_until([&] { return ring.size() > ring.capacity() / 2; },
                               std::chrono::seconds(60)));
  const auto start = std::chrono::steady_clock::now();
  pipeline.stop();
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(2));
}

// source.folder missing at start (a disk that mounts late) with a generating source: the stream
// starts from the default seeds, and status says why and that only a restart reads the folder.
TEST(Pipeline, AMissingSeedFolderStartsFromTheDefaultSeedsAndSaysSo) {
  test::ScratchDir dir;
  Config c = small_config(dir);
  c.source.kind = SourceKind::Offline;
  c.source.folder = dir / "usb";
  ConfigStore config(c);
  FrameRing<Frame> ring(32);
  Pipeline pipeline(config, ring, PipelineHooks{});
  const Drained d = drain_until(ring, 3, std::chrono::seconds(90));
  EXPECT_EQ(d.pairs_completed, 3u);
  EXPECT_FALSE(d.any_black);
  const FolderStatus folder = pipeline.status().folder;
  EXPECT_EQ(folder.path, c.source.folder);
  EXPECT_FALSE(folder.watched);
  EXPECT_NE(folder.problem.find("no such folder"), std::string::npos) << folder.problem;
  EXPECT_NE(folder.problem.find("restart"), std::string::npos) << folder.problem;
  const std::vector<std::string> problems = status_problems(pipeline.status());
  EXPECT_TRUE(std::any_of(problems.begin(), problems.end(), [&](const std::string& p) {
    return p.starts_with("source.folder " + c.source.folder + ": no such folder");
  }));
}

// Two keyframes in a row that are the same picture (a folder holding one image twice, a server
// answering the same graph twice) make a pair with nothing to morph: its frames are marked still,
// so the presenter moves them itself. Pairs of different keyframes are not marked.
TEST(Pipeline, APairOfTheSamePictureIsMarkedStill) {
  test::ScratchDir dir;
  Config c = small_config(dir);
  c.source.kind = SourceKind::Folder;
  c.source.folder = dir / "folder";
  std::filesystem::create_directories(c.source.folder);
  const Image a = test::pattern_image(1, 64, 64), b = test::pattern_image(2, 64, 64);
  save_png(a, c.source.folder + "/1.png");  // keyframes A, A, B, A, A, B, ...
  save_png(a, c.source.folder + "/2.png");
  save_png(b, c.source.folder + "/3.png");
  ConfigStore config(c);
  FrameRing<Frame> ring(32);
  Pipeline pipeline(config, ring, PipelineHooks{});

  // Per pair: its first frame (keyframe k itself) and whether its frames are marked still.
  std::map<std::uint64_t, Image> first;
  std::map<std::uint64_t, std::set<bool>> marked;
  const auto end = std::chrono::steady_clock::now() + std::chrono::seconds(90);
  while (first.size() < 8 && std::chrono::steady_clock::now() < end) {
    if (!ring.wait_for_data(std::stop_token{}, std::chrono::milliseconds(100))) continue;
    const Frame& f = *ring.peek();
    if (!f.info.poster) {
      marked[f.info.keyframe_index].insert(f.info.still);
      if (f.info.step == 0) {
        Image& img = first[f.info.keyframe_index];
        img.width = f.width;
        img.height = f.height;
        img.rgba = f.host_rgba;
      }
    }
    ring.pop();
  }
  pipeline.stop();
  ASSERT_EQ(first.size(), 8u);
  int still_pairs = 0, moving_pairs = 0;
  for (auto it = first.begin(); std::next(it) != first.end(); ++it) {
    const std::uint64_t k = it->first;
    ASSERT_EQ(marked[k].size(), 1u) << "pair " << k << ": some frames marked, some not";
    const bool same = mean_abs_difference(it->second, std::next(it)->second) < 1.0;
    EXPECT_EQ(*marked[k].begin(), same) << "pair " << k;
    (same ? still_pairs : moving_pairs) += 1;
  }
  EXPECT_GE(still_pairs, 2);
  EXPECT_GE(moving_pairs, 4);
}

// A display that shows no new content (its buffer ran dry) reports 0 content frames per second,
// and status, /metrics and the overlay say 0: not the configured rate, which would hide the
// standstill from the operator. Without a display (no hook) nothing was measured and status
// keeps the configured rate.
TEST(Pipeline, StatusReportsTheDisplaysMeasuredContentRateEvenWhenItIsZero) {
  test::ScratchDir dir;
  ConfigStore config(small_config(dir));
  FrameRing<Frame> ring(8);
  PipelineHooks hooks;
  std::atomic<double> measured{0.0};
  hooks.display_status = [&] {
    DisplayStatus d;
    d.content_fps = measured.load();
    return d;
  };
  Pipeline pipeline(config, ring, hooks);
  EXPECT_EQ(pipeline.status().display.content_fps, 0.0);
  EXPECT_NE(status_to_prometheus(pipeline.status()).find("dreamwindow_frame_content_fps 0\n"),
            std::string::npos);
  measured = 11.5;
  EXPECT_EQ(pipeline.status().display.content_fps, 11.5);
  pipeline.stop();

  Pipeline headless(config, ring, PipelineHooks{});
  EXPECT_EQ(headless.status().display.content_fps, config.get()->display.content_fps);
}

// Worker state is real: a worker whose step throws shows "failed" with the message in every view
// of status, the others "running"; after stop() they show "stopped" and the failure stays.
TEST(Pipeline, AFailedWorkerAndStoppedOnesShowInStatus) {
  test::ScratchDir dir;
  ConfigStore config(small_config(dir));
  FrameRing<Frame> ring(32);
  PipelineHooks hooks;
  hooks.worker_fault = [](std::string_view name) {
    if (name == "cache") throw std::runtime_error("injected cache fault");
  };
  Pipeline pipeline(config, ring, hooks);
  const auto state_of = [](const StatusSnapshot& s, std::string_view name) {
    for (const WorkerHealth& w : s.workers)
      if (w.name == name) return std::string(to_string(w.state)) + ": " + w.last_error;
    return std::string("absent");
  };
  ASSERT_TRUE(test::wait_until(
      [&] { return state_of(pipeline.status(), "cache") == "failed: injected cache fault"; }));
  const StatusSnapshot s = pipeline.status();
  EXPECT_EQ(state_of(s, "orchestrator"), "running: ");
  EXPECT_EQ(state_of(s, "interpolation"), "running: ");
  EXPECT_NE(status_to_prometheus(s).find(
                "dreamwindow_workers_state_info{worker=\"cache\",value=\"failed\"} 1"),
            std::string::npos);
  bool overlay_shows_it = false;
  for (const auto& [label, value] : status_overlay_lines(s))
    overlay_shows_it |= label == "workers[cache].state" && value == "failed";
  EXPECT_TRUE(overlay_shows_it);

  pipeline.stop();
  const auto bytes = read_file(config.get()->status.path, 1 << 20);
  const auto j = nlohmann::json::parse(bytes.begin(), bytes.end());
  std::map<std::string, std::string> final_states;
  for (const auto& w : j["workers"]) final_states[w["name"]] = w["state"];
  EXPECT_EQ(final_states["cache"], "failed");
  EXPECT_EQ(final_states["orchestrator"], "stopped");
  EXPECT_EQ(final_states["interpolation"], "stopped");
}

}  // namespace
}  // namespace dw::pipeline

namespace dw::pipeline {
namespace {

TEST(Pipeline, StopsWithinTwoSecondsEvenDuringALongDecode) {
  if (test::shared_models_dir().empty()) GTEST_SKIP() << "needs ../shared/models (taef2 weights)";
  test::ScratchDir dir;
  Config c = small_config(dir);
  c.comfy.width = 512;  // a CPU decode of 11 frames at 512x512 takes many seconds here
  c.comfy.height = 512;
  ConfigStore config(c);
  FrameRing<Frame> ring(32);
  Pipeline pipeline(config, ring, PipelineHooks{});
  // Keyframe 2 has arrived: the first pair's batch decode is under way.
  ASSERT_TRUE(test::wait_until([&] { return pipeline.status().interpolation.keyframes >= 2; },
                               std::chrono::seconds(60)));
  const auto start = std::chrono::steady_clock::now();
  pipeline.stop();
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(2));
}

}  // namespace
}  // namespace dw::pipeline
