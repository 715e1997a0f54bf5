// The keyframe source against the fake ComfyUI server (tests/comfy/fake_comfy.py): the happy
// path, K in flight, every fault the server can show (after each, the keyframe sequence has no
// gap and no duplicate), shutdown during a request, invalid workflows, several servers, the caps.
#include "comfy/comfy_source.h"

#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <mutex>

#include "comfy/http.h"
#include "comfy/protocol.h"
#include "comfy_source_helpers.h"
#include "fake_server.h"
#include "pipeline/offline_source.h"
#include "pipeline/switching_source.h"
#include "support/test_support.h"

namespace dw::comfy {
namespace {

using namespace test_helpers;

TEST(ComfySource, HappyPathKeepsKInFlightAndLeavesNothingOnTheServer) {
  test::FakeComfy server;
  ComfyKeyframeSource source(options_for({server.url()}));
  ASSERT_TRUE(test::wait_until([&] { return source.healthy(); }));
  const auto got = run_keyframes(source, 8);
  expect_complete_and_correct(got, 8);
  EXPECT_EQ(got.begin()->second.origin, "comfy " + server.url());
  EXPECT_EQ(source.pending(), 0u);
  const auto stats = source.stats();
  EXPECT_EQ(stats.keyframes, 8u);
  EXPECT_EQ(stats.failed_attempts, 0u);
  EXPECT_GT(stats.bytes_received, 0u);
  const auto fake = server.stats();
  EXPECT_EQ(fake["prompts_executed"], 8);
  // One input file per lane, overwritten each time; the keyframes came over the WebSocket.
  EXPECT_LE(fake["files"]["input"].size(), 2u);
  EXPECT_TRUE(fake["files"]["output"].empty());
  EXPECT_TRUE(fake["files"]["temp"].empty());
}

TEST(ComfySource, OffersTheServersCheckpointsSamplersAndSchedulers) {
  test::FakeComfy server;
  ComfyKeyframeSource source(options_for({server.url()}));
  ASSERT_TRUE(test::wait_until([&] { return source.healthy(); }));
  const auto settings = source.health().settings;
  ASSERT_TRUE(settings);
  // The fake server's lists (tests/comfy/fake_comfy.py), as its /object_info answers them.
  EXPECT_EQ(settings->offered.at("sampler"),
            (std::vector<std::string>{"euler", "euler_ancestral", "heun", "dpmpp_2m",
                                      "dpmpp_2m_sde", "lcm"}));
  EXPECT_EQ(settings->offered.at("scheduler").size(), 5u);
  EXPECT_EQ(settings->offered.at("checkpoint").front(), "v1-5-pruned-emaonly.safetensors");
}

TEST(ComfySource, AKeyframeFedBackIsUploadedAsTheServersOwnBytes) {
  test::FakeComfy server;
  ComfyKeyframeSource source(options_for({server.url()}));
  ASSERT_TRUE(source.submit(request(0)));
  auto k0 = source.next(std::stop_token{}, 20s);
  ASSERT_TRUE(k0.has_value());
  KeyframeRequest r = request(1);
  r.input = k0->image;  // the feedback loop: keyframe 0 is the input of keyframe 1
  ASSERT_TRUE(source.submit(std::move(r)));
  auto k1 = source.next(std::stop_token{}, 20s);
  ASSERT_TRUE(k1.has_value());
  // Inverted twice: keyframe 0's input again, exactly.
  EXPECT_EQ(k1->image.rgba, request(0).input.rgba);
  EXPECT_EQ(source.stats().uploads_reused, 1u);
}

TEST(ComfySource, UsesTheUploadNameTheServerAnswers) {
  test::FakeComfy server;
  auto options = options_for({server.url()});
  options.in_flight = 1;  // one lane: every upload goes to the same name
  ComfyKeyframeSource source(options);
  ASSERT_TRUE(test::wait_until([&] { return source.healthy(); }));
  expect_complete_and_correct(run_keyframes(source, 1), 1);
  server.fault("rename", 2);  // the next uploads land under "... (1).png" and "... (2).png"
  std::map<std::uint64_t, Keyframe> got;
  for (std::uint64_t k = 0; k < 3; ++k) {
    ASSERT_TRUE(source.submit(request(k)));
    auto kf = source.next(std::stop_token{}, 20s);
    ASSERT_TRUE(kf.has_value());
    got[kf->index] = std::move(*kf);
  }
  expect_complete_and_correct(got, 3);
  EXPECT_EQ(server.stats()["files"]["input"].size(), 3u);
}

TEST(ComfySource, AnIdenticalGraphServedFromTheServersCacheStillDelivers) {
  // SaveImage output: a resubmitted identical graph is answered from the cache (no node runs, the
  // history repeats the earlier file), and the keyframe must still come back.
  test::ScratchDir dir;
  const std::string path = dir / "save.json";
  std::ofstream(path) << R"({
      "1": {"class_type": "CheckpointLoaderSimple", "inputs": {"ckpt_name": "{{checkpoint}}"}},
      "4": {"class_type": "LoadImage", "inputs": {"image": "{{image}}"}},
      "6": {"class_type": "VAEEncode", "inputs": {"pixels": ["4", 0], "vae": ["1", 2]}},
      "7": {"class_type": "KSampler", "inputs": {"model": ["1", 0], "seed": "{{seed}}", "steps": 2,
            "cfg": 5.0, "sampler_name": "euler", "scheduler": "normal", "positive": ["1", 1],
            "negative": ["1", 1], "latent_image": ["6", 0], "denoise": 0.3}},
      "8": {"class_type": "VAEDecode", "inputs": {"samples": ["7", 0], "vae": ["1", 2]}},
      "9": {"class_type": "SaveImage", "inputs": {"images": ["8", 0], "filename_prefix": "dw"}}})";
  test::FakeComfy server;
  auto options = options_for({server.url()});
  options.workflow = path;
  options.in_flight = 1;
  ComfyKeyframeSource source(options);
  for (int round = 0; round < 2; ++round) {
    ASSERT_TRUE(source.submit(request(0)));  // same input, same seed, same upload name
    auto k = source.next(std::stop_token{}, 20s);
    ASSERT_TRUE(k.has_value()) << "round " << round;
    std::map<std::uint64_t, Keyframe> one;
    one[0] = std::move(*k);
    expect_complete_and_correct(one, 1);
  }
  EXPECT_EQ(server.stats()["files"]["output"].size(), 1u) << "the second run should be cached";
}

TEST(ComfySource, SeedsReachTheServerAsExactUint64) {
  test::FakeComfy server;
  ComfyKeyframeSource source(options_for({server.url()}));
  KeyframeRequest r = request(0);
  r.seed = 18446744073709551557ull;  // the largest 64-bit prime: a double would round it
  ASSERT_TRUE(source.submit(std::move(r)));
  ASSERT_TRUE(source.next(std::stop_token{}, 20s).has_value());
  EXPECT_EQ(server.stats()["last_seed"], "18446744073709551557");
}

// The overlay edits comfy.steps / cfg / denoise / sampler live: the next request carries them.
TEST(ComfySource, LiveSamplerSettingsReachTheNextRequest) {
  test::FakeComfy server;
  ComfySourceOptions options = options_for({server.url()});
  std::mutex mutex;
  WorkflowValues live = options.defaults;
  options.live_values = [&] {
    std::lock_guard lock(mutex);
    return live;
  };
  ComfyKeyframeSource source(std::move(options));
  ASSERT_TRUE(source.submit(request(0)));
  ASSERT_TRUE(source.next(std::stop_token{}, 20s).has_value());
  EXPECT_EQ(server.stats()["last_sampler"]["steps"], live.steps);
  {
    std::lock_guard lock(mutex);
    live.steps = 7;
    live.denoise = 0.35;
    live.sampler = "dpmpp_2m";
  }
  ASSERT_TRUE(source.submit(request(1)));
  ASSERT_TRUE(source.next(std::stop_token{}, 20s).has_value());
  const auto sampler = server.stats()["last_sampler"];
  EXPECT_EQ(sampler["steps"], 7);
  EXPECT_DOUBLE_EQ(sampler["denoise"].get<double>(), 0.35);
  EXPECT_EQ(sampler["sampler_name"], "dpmpp_2m");
}

TEST(ComfySource, RecoversFromHttp500s) {
  test::FakeComfy server;
  ComfyKeyframeSource source(options_for({server.url()}));
  ASSERT_TRUE(test::wait_until([&] { return source.healthy(); }));
  server.fault("http500", 3);
  expect_complete_and_correct(run_keyframes(source, 6), 6);
  EXPECT_GE(source.stats().failed_attempts, 1u);
  EXPECT_NE(source.health().last_error.find("HTTP 500"), std::string::npos)
      << source.health().last_error;
}

TEST(ComfySource, RecoversFromASocketDroppedMidPrompt) {
  test::FakeComfy server;
  ComfyKeyframeSource source(options_for({server.url()}));
  ASSERT_TRUE(test::wait_until([&] { return source.healthy(); }));
  server.fault("drop_socket", 2);
  expect_complete_and_correct(run_keyframes(source, 6), 6);
  EXPECT_GE(server.stats()["ws_connects"].get<int>(), 2);  // it reconnected
}

TEST(ComfySource, RecoversFromAHangWithNoAnswer) {
  test::FakeComfy server;
  auto options = options_for({server.url()});
  options.request_timeout_s = 1.5;
  ComfyKeyframeSource source(options);
  ASSERT_TRUE(test::wait_until([&] { return source.healthy(); }));
  server.fault("hang", 1);
  expect_complete_and_correct(run_keyframes(source, 4), 4);
  EXPECT_GE(source.stats().transport_errors, 1u);
}

TEST(ComfySource, FindsARestartedServerAgain) {
  test::FakeComfy server;
  ComfyKeyframeSource source(options_for({server.url()}));
  ASSERT_TRUE(test::wait_until([&] { return source.healthy(); }));
  expect_complete_and_correct(run_keyframes(source, 2), 2);
  server.fault("latency", 0, 0.3);  // the restart lands while prompts are out
  std::map<std::uint64_t, Keyframe> got;
  for (std::uint64_t k = 0; k < 2; ++k) ASSERT_TRUE(source.submit(request(k)));
  ASSERT_TRUE(test::wait_until([&] { return server.stats()["running"].get<bool>(); }));
  server.fault("restart", 1, 0.5);
  ASSERT_TRUE(test::wait_until([&] { return !source.healthy(); }));
  ASSERT_TRUE(server.wait_ready(10s));
  while (got.size() < 2) {
    auto k = source.next(std::stop_token{}, 20s);
    ASSERT_TRUE(k.has_value()) << "no keyframe after the restart";
    EXPECT_FALSE(got.count(k->index));
    got[k->index] = std::move(*k);
  }
  expect_complete_and_correct(got, 2);
  EXPECT_TRUE(source.healthy());
  EXPECT_EQ(source.stats().servers[0].last_error, "") << "the error outlived the recovery";
}

TEST(ComfySource, ExecutionErrorsAreRetriedAndNameTheNode) {
  test::FakeComfy server;
  ComfyKeyframeSource source(options_for({server.url()}));
  ASSERT_TRUE(test::wait_until([&] { return source.healthy(); }));
  server.fault("execution_error", 2);
  expect_complete_and_correct(run_keyframes(source, 4), 4);
  const auto stats = source.stats();
  EXPECT_GE(stats.server_errors, 2u);
  EXPECT_NE(stats.last_error.find("node 7 (KSampler): torch.OutOfMemoryError"), std::string::npos)
      << stats.last_error;
}

TEST(ComfySource, ShutdownDuringARequestIsPromptAndRemovesOurPrompt) {
  test::FakeComfy server;
  server.fault("latency", 0, 30.0);  // generation that would take 30 s
  auto options = options_for({server.url()});
  options.request_timeout_s = 60.0;
  auto source = std::make_unique<ComfyKeyframeSource>(options);
  ASSERT_TRUE(source->submit(request(0)));
  ASSERT_TRUE(source->submit(request(1)));
  ASSERT_TRUE(test::wait_until([&] { return server.stats()["running"].get<bool>(); }));
  const auto t0 = Clock::now();
  source.reset();
  const double seconds = std::chrono::duration<double>(Clock::now() - t0).count();
  EXPECT_LT(seconds, 3.0) << "shutdown waited for the server";
  const auto fake = server.stats();
  EXPECT_GE(fake["interrupts"].get<int>(), 1) << fake.dump();
  EXPECT_EQ(fake["pending"], 0) << "a prompt of ours stayed queued: " << fake.dump();
}

TEST(ComfySource, InvalidWorkflowNamesNodeAndInput) {
  test::FakeComfy server;
  auto options = options_for({server.url()});
  options.defaults.checkpoint = "dreamshaper_8.safetensors";  // not on the server
  ComfyKeyframeSource source(options);
  ASSERT_TRUE(source.submit(request(0)));
  ASSERT_TRUE(test::wait_until([&] { return !source.health().last_error.empty(); }));
  const std::string error = source.health().last_error;
  EXPECT_NE(error.find("node 1 (CheckpointLoaderSimple) input 'ckpt_name': "
                       "\"dreamshaper_8.safetensors\" is not offered by the server"),
            std::string::npos)
      << error;
  EXPECT_FALSE(source.healthy());
  EXPECT_EQ(server.stats()["prompts_received"], 0) << "an invalid graph was sent";
  EXPECT_EQ(source.pending(), 1u) << "the request must wait, not be dropped";
}

TEST(ComfySource, ErrorsReachThePipelinesStatusThroughTheSwitchingSource) {
  test::FakeComfy server;
  auto options = options_for({server.url()});
  options.defaults.steps = 0;  // below KSampler's minimum of 1
  pipeline::SwitchingKeyframeSource source(
      std::make_unique<ComfyKeyframeSource>(options),
      std::make_unique<pipeline::OfflineKeyframeSource>(std::vector<Image>{request(0).input},
                                                        pipeline::OfflineSourceOptions{}),
      100ms);
  ASSERT_TRUE(test::wait_until([&] { return !source.health().last_error.empty(); }));
  EXPECT_NE(
      source.health().last_error.find("node 7 (KSampler) input 'steps': 0 is below the minimum 1"),
      std::string::npos)
      << source.health().last_error;
  EXPECT_GE(source.health().errors, 1u);
  // Meanwhile the offline generator keeps the show going.
  ASSERT_TRUE(source.submit(request(0)));
  EXPECT_TRUE(source.next(std::stop_token{}, 20s).has_value());
}

TEST(ComfySource, ServerRejectionIsWordedWithNodeAndInput) {
  // The fake's 400 answer, as ComfyUI shapes it, through the client's wording.
  test::FakeComfy server;
  HttpClient http({1.0, 5.0, 1u << 20});
  const auto r = http.post_json(server.url() + "/prompt", R"({"prompt": {
      "1": {"class_type": "CheckpointLoaderSimple", "inputs": {"ckpt_name": "gone.safetensors"}},
      "2": {"class_type": "SaveImageWebsocket", "inputs": {"images": ["1", 0]}}}})");
  ASSERT_EQ(r.status, 400);
  const std::string text = describe_prompt_error(nlohmann::json::parse(r.body));
  EXPECT_NE(text.find("node 1 (CheckpointLoaderSimple) input 'ckpt_name': Value not in list"),
            std::string::npos)
      << text;
}

TEST(ComfySource, SpreadsOverHealthyServersAndSkipsADeadOne) {
  test::FakeComfy a, b;
  // A third address where nothing listens: it stays unhealthy and is probed again later.
  ComfyKeyframeSource source(options_for({a.url(), b.url(), "http://127.0.0.1:9"}));
  ASSERT_TRUE(test::wait_until([&] {
    const auto s = source.stats();
    return s.servers[0].healthy && s.servers[1].healthy;
  }));
  // Each prompt takes a little while, so two lanes cannot keep up alone: both servers get work.
  a.fault("latency", 0, 0.1);
  b.fault("latency", 0, 0.1);
  expect_complete_and_correct(run_keyframes(source, 12), 12);
  const auto stats = source.stats();
  EXPECT_GT(stats.servers[0].keyframes, 0u);
  EXPECT_GT(stats.servers[1].keyframes, 0u);
  EXPECT_EQ(stats.servers[2].keyframes, 0u);
  EXPECT_FALSE(stats.servers[2].healthy);
  EXPECT_GE(stats.servers[2].errors, 1u);
}

TEST(ComfySource, OversizedImagesAreRefusedBeforeDecoding) {
  test::FakeComfy server;
  auto options = options_for({server.url()});
  options.image_limits = ImageLimits{1u << 20, kSize / 2, kSize / 2};
  ComfyKeyframeSource source(options);
  ASSERT_TRUE(source.submit(request(0)));
  ASSERT_TRUE(test::wait_until([&] { return source.stats().failed_attempts > 0; }));
  EXPECT_NE(source.health().last_error.find("64x64, outside the allowed 1x1 to 32x32"),
            std::string::npos)
      << source.health().last_error;
  EXPECT_FALSE(source.next(std::stop_token{}, 10ms).has_value());
}

// A user's workflow that also saves the latent; with `scale_to` > 0 an ImageScale to that size
// comes before the VAEEncode (so the server's keyframe is of another size than asked).
std::string latent_workflow(const test::ScratchDir& dir, int scale_to = 0) {
  const std::string path = dir / "mine.json";
  const std::string pixels = scale_to > 0 ? R"(["5", 0])" : R"(["4", 0])";
  std::ofstream f(path);
  f << R"({
      "1": {"class_type": "CheckpointLoaderSimple", "inputs": {"ckpt_name": "v1-5-pruned-emaonly.safetensors"}},
      "4": {"class_type": "LoadImage", "inputs": {"image": "example.png"}},)";
  if (scale_to > 0)
    f << R"("5": {"class_type": "ImageScale", "inputs": {"image": ["4", 0], "upscale_method": "bilinear",
            "width": )"
      << scale_to << R"(, "height": )" << scale_to << R"(, "crop": "disabled"}},)";
  f << R"("6": {"class_type": "VAEEncode", "inputs": {"pixels": )" << pixels
    << R"(, "vae": ["1", 2]}},
      "7": {"class_type": "KSampler", "inputs": {"model": ["1", 0], "seed": 1, "steps": 4, "cfg": 5.0,
            "sampler_name": "euler", "scheduler": "normal", "positive": ["1", 1], "negative": ["1", 1],
            "latent_image": ["6", 0], "denoise": 0.3}},
      "8": {"class_type": "VAEDecode", "inputs": {"samples": ["7", 0], "vae": ["1", 2]}},
      "9": {"class_type": "SaveImage", "inputs": {"images": ["8", 0], "filename_prefix": "dw"}},
      "10": {"class_type": "SaveLatent", "inputs": {"samples": ["7", 0], "filename_prefix": "dw"}}})";
  return path;
}

TEST(ComfySource, UserWorkflowWithBindingsDeliversImageAndLatent) {
  test::ScratchDir dir;
  test::FakeComfy server;
  auto options = options_for({server.url()});
  options.workflow = latent_workflow(dir);
  options.bindings = {"image=4.image", "seed=7.seed"};
  ComfyKeyframeSource source(options);
  const auto got = run_keyframes(source, 2);
  expect_complete_and_correct(got, 2);
  const Keyframe& k = got.at(1);
  ASSERT_TRUE(k.latent.has_value());
  EXPECT_EQ(k.latent->shape_text(), "[1, 4, 8, 8]");
  // The fake's latent holds the image's block means scaled to -1..1.
  EXPECT_NEAR(k.latent->at(0, 0)[0], (255 - colour_of(1)[0]) / 127.5 - 1.0, 1e-4);
}

// A workflow that scales before the VAEEncode returns a keyframe of another size: the image is
// fitted to the asked size, and its latent, which no longer matches it, is dropped (the pair is
// then made from the fitted image, never from a latent of another size).
TEST(ComfySource, AKeyframeOfAnotherSizeIsFittedAndItsLatentDropped) {
  test::ScratchDir dir;
  test::FakeComfy server;
  auto options = options_for({server.url()});
  options.workflow = latent_workflow(dir, 2 * kSize);
  options.bindings = {"image=4.image", "seed=7.seed"};
  ComfyKeyframeSource source(options);
  const auto got = run_keyframes(source, 2);
  expect_complete_and_correct(got, 2);
  EXPECT_FALSE(got.at(1).latent.has_value()) << got.at(1).latent->shape_text();
}

TEST(ComfySource, CancelledRequestsLeaveThePendingCount) {
  test::FakeComfy server;
  server.fault("latency", 0, 30.0);
  auto options = options_for({server.url()});
  options.in_flight = 1;
  ComfyKeyframeSource source(options);
  ASSERT_TRUE(source.submit(request(0)));
  ASSERT_TRUE(source.submit(request(1)));
  EXPECT_EQ(source.pending(), 2u);
  source.cancel(1);
  source.cancel(0);
  EXPECT_EQ(source.pending(), 0u);
  EXPECT_FALSE(source.next(std::stop_token{}, 10ms).has_value());
}

// The auto source's covers let a server finish what it has taken: a released request a lane is
// running still delivers its keyframe (the server's work is not thrown away), and one still
// waiting for a lane is dropped, never sent.
TEST(ComfySource, AReleasedRequestUnderWayFinishesAndOneNotStartedIsDropped) {
  test::FakeComfy server;
  server.fault("latency", 0, 2.0);
  auto options = options_for({server.url()});
  options.in_flight = 1;
  ComfyKeyframeSource source(options);
  ASSERT_TRUE(source.submit(request(0)));
  ASSERT_TRUE(source.submit(request(1)));
  // Under way once the source knows the server took it (its POST answered), not when the server
  // shows it running: that can come first, while the answer is still on its way to the lane.
  const auto held = [&] {
    const auto line = source.stats().servers.at(0);
    return line.ours_waiting + line.ours_running == 1;
  };
  const auto deadline = Clock::now() + 20s;
  while (!held() && Clock::now() < deadline)
    EXPECT_FALSE(source.next(std::stop_token{}, 20ms).has_value());
  ASSERT_TRUE(held()) << "keyframe 0 never reached the server";
  EXPECT_TRUE(source.release(0));   // under way: it finishes
  EXPECT_FALSE(source.release(1));  // waiting for the lane: dropped
  EXPECT_EQ(source.pending(), 1u);
  ASSERT_TRUE(source.submit(request(2)));
  std::vector<std::uint64_t> order;
  for (int i = 0; i < 2; ++i)
    if (auto k = source.next(std::stop_token{}, 20s)) {
      order.push_back(k->index);
      if (k->index == 0) {
        EXPECT_EQ(k->image.pixel(kSize / 2, kSize / 2)[0], 255 - colour_of(0)[0]);
      }
    }
  EXPECT_EQ(order, (std::vector<std::uint64_t>{0, 2}));  // 1 would have run before 2
  EXPECT_EQ(source.pending(), 0u);
  EXPECT_EQ(server.stats().value("prompts_executed", 0), 2);
}

// A POST /prompt that hangs holds nothing of ours at the server: released, the request is
// abandoned at once and its lane is free for the next one, long before comfy.request_timeout_s
// (60 s here) would have ended the POST.
TEST(ComfySource, AReleasedRequestWhosePostHangsFreesItsLaneAtOnce) {
  test::FakeComfy server;
  server.fault("hang", 1);
  auto options = options_for({server.url()});
  options.in_flight = 1;
  options.request_timeout_s = 60.0;
  ComfyKeyframeSource source(options);
  ASSERT_TRUE(source.submit(request(0)));
  const auto deadline = Clock::now() + 20s;
  while (server.stats().value("posts_hung", 0) < 1 && Clock::now() < deadline)
    EXPECT_FALSE(source.next(std::stop_token{}, 20ms).has_value());
  ASSERT_EQ(server.stats().value("posts_hung", 0), 1) << "the POST never reached the server";
  EXPECT_FALSE(source.release(0));  // nothing taken: dropped
  EXPECT_EQ(source.pending(), 0u);
  ASSERT_TRUE(source.submit(request(1)));
  const auto k = source.next(std::stop_token{}, 30s);  // half the request timeout
  ASSERT_TRUE(k.has_value()) << "the lane was still held by the hung POST";
  EXPECT_EQ(k->index, 1u);
  EXPECT_EQ(k->image.pixel(kSize / 2, kSize / 2)[0], 255 - colour_of(1)[0]);
  EXPECT_EQ(source.stats().transport_errors, 0u) << "abandoned, not timed out";
  EXPECT_EQ(server.stats().value("prompts_executed", 0), 1);
}

}  // namespace
}  // namespace dw::comfy
