#include "pipeline/switching_source.h"

#include <gtest/gtest.h>

#include <atomic>
#include <map>
#include <set>
#include <thread>
#include <utility>

#include "../cache/test_images.h"
#include "pipeline/offline_source.h"

namespace dw::pipeline {
namespace {

// A real offline source behind a switch that makes it "unreachable": while off it reports
// unhealthy and its finished keyframes never come out, like a server that went away.
class Unplugged final : public KeyframeSource {
 public:
  explicit Unplugged(std::string name)
      : name_(std::move(name)), inner_({test::pattern_image(1, 32, 32)}, {}) {}
  std::atomic<bool> reachable{true};
  // Reachable and healthy, but what it finishes never comes out: a request that hangs.
  std::atomic<bool> silent{false};
  // Each keyframe comes out no sooner than this after its request: a slow, steady server.
  std::chrono::milliseconds latency{0};
  std::set<std::uint64_t> cancelled;

  std::string name() const override { return name_; }
  bool submit(KeyframeRequest r) override {
    sent_[r.index] = std::chrono::steady_clock::now();
    return inner_.submit(std::move(r));
  }
  std::optional<Keyframe> next(std::stop_token stop, std::chrono::milliseconds t) override {
    if (!reachable || silent) return std::nullopt;
    if (!held_) held_ = inner_.next(stop, t);
    if (!held_) return std::nullopt;
    const auto due = sent_[held_->index] + latency;
    if (std::chrono::steady_clock::now() < due) {
      // The server's own latency (a property of this fake), not a wait for another thread.
      std::this_thread::sleep_for(
          std::min<std::chrono::nanoseconds>(t, due - std::chrono::steady_clock::now()));
      if (std::chrono::steady_clock::now() < due) return std::nullopt;
    }
    auto k = std::exchange(held_, std::nullopt);
    k->origin = name_;
    return k;
  }
  std::size_t pending() const override { return inner_.pending(); }
  std::size_t capacity() const override { return inner_.capacity(); }
  bool healthy() const override { return reachable; }
  void cancel(std::uint64_t index) override { cancelled.insert(index); }

 private:
  std::string name_;
  OfflineKeyframeSource inner_;
  std::optional<Keyframe> held_;
  std::map<std::uint64_t, std::chrono::steady_clock::time_point> sent_;
};

double counter(const SourceHealth& health, std::string_view name) {
  for (const auto& [n, v] : health.counters)
    if (n == name) return v;
  return -1.0;
}

std::unique_ptr<KeyframeSource> offline_source() {
  return std::make_unique<OfflineKeyframeSource>(std::vector<Image>{test::pattern_image(2, 32, 32)},
                                                 OfflineSourceOptions{});
}

TEST(SwitchingKeyframeSource, FailsOverAfterGraceAndComesBack) {
  auto primary_owned = std::make_unique<Unplugged>("comfy");
  Unplugged* primary = primary_owned.get();
  SwitchingKeyframeSource source(
      std::move(primary_owned),
      std::make_unique<OfflineKeyframeSource>(std::vector<Image>{test::pattern_image(2, 32, 32)},
                                              OfflineSourceOptions{}),
      std::chrono::milliseconds(50));
  const Image input = test::pattern_image(3, 32, 32);
  ASSERT_TRUE(source.submit({1, input, {}, 1}));
  auto k = source.next(std::stop_token{}, std::chrono::seconds(10));
  ASSERT_TRUE(k.has_value());
  EXPECT_EQ(k->origin, "comfy");

  // The server goes away with request 2 in flight: after the grace period keyframe 2 comes from
  // the offline generator, and the server was told to forget it.
  ASSERT_TRUE(source.submit({2, input, {}, 2}));
  primary->reachable = false;
  k = source.next(std::stop_token{}, std::chrono::seconds(10));
  ASSERT_TRUE(k.has_value());
  EXPECT_EQ(k->index, 2u);
  EXPECT_EQ(k->origin, "offline");
  EXPECT_TRUE(primary->cancelled.contains(2));
  EXPECT_EQ(source.failovers(), 1u);
  EXPECT_FALSE(source.using_primary());
  ASSERT_TRUE(source.submit({3, input, {}, 3}));
  EXPECT_EQ(source.next(std::stop_token{}, std::chrono::seconds(10))->origin, "offline");

  // It comes back: new requests go to it again.
  primary->reachable = true;
  ASSERT_TRUE(source.submit({4, input, {}, 4}));
  std::optional<Keyframe> four;
  for (int i = 0; i < 5 && !(four && four->index == 4); ++i)
    four = source.next(std::stop_token{}, std::chrono::seconds(10));
  ASSERT_TRUE(four.has_value());
  EXPECT_EQ(four->index, 4u);
  EXPECT_EQ(four->origin, "comfy");

  // What status.json and /metrics say of it: one failover, keyframe 2 covered, keyframes 2 and 3
  // made by the offline generator.
  const SourceHealth health = source.health();
  EXPECT_EQ(counter(health, "failovers"), 1.0);
  EXPECT_EQ(counter(health, "covered"), 1.0);
  EXPECT_EQ(counter(health, "fallback_keyframes"), 2.0);
  EXPECT_EQ(counter(health, "overdue_covers"), 0.0);
}

// A server that stays healthy but never answers one request (a POST that hangs): once it has
// delivered, that request is made by the offline generator after the overdue floor, without a
// failover; new requests still go to the server, and it delivers them.
TEST(SwitchingKeyframeSource, AHungRequestIsCoveredWhileTheServerStaysInUse) {
  auto primary_owned = std::make_unique<Unplugged>("comfy");
  Unplugged* primary = primary_owned.get();
  const auto floor = std::chrono::milliseconds(300);
  SwitchingKeyframeSource source(std::move(primary_owned), offline_source(),
                                 std::chrono::milliseconds(50), std::chrono::milliseconds(0),
                                 OverdueCover{4.0, floor});
  const Image input = test::pattern_image(3, 32, 32);
  ASSERT_TRUE(source.submit({1, input, {}, 1}));
  ASSERT_EQ(source.next(std::stop_token{}, std::chrono::seconds(10))->origin, "comfy");

  primary->silent = true;
  const auto asked = std::chrono::steady_clock::now();
  ASSERT_TRUE(source.submit({2, input, {}, 2}));
  const auto k = source.next(std::stop_token{}, std::chrono::seconds(10));
  ASSERT_TRUE(k.has_value());
  EXPECT_GE(std::chrono::steady_clock::now() - asked, floor);  // not before it was overdue
  EXPECT_EQ(k->index, 2u);
  EXPECT_EQ(k->origin, "offline");
  EXPECT_TRUE(primary->cancelled.contains(2));
  EXPECT_TRUE(source.using_primary());
  EXPECT_EQ(source.failovers(), 0u);
  EXPECT_EQ(counter(source.health(), "overdue_covers"), 1.0);

  primary->silent = false;
  ASSERT_TRUE(source.submit({3, input, {}, 3}));
  EXPECT_EQ(source.next(std::stop_token{}, std::chrono::seconds(10))->origin, "comfy");
}

// Off (factor 0), the same hung request is left to the server: nothing comes within twice the
// floor.
TEST(SwitchingKeyframeSource, OverdueCoveringOffLeavesAHungRequestToTheServer) {
  auto primary_owned = std::make_unique<Unplugged>("comfy");
  Unplugged* primary = primary_owned.get();
  SwitchingKeyframeSource source(std::move(primary_owned), offline_source(),
                                 std::chrono::milliseconds(50), std::chrono::milliseconds(0),
                                 OverdueCover{0.0, std::chrono::milliseconds(100)});
  const Image input = test::pattern_image(3, 32, 32);
  ASSERT_TRUE(source.submit({1, input, {}, 1}));
  ASSERT_EQ(source.next(std::stop_token{}, std::chrono::seconds(10))->origin, "comfy");
  primary->silent = true;
  ASSERT_TRUE(source.submit({2, input, {}, 2}));
  EXPECT_FALSE(source.next(std::stop_token{}, std::chrono::milliseconds(200)).has_value());
  EXPECT_EQ(counter(source.health(), "overdue_covers"), 0.0);
}

// A slow but steady server (each keyframe 250 ms, longer than the 100 ms floor) is waited for:
// the limit follows its own typical time, so every keyframe is its own.
TEST(SwitchingKeyframeSource, ASlowSteadyServerIsNotCovered) {
  auto primary_owned = std::make_unique<Unplugged>("comfy");
  primary_owned->latency = std::chrono::milliseconds(250);
  SwitchingKeyframeSource source(std::move(primary_owned), offline_source(),
                                 std::chrono::milliseconds(50), std::chrono::milliseconds(0),
                                 OverdueCover{4.0, std::chrono::milliseconds(100)});
  const Image input = test::pattern_image(3, 32, 32);
  for (std::uint64_t i = 1; i <= 6; ++i) {
    ASSERT_TRUE(source.submit({i, input, {}, i}));
    const auto k = source.next(std::stop_token{}, std::chrono::seconds(10));
    ASSERT_TRUE(k.has_value());
    EXPECT_EQ(k->origin, "comfy") << "keyframe " << i;
  }
  EXPECT_EQ(counter(source.health(), "overdue_covers"), 0.0);
}

}  // namespace
}  // namespace dw::pipeline
