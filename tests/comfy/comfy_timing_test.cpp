// Time as ComfyUI spends it, against the fake server: a slow server that keeps making progress is
// never interrupted; a stalled prompt is, after the stall timeout; waiting behind another
// client's job is not stalling; a server killed with prompts in flight is covered within seconds
// and the first answer for a keyframe wins; a workflow input the server does not list is accepted.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
#include <mutex>
#include <set>

#include "comfy/comfy_source.h"
#include "comfy/http.h"
#include "fake_server.h"
#include "pipeline/offline_source.h"
#include "pipeline/switching_source.h"
#include "support/test_support.h"

namespace dw::comfy {
namespace {

using namespace std::chrono_literals;
using pipeline::Keyframe;
using pipeline::KeyframeRequest;
using Clock = std::chrono::steady_clock;

constexpr int kSize = 64;

ComfySourceOptions options_for(const std::string& url, double stall_s) {
  ComfySourceOptions o;
  o.urls = {url};
  o.defaults.checkpoint = "v1-5-pruned-emaonly.safetensors";
  o.defaults.width = o.defaults.height = kSize;
  o.in_flight = 2;
  o.request_timeout_s = 10.0;
  o.stall_timeout_s = stall_s;
  o.connect_timeout_s = 1.0;
  o.retry_base_s = 0.02;
  o.retry_max_s = 0.3;
  return o;
}

KeyframeRequest request(std::uint64_t k) {
  KeyframeRequest r;
  r.index = k;
  r.input = Image(kSize, kSize);
  for (std::size_t i = 0; i < r.input.rgba.size(); ++i)
    r.input.rgba[i] = static_cast<std::uint8_t>(i % 4 == 3 ? 255 : 10 + 17 * k);
  r.prompt = {"a lighthouse in fog", "blurry"};
  r.seed = 500 + k;
  return r;
}

std::map<std::uint64_t, Keyframe> collect(pipeline::KeyframeSource& source, std::size_t count,
                                          std::chrono::seconds within) {
  std::map<std::uint64_t, Keyframe> got;
  const auto deadline = Clock::now() + within;
  while (got.size() < count && Clock::now() < deadline)
    if (auto k = source.next(std::stop_token{}, 100ms)) {
      EXPECT_FALSE(got.count(k->index)) << "keyframe " << k->index << " came back twice";
      got[k->index] = std::move(*k);
    }
  return got;
}

// Each prompt takes 10 steps x 0.4 s = 4 s, far beyond the 1.5 s stall timeout, but every step
// reports progress: nothing is interrupted, every keyframe arrives, and the progress shown is the
// sampler's (SaveImageWebsocket's own 1/1 bar does not replace it).
TEST(ComfyTiming, ASlowServerThatKeepsMakingProgressIsNeverInterrupted) {
  test::FakeComfy server;
  server.fault("step_delay", 0, 0.4);
  ComfyKeyframeSource source(options_for(server.url(), 1.5));
  for (std::uint64_t k = 0; k < 2; ++k) ASSERT_TRUE(source.submit(request(k)));
  std::set<int> maxima;
  std::map<std::uint64_t, Keyframe> got;
  const auto deadline = Clock::now() + 60s;
  while (got.size() < 2 && Clock::now() < deadline) {
    if (auto k = source.next(std::stop_token{}, 50ms)) got[k->index] = std::move(*k);
    maxima.insert(source.stats().progress_max);
  }
  EXPECT_EQ(got.size(), 2u);
  const auto stats = source.stats();
  EXPECT_EQ(stats.stalls, 0u);
  EXPECT_EQ(stats.failed_attempts, 0u) << stats.last_error;
  EXPECT_EQ(server.stats()["interrupts"], 0);
  EXPECT_TRUE(maxima.count(10)) << "the sampler's progress was never shown";
  EXPECT_FALSE(maxima.count(1)) << "SaveImageWebsocket's progress replaced the sampler's";
  EXPECT_EQ(stats.settings.steps, 10);
}

// The same slow server in `auto`: it is working, not stalled, so it is not failed over and its
// prompts are not interrupted; its pictures are shown (it was failed over and interrupted at 80-90%
// again and again, and never one of its keyframes came).
TEST(ComfyTiming, InAutoASlowServerThatKeepsMakingProgressDelivers) {
  test::FakeComfy server;
  server.fault("step_delay", 0, 0.4);
  pipeline::SwitchingKeyframeSource source(
      std::make_unique<ComfyKeyframeSource>(options_for(server.url(), 1.5)),
      std::make_unique<pipeline::OfflineKeyframeSource>(std::vector<Image>{request(0).input},
                                                        pipeline::OfflineSourceOptions{}),
      500ms, 30s);
  ASSERT_TRUE(test::wait_until([&] { return source.using_primary() && source.healthy(); }));
  for (std::uint64_t k = 1; k <= 2; ++k) ASSERT_TRUE(source.submit(request(k)));
  const auto got = collect(source, 2, 60s);
  ASSERT_EQ(got.size(), 2u);
  for (const auto& [k, kf] : got) EXPECT_EQ(kf.origin, "comfy " + server.url()) << k;
  EXPECT_EQ(source.failovers(), 0u);
  EXPECT_EQ(server.stats()["interrupts"], 0);
}

// A prompt that goes silent in its sampler is interrupted after the stall timeout and retried;
// the retry delivers.
TEST(ComfyTiming, AStalledPromptIsInterruptedAfterTheStallTimeoutAndRetried) {
  test::FakeComfy server;
  ComfyKeyframeSource source(options_for(server.url(), 1.0));
  ASSERT_TRUE(test::wait_until([&] { return source.healthy(); }));
  server.fault("stall", 1);
  ASSERT_TRUE(source.submit(request(0)));
  const auto got = collect(source, 1, 60s);
  ASSERT_EQ(got.size(), 1u) << source.stats().last_error;
  const auto stats = source.stats();
  EXPECT_EQ(stats.stalls, 1u);
  EXPECT_NE(stats.last_error.find("stalled"), std::string::npos) << stats.last_error;
  EXPECT_NE(stats.last_error.find("comfy.stall_timeout_s"), std::string::npos);
  const auto fake = server.stats();
  EXPECT_GE(fake["interrupts"].get<int>(), 1);
  EXPECT_EQ(fake["prompts_executed"], 2) << "the retry must not queue behind the stalled prompt";
}

// Another client's job holds the server for longer than the stall limit: ours waits in the
// queue, is not interrupted, and delivers once the server is free.
// /history shows the prompt finished 4 s before its image comes on the WebSocket, which brings
// other messages all the while (a client behind on a busy socket). The image is waited for: the
// keyframe is the first attempt's, nothing is lost, the socket is not reconnected.
TEST(ComfyTiming, ASocketBehindOnItsMessagesIsWaitedForNotReconnected) {
  test::FakeComfy server;
  server.fault("backlog", 1, 4.0);
  ComfyKeyframeSource source(options_for(server.url(), 8.0));  // polls /history every second
  ASSERT_TRUE(source.submit(request(0)));
  const auto got = collect(source, 1, 60s);
  ASSERT_EQ(got.size(), 1u) << "the keyframe never came";
  EXPECT_EQ(got.begin()->second.image.pixel(3, 3)[0], 255 - request(0).input.pixel(3, 3)[0]);
  const auto stats = source.stats();
  EXPECT_EQ(stats.lost, 0u) << stats.last_error;
  EXPECT_EQ(stats.failed_attempts, 0u) << stats.last_error;
  EXPECT_EQ(server.stats().value("prompts_executed", 0), 1) << "asked again";
  EXPECT_EQ(server.stats().value("ws_connects", 0), 1) << "the socket was reconnected";
}

// ComfyUI forgets our socket (an older connection of ours ended late) while it stays open and
// answers pings: nothing of our prompts reaches it. The first prompt sent after that is heard of
// by nothing (ComfyUI tells every socket of each queue change), so the socket is connected again
// and prompts longer than the stall limit are delivered again (they were interrupted as stalled
// and retried for good).
TEST(ComfyTiming, ASocketTheServerForgotIsConnectedAgain) {
  test::FakeComfy server;
  ComfyKeyframeSource source(options_for(server.url(), 1.5));
  ASSERT_TRUE(source.submit(request(0)));
  ASSERT_EQ(collect(source, 1, 30s).size(), 1u) << source.stats().last_error;
  server.fault("forget_sockets", 1, 0);
  server.fault("step_delay", 0, 0.5);  // 10 steps: 5 s, over the stall limit
  ASSERT_TRUE(source.submit(request(1)));
  const auto got = collect(source, 1, 60s);
  ASSERT_EQ(got.size(), 1u) << "nothing delivered; stalls " << source.stats().stalls << ", "
                            << source.stats().last_error;
  EXPECT_GE(server.stats()["ws_connects"], 2) << "the socket was never connected again";
}

// A socket that keeps talking but never brings the image (120 s behind) is given up on at the
// stall limit (2 x 2 s before the first delivery): reconnected, and the keyframe asked again.
TEST(ComfyTiming, ASocketThatTalksButNeverBringsTheImageIsGivenUpOnAtTheStallLimit) {
  test::FakeComfy server;
  server.fault("backlog", 1, 120.0);
  ComfyKeyframeSource source(options_for(server.url(), 2.0));
  ASSERT_TRUE(source.submit(request(0)));
  const auto got = collect(source, 1, 60s);  // half the backlog: only a retry can deliver
  ASSERT_EQ(got.size(), 1u) << "the keyframe never came";
  EXPECT_EQ(source.stats().lost, 1u);
  EXPECT_EQ(server.stats().value("prompts_executed", 0), 2);
  EXPECT_GE(server.stats().value("ws_connects", 0), 2) << "the socket was not reconnected";
}

TEST(ComfyTiming, ABusyQueueWaitsThenDelivers) {
  test::FakeComfy server;
  ComfyKeyframeSource source(options_for(server.url(), 1.0));
  ASSERT_TRUE(test::wait_until([&] { return source.healthy(); }));
  server.busy_with_another_client(6.0);  // ours is fast
  ASSERT_TRUE(source.submit(request(0)));
  ASSERT_TRUE(test::wait_until([&] { return source.stats().servers[0].ours_waiting == 1; }));
  // Nothing delivered for the stall limit while ours waits: degraded (auto would cover it), but
  // nothing is interrupted.
  ASSERT_TRUE(test::wait_until([&] { return source.stats().servers[0].degraded; }));
  EXPECT_FALSE(source.healthy());
  const auto got = collect(source, 1, 60s);
  ASSERT_EQ(got.size(), 1u) << source.stats().last_error;
  const auto stats = source.stats();
  EXPECT_EQ(stats.stalls, 0u);
  EXPECT_EQ(stats.failed_attempts, 0u) << stats.last_error;
  EXPECT_EQ(server.stats()["interrupts"], 0);
  EXPECT_FALSE(source.stats().servers[0].degraded) << "delivering again";
  EXPECT_TRUE(source.healthy());
}

// The same busy shared server in `auto`: the offline generator covers the keyframe while ours
// waits, but our prompt keeps its place in the server's queue. It runs once the other job is done
// and its picture answers the next request. (Failing over deleted it from the queue; once nothing
// of ours waited the server was "back", the next prompt joined the back of the queue, and so on:
// no ComfyUI picture ever came from a server whose queue stayed longer than the stall limit.)
TEST(ComfyTiming, InAutoABusySharedServerKeepsOurPromptInItsQueue) {
  test::FakeComfy server;
  pipeline::SwitchingKeyframeSource source(
      std::make_unique<ComfyKeyframeSource>(options_for(server.url(), 1.0)),
      std::make_unique<pipeline::OfflineKeyframeSource>(std::vector<Image>{request(0).input},
                                                        pipeline::OfflineSourceOptions{}),
      500ms, 10s);
  ASSERT_TRUE(test::wait_until([&] { return source.using_primary() && source.healthy(); }));
  server.busy_with_another_client(6.0);  // ours is fast
  ASSERT_TRUE(source.submit(request(1)));
  const auto first = collect(source, 1, 30s);
  ASSERT_EQ(first.size(), 1u);
  EXPECT_EQ(first.begin()->second.origin.rfind("comfy", 0), std::string::npos)
      << "covered while the server is busy";
  ASSERT_TRUE(test::wait_until([&] { return server.stats()["prompts_executed"] == 2; }, 30s))
      << "our prompt never ran: " << server.stats().dump();
  EXPECT_EQ(server.stats()["queue_deletes"], 0);
  EXPECT_EQ(server.stats()["interrupts"], 0);
  const auto late = [&source] {
    for (const auto& [name, value] : source.health().counters)
      if (name == "late_keyframes") return value;
    return -1.0;
  };
  // The switch takes the late keyframe in (kept, not shown: keyframe 1 was answered) as it is
  // asked for keyframes.
  ASSERT_TRUE(test::wait_until(
      [&] {
        EXPECT_FALSE(source.next(std::stop_token{}, 50ms).has_value()) << "answered twice";
        return late() == 1.0;
      },
      30s));
  ASSERT_TRUE(source.submit(request(2)));
  const auto second = collect(source, 1, 30s);
  ASSERT_EQ(second.size(), 1u);
  EXPECT_EQ(second.begin()->second.origin, "comfy " + server.url() + " (late)")
      << "the server's picture was thrown away";
}

// Someone else queues ten prompts on `server` (each `latency_s` long, each carrying a 300 KB
// workflow as the web UI's do: the queue holds over 500k values, over 2 MB), then ours follows:
// it is delivered once the batch has run, with no transport error or failed attempt on the way,
// and sent once.
void our_prompt_waits_behind_a_batch(test::FakeComfy& server, ComfyKeyframeSource& source,
                                     double latency_s) {
  server.fault("latency", 0, latency_s);
  std::string workflow = "[0";
  for (int i = 1; i < 150000; ++i) workflow += ",1";
  workflow += "]";
  HttpClient other({1.0, 10.0, 1u << 20});
  for (int i = 0; i < 10; ++i) {  // ten different graphs: none is served from the cache
    const auto r = other.post_json(
        server.url() + "/prompt",
        fmt::format(R"({{"client_id": "someone-else", "prompt": {{"1": {{"class_type":
        "EmptyLatentImage", "inputs": {{"width": {}, "height": 64, "batch_size": 1}}}}, "2":
        {{"class_type": "SaveLatent", "inputs": {{"samples": ["1", 0], "filename_prefix":
        "other"}}}}}}, "extra_data": {{"extra_pnginfo": {{"workflow": {}}}}}}})",
                    64 + 8 * i, workflow));
    ASSERT_EQ(r.status, 200) << r.body;
  }
  ASSERT_TRUE(source.submit(request(0)));
  const auto got = collect(source, 1, 60s);
  ASSERT_EQ(got.size(), 1u) << source.stats().last_error;
  const auto stats = source.stats();
  EXPECT_EQ(stats.transport_errors, 0u) << stats.last_error;
  EXPECT_EQ(stats.failed_attempts, 0u) << stats.last_error;
  EXPECT_EQ(server.stats().value("prompts_received", 0), 11) << "ours was sent once";
}

// Someone queued a batch on the shared server, each prompt carrying the web UI's whole workflow:
// /queue is too long to parse within the limits. Our lane still finds its prompt there (by its
// id), the server is not taken for unavailable, and ours is delivered after the batch (each look
// at /queue was a transport error: reconnects, retries, prompts left behind).
TEST(ComfyTiming, ALongQueueOfSomeoneElsesBatchIsWaitedBehind) {
  test::FakeComfy server;
  ComfyKeyframeSource source(options_for(server.url(), 60.0));
  ASSERT_TRUE(test::wait_until([&] { return source.healthy(); }));
  our_prompt_waits_behind_a_batch(server, source, 0.4);
}

// The same batch, its queue now longer than an answer may be (the web UI's workflows run to
// hundreds of KB each: a batch of a hundred is tens of MB, beyond the lanes' cap on an answer,
// kept here at 1 MB to spare the test the bytes). Each look at /queue was a transport error: the
// server counted as unavailable every 5 s, ours was taken off its queue and sent again behind
// the batch, and nothing was delivered while the batch lasted.
TEST(ComfyTiming, AQueueLongerThanAnyAnswerIsStillSearchedForOurPrompt) {
  test::FakeComfy server;
  auto options = options_for(server.url(), 60.0);
  options.image_limits.max_bytes = 1u << 20;  // the lanes' cap on an answer: 1 MB
  ComfyKeyframeSource source(options);
  ASSERT_TRUE(test::wait_until([&] { return source.healthy(); }));
  our_prompt_waits_behind_a_batch(server, source, 0.8);
}

// In auto, a request made while the server is still being connected to waits for it instead of
// going to the offline generator: keyframe 2 of a run comes from ComfyUI.
TEST(ComfyTiming, AutoGivesTheServerItsStartupBeforeGoingOffline) {
  test::FakeComfy server;
  pipeline::SwitchingKeyframeSource source(
      std::make_unique<ComfyKeyframeSource>(options_for(server.url(), 60.0)),
      std::make_unique<pipeline::OfflineKeyframeSource>(std::vector<Image>{request(0).input},
                                                        pipeline::OfflineSourceOptions{}),
      500ms, 30s);
  ASSERT_TRUE(source.submit(request(1)));  // at once, before the first connect
  const auto got = collect(source, 1, 60s);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got.begin()->second.origin, "comfy " + server.url());
  EXPECT_EQ(source.failovers(), 0u);
}

// ComfyUI killed with two prompts in flight (it comes back only after a minute): in `auto` the
// offline generator covers both within seconds, and the server counts as not delivering.
TEST(ComfyTiming, AServerKilledWithPromptsInFlightIsCoveredWithinSeconds) {
  test::FakeComfy server;
  server.fault("latency", 0, 30.0);
  pipeline::SwitchingKeyframeSource source(
      std::make_unique<ComfyKeyframeSource>(options_for(server.url(), 60.0)),
      std::make_unique<pipeline::OfflineKeyframeSource>(std::vector<Image>{request(0).input},
                                                        pipeline::OfflineSourceOptions{}),
      500ms, 10s);
  ASSERT_TRUE(test::wait_until([&] { return source.using_primary() && source.healthy(); }));
  ASSERT_TRUE(source.submit(request(1)));
  ASSERT_TRUE(source.submit(request(2)));
  ASSERT_TRUE(test::wait_until([&] { return server.stats()["running"].get<bool>(); }));
  server.fault("restart", 1, 60.0);
  const auto t0 = Clock::now();
  const auto got = collect(source, 2, 30s);
  const double seconds = std::chrono::duration<double>(Clock::now() - t0).count();
  ASSERT_EQ(got.size(), 2u);
  // 0.5 s on the 2-core machine; the server itself is away for 60 s.
  EXPECT_LT(seconds, 8.0) << "the keyframes already sent waited for the dead server";
  RecordProperty("covered_within_s", std::to_string(seconds));
  std::printf("covered within %.2f s\n", seconds);
  for (const auto& [k, kf] : got) EXPECT_EQ(kf.origin.rfind("comfy", 0), std::string::npos);
  EXPECT_EQ(source.covered(), 2u);
  EXPECT_EQ(source.pending(), 0u);
}

// A ComfyUI that stops running (swapping, its event loop blocked; here SIGSTOP) while the kernel
// still accepts its connections: its WebSocket answers no ping, so within seconds it counts as
// unavailable and `auto` covers its keyframes (it stayed "healthy" for good, each request waiting
// at the dead server until covered one by one, and no failover ever happened).
TEST(ComfyTiming, AServerThatStopsRespondingIsFailedOver) {
  test::FakeComfy server;
  ComfySourceOptions options = options_for(server.url(), 60.0);
  options.silent_socket_s = 2.0;
  pipeline::SwitchingKeyframeSource source(
      std::make_unique<ComfyKeyframeSource>(options),
      std::make_unique<pipeline::OfflineKeyframeSource>(std::vector<Image>{request(0).input},
                                                        pipeline::OfflineSourceOptions{}),
      500ms, 10s);
  ASSERT_TRUE(test::wait_until([&] { return source.using_primary() && source.healthy(); }));
  ASSERT_TRUE(source.submit(request(1)));
  const auto first = collect(source, 1, 60s);
  ASSERT_EQ(first.size(), 1u);
  EXPECT_EQ(first.begin()->second.origin, "comfy " + server.url());
  server.freeze();
  const auto t0 = Clock::now();
  ASSERT_TRUE(source.submit(request(2)));
  ASSERT_TRUE(source.submit(request(3)));
  const auto got = collect(source, 2, 60s);
  const double seconds = std::chrono::duration<double>(Clock::now() - t0).count();
  server.thaw();
  ASSERT_EQ(got.size(), 2u);
  for (const auto& [k, kf] : got) EXPECT_EQ(kf.origin.rfind("comfy", 0), std::string::npos) << k;
  EXPECT_GE(source.failovers(), 1u);
  // 2 s of silence, a reconnect that times out (1 s connect + 1 s), the 0.5 s grace.
  EXPECT_LT(seconds, 15.0);
  std::printf("a frozen server was covered within %.2f s\n", seconds);
}

// A stand-in source whose answers the test gives by hand.
class HeldSource final : public pipeline::KeyframeSource {
 public:
  explicit HeldSource(std::string name) : name_(std::move(name)) {}
  std::string name() const override { return name_; }
  bool submit(KeyframeRequest request) override {
    std::lock_guard lock(mutex_);
    held_.push_back(request.index);
    return true;
  }
  std::optional<Keyframe> next(std::stop_token, std::chrono::milliseconds) override {
    std::lock_guard lock(mutex_);
    if (ready_.empty()) return std::nullopt;
    Keyframe k;
    k.index = ready_.front();
    k.origin = name_;
    ready_.erase(ready_.begin());
    return k;
  }
  std::size_t pending() const override {
    std::lock_guard lock(mutex_);
    return held_.size() + ready_.size();
  }
  std::size_t capacity() const override { return 2; }
  bool healthy() const override { return up_; }
  void cancel(std::uint64_t index) override {
    std::lock_guard lock(mutex_);
    cancelled_.push_back(index);
    std::erase(held_, index);
  }
  void answer(std::uint64_t index) {
    std::lock_guard lock(mutex_);
    std::erase(held_, index);
    ready_.push_back(index);
  }
  std::atomic<bool> up_{true};
  std::vector<std::uint64_t> cancelled_;

 private:
  const std::string name_;
  mutable std::mutex mutex_;
  std::vector<std::uint64_t> held_, ready_;
};

TEST(ComfyTiming, TheFirstAnswerWinsAndTheOtherIsDiscarded) {
  auto primary = std::make_unique<HeldSource>("server");
  auto fallback = std::make_unique<HeldSource>("offline");
  HeldSource& p = *primary;
  HeldSource& f = *fallback;
  pipeline::SwitchingKeyframeSource source(std::move(primary), std::move(fallback), 0ms);
  ASSERT_TRUE(source.submit(request(1)));
  ASSERT_TRUE(source.submit(request(2)));
  p.up_ = false;  // the server stops delivering: both are covered by the fallback
  EXPECT_FALSE(source.next(std::stop_token{}, 20ms).has_value());
  EXPECT_EQ(f.pending(), 2u) << "the requests already sent were not covered";
  EXPECT_EQ(source.pending(), 2u);
  const auto one = [&] { return source.next(std::stop_token{}, 200ms); };
  p.answer(2);  // the server's answer for 2 comes first
  auto k = one();
  ASSERT_TRUE(k.has_value());
  EXPECT_EQ(k->index, 2u);
  EXPECT_EQ(k->origin, "server");
  f.answer(2);  // the fallback's copy of 2 is discarded
  EXPECT_FALSE(one().has_value());
  f.answer(1);  // the fallback answers 1 first: the server's copy is cancelled
  k = one();
  ASSERT_TRUE(k.has_value());
  EXPECT_EQ(k->index, 1u);
  EXPECT_EQ(k->origin, "offline");
  EXPECT_EQ(p.cancelled_, std::vector<std::uint64_t>{1});
  p.answer(1);  // a late answer of the server anyway: dropped
  EXPECT_FALSE(one().has_value());
  EXPECT_EQ(source.pending(), 0u);
  EXPECT_EQ(source.covered(), 1u);
}

// An older "Save (API Format)" export carries `"upload": "image"` on LoadImage; ComfyUI ignores
// inputs it does not list, so the workflow runs (with a warning), it is not refused.
TEST(ComfyTiming, AnInputTheServerDoesNotListIsAcceptedNotRefused) {
  test::ScratchDir dir;
  const std::string path = dir / "export.json";
  std::ofstream(path) << R"({
      "1": {"class_type": "CheckpointLoaderSimple", "inputs": {"ckpt_name": "{{checkpoint}}"}},
      "4": {"class_type": "LoadImage", "inputs": {"image": "{{image}}", "upload": "image"}},
      "6": {"class_type": "VAEEncode", "inputs": {"pixels": ["4", 0], "vae": ["1", 2]}},
      "7": {"class_type": "KSampler", "inputs": {"model": ["1", 0], "seed": "{{seed}}", "steps": 2,
            "cfg": 5.0, "sampler_name": "euler", "scheduler": "normal", "positive": ["1", 1],
            "negative": ["1", 1], "latent_image": ["6", 0], "denoise": 0.3}},
      "8": {"class_type": "VAEDecode", "inputs": {"samples": ["7", 0], "vae": ["1", 2]}},
      "9": {"class_type": "SaveImageWebsocket", "inputs": {"images": ["8", 0]}}})";
  test::FakeComfy server;
  auto options = options_for(server.url(), 10.0);
  options.workflow = path;
  ComfyKeyframeSource source(options);
  ASSERT_TRUE(source.submit(request(0)));
  EXPECT_EQ(collect(source, 1, 30s).size(), 1u) << source.stats().last_error;
}

}  // namespace
}  // namespace dw::comfy
