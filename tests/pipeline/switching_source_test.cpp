#include "pipeline/switching_source.h"

#include <gtest/gtest.h>

#include <atomic>
#include <map>
#include <set>
#include <string>
#include <thread>
#include <utility>
#include <vector>

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
  // Whether a released request is one it has taken (it finishes it: a server running a prompt)
  // or not (it drops it as if cancelled: a POST that hangs).
  std::atomic<bool> under_way{false};
  std::set<std::uint64_t> released;  // released while under way: it still comes out

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
  bool asked(std::uint64_t index) const { return sent_.contains(index); }
  std::size_t pending() const override { return inner_.pending(); }
  std::size_t capacity() const override { return inner_.capacity(); }
  bool healthy() const override { return reachable; }
  void cancel(std::uint64_t index) override { cancelled.insert(index); }
  bool release(std::uint64_t index) override {
    if (!under_way) {
      cancel(index);
      return false;
    }
    released.insert(index);
    return true;
  }

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

// The switch most tests use: an Unplugged "comfy" server (each keyframe `latency` after its
// request) and the offline generator, a 50 ms grace, back to the server at once, `overdue` as its
// cover; `input` is what every request grows from.
struct Switched {
  explicit Switched(OverdueCover overdue, std::chrono::milliseconds latency = {})
      : Switched(unplugged(latency), std::move(overdue)) {}
  Unplugged* primary;
  SwitchingKeyframeSource source;
  Image input = test::pattern_image(3, 32, 32);

 private:
  static std::unique_ptr<Unplugged> unplugged(std::chrono::milliseconds latency) {
    auto u = std::make_unique<Unplugged>("comfy");
    u->latency = latency;
    return u;
  }
  Switched(std::unique_ptr<Unplugged> owned, OverdueCover overdue)
      : primary(owned.get()),
        source(std::move(owned), offline_source(), std::chrono::milliseconds(50),
               std::chrono::milliseconds(0), std::move(overdue)) {}
};

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
  const auto floor = std::chrono::milliseconds(300);
  Switched run{OverdueCover{4.0, floor}};
  auto& [primary, source, input] = run;
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
  Switched run{OverdueCover{0.0, std::chrono::milliseconds(100)}};
  auto& [primary, source, input] = run;
  ASSERT_TRUE(source.submit({1, input, {}, 1}));
  ASSERT_EQ(source.next(std::stop_token{}, std::chrono::seconds(10))->origin, "comfy");
  primary->silent = true;
  ASSERT_TRUE(source.submit({2, input, {}, 2}));
  EXPECT_FALSE(source.next(std::stop_token{}, std::chrono::milliseconds(200)).has_value());
  EXPECT_EQ(counter(source.health(), "overdue_covers"), 0.0);
}

// A server that keeps hanging (each POST never answered, nothing of it taken): every hung request
// is covered at the same overdue limit. A hang teaches nothing about the server's pace, so the
// covers do not come later and later while the screen runs dry (they once came after 10, 15, 26
// and 60 s).
TEST(SwitchingKeyframeSource, AServerThatKeepsHangingIsCoveredAsSoonEachTime) {
  const auto floor = std::chrono::milliseconds(500);  // 5x the typical time; 4x is below it
  Switched run{OverdueCover{4.0, floor}, std::chrono::milliseconds(100)};
  auto& [primary, source, input] = run;
  ASSERT_TRUE(source.submit({1, input, {}, 1}));
  ASSERT_EQ(source.next(std::stop_token{}, std::chrono::seconds(10))->origin, "comfy");

  primary->silent = true;
  std::vector<double> waits;
  for (std::uint64_t i = 2; i <= 5; ++i) {
    const auto asked = std::chrono::steady_clock::now();
    ASSERT_TRUE(source.submit({i, input, {}, i}));
    const auto k = source.next(std::stop_token{}, std::chrono::seconds(20));
    ASSERT_TRUE(k.has_value());
    EXPECT_EQ(k->index, i);
    EXPECT_EQ(k->origin, "offline");
    EXPECT_TRUE(primary->cancelled.contains(i)) << "nothing was under way: dropped at once";
    waits.push_back(
        std::chrono::duration<double>(std::chrono::steady_clock::now() - asked).count());
  }
  // Raising the typical time at each cover (as if the hang had been the server's pace) made the
  // fourth wait 2.45 s; as soon each time it is the floor, 0.5 s (and a loaded machine's delay).
  EXPECT_LT(waits.back(), 1.5) << "first wait " << waits.front() << " s";
  EXPECT_EQ(counter(source.health(), "overdue_covers"), 4.0);
  EXPECT_EQ(source.failovers(), 0u);
}

// While the content buffer runs low, a hung request is covered after twice the server's typical
// time instead of the overdue limit, and counted as a starving cover; while the buffer is full,
// the same request is waited for.
TEST(SwitchingKeyframeSource, AHungRequestIsCoveredSoonerWhileTheBufferRunsLow) {
  std::atomic<bool> starving{false};
  const auto limit = std::chrono::milliseconds(1500);  // the overdue floor: 15x the typical time
  OverdueCover overdue{4.0, limit};
  overdue.starving = [&starving] { return starving.load(); };
  overdue.starving_floor = std::chrono::milliseconds(50);
  Switched run{std::move(overdue), std::chrono::milliseconds(100)};
  auto& [primary, source, input] = run;
  ASSERT_TRUE(source.submit({1, input, {}, 1}));
  ASSERT_EQ(source.next(std::stop_token{}, std::chrono::seconds(10))->origin, "comfy");

  primary->silent = true;
  const auto asked = std::chrono::steady_clock::now();
  ASSERT_TRUE(source.submit({2, input, {}, 2}));
  EXPECT_FALSE(source.next(std::stop_token{}, std::chrono::milliseconds(300)).has_value());
  EXPECT_EQ(counter(source.health(), "overdue_covers"), 0.0);

  starving = true;
  const auto k = source.next(std::stop_token{}, std::chrono::seconds(20));
  ASSERT_TRUE(k.has_value());
  EXPECT_EQ(k->index, 2u);
  EXPECT_EQ(k->origin, "offline");
  EXPECT_TRUE(primary->cancelled.contains(2));
  EXPECT_TRUE(source.using_primary());
  EXPECT_EQ(source.failovers(), 0u);
  EXPECT_EQ(counter(source.health(), "overdue_covers"), 1.0);
  if (std::chrono::steady_clock::now() - asked < limit) {  // (a loaded machine may be past it)
    EXPECT_EQ(counter(source.health(), "starving_covers"), 1.0);
  }

  primary->silent = false;  // the server's own keyframes come back
  ASSERT_TRUE(source.submit({3, input, {}, 3}));
  const auto three = source.next(std::stop_token{}, std::chrono::seconds(10));
  ASSERT_TRUE(three.has_value());
  EXPECT_EQ(three->index, 3u);
  EXPECT_EQ(three->origin, "comfy");
}

// Work the server has under way is never cancelled on a clock: a covered request it has taken is
// released, and long after the overdue limit it is still not cancelled. When it finishes, its
// keyframe is dropped (the offline one was shown) and counted late. (Cancelling such requests
// once left a server slowed by a flood of messages finishing 2 prompts in 180 s.)
TEST(SwitchingKeyframeSource, WorkTheServerHasUnderWayIsNeverCancelledOnAClock) {
  const auto limit = std::chrono::milliseconds(200);
  Switched run{OverdueCover{4.0, limit}, std::chrono::milliseconds(50)};
  auto& [primary, source, input] = run;
  primary->under_way = true;
  ASSERT_TRUE(source.submit({1, input, {}, 1}));
  ASSERT_EQ(source.next(std::stop_token{}, std::chrono::seconds(10))->origin, "comfy");

  primary->silent = true;  // slow: it holds keyframe 2 past the limit
  const auto asked = std::chrono::steady_clock::now();
  ASSERT_TRUE(source.submit({2, input, {}, 2}));
  const auto k = source.next(std::stop_token{}, std::chrono::seconds(20));
  ASSERT_TRUE(k.has_value());
  EXPECT_EQ(k->origin, "offline");
  EXPECT_TRUE(primary->released.contains(2));
  // Five times the limit, asking all the while: the switch never gives up on it.
  while (std::chrono::steady_clock::now() - asked < 5 * limit)
    EXPECT_FALSE(source.next(std::stop_token{}, std::chrono::milliseconds(50)).has_value());
  EXPECT_TRUE(primary->cancelled.empty());

  primary->silent = false;  // it finishes keyframe 2 (dropped), then makes 3
  ASSERT_TRUE(source.submit({3, input, {}, 3}));
  const auto three = source.next(std::stop_token{}, std::chrono::seconds(10));
  ASSERT_TRUE(three.has_value());
  EXPECT_EQ(three->index, 3u);
  EXPECT_EQ(counter(source.health(), "late_keyframes"), 1.0);
  EXPECT_EQ(source.pending(), 0u);

  // Its picture is not thrown away: it answers the next request at once, and the server is not
  // asked for that one.
  ASSERT_TRUE(source.submit({4, input, {}, 4}));
  const auto four = source.next(std::stop_token{}, std::chrono::seconds(10));
  ASSERT_TRUE(four.has_value());
  EXPECT_EQ(four->index, 4u);
  EXPECT_EQ(four->origin, "comfy (late)");
  ASSERT_TRUE(four->made_with.has_value());
  EXPECT_EQ(four->made_with->second, 2u) << "made with keyframe 2's seed, not 4's";
  EXPECT_FALSE(primary->asked(4));
  EXPECT_EQ(counter(source.health(), "late_shown"), 1.0);
  EXPECT_EQ(source.pending(), 0u);
}

// While the buffer runs low, a server slower than the screen is waited for at most
// `starving_cap`, however slow its typical time: past that the offline generator covers, and
// what the server still finishes is shown as spares. Its work is never cancelled.
TEST(SwitchingKeyframeSource, WhileStarvingASlowServerIsWaitedForAtMostTheCap) {
  OverdueCover overdue{4.0, std::chrono::seconds(60)};
  overdue.starving = [] { return true; };
  overdue.starving_floor = std::chrono::milliseconds(50);
  overdue.starving_cap = std::chrono::milliseconds(100);  // well under the server's 400 ms
  Switched run{std::move(overdue), std::chrono::milliseconds(400)};
  auto& [primary, source, input] = run;
  primary->under_way = true;
  std::map<std::string, int> origins;
  for (std::uint64_t i = 1; i <= 10; ++i) {
    ASSERT_TRUE(source.submit({i, input, {}, i}));
    const auto k = source.next(std::stop_token{}, std::chrono::seconds(10));
    ASSERT_TRUE(k.has_value());
    EXPECT_EQ(k->index, i);
    ++origins[k->origin];
  }
  EXPECT_EQ(origins["comfy"], 1) << "only the first, before its pace was known";
  EXPECT_GE(origins["offline"], 3);
  EXPECT_GE(origins["comfy (late)"], 1) << "the server's late pictures are shown";
  EXPECT_TRUE(primary->cancelled.empty());
  EXPECT_EQ(counter(source.health(), "starving_covers"), origins["offline"]);
}

// A server that became four times slower while the buffer is low: keyframes it holds past twice
// its typical time are covered, but it is never told to give up on them. It finishes each (the
// late keyframe is dropped), its real times teach the typical time, and within a few keyframes
// its own keyframes are shown again.
TEST(SwitchingKeyframeSource, AServerThatSlowsDownWhileTheBufferRunsLowIsLetFinish) {
  OverdueCover overdue{4.0, std::chrono::seconds(60)};
  overdue.starving = [] { return true; };
  overdue.starving_floor = std::chrono::milliseconds(50);
  Switched run{std::move(overdue), std::chrono::milliseconds(100)};
  auto& [primary, source, input] = run;
  primary->under_way = true;
  ASSERT_TRUE(source.submit({1, input, {}, 1}));
  ASSERT_EQ(source.next(std::stop_token{}, std::chrono::seconds(10))->origin, "comfy");

  primary->latency = std::chrono::milliseconds(400);
  std::vector<std::string> origins;
  for (std::uint64_t i = 2; i <= 13; ++i) {
    ASSERT_TRUE(source.submit({i, input, {}, i}));
    const auto k = source.next(std::stop_token{}, std::chrono::seconds(10));
    ASSERT_TRUE(k.has_value());
    EXPECT_EQ(k->index, i);
    origins.push_back(k->origin);
  }
  EXPECT_EQ(origins.front(), "offline");  // covered: 400 ms is over twice the typical 100 ms
  EXPECT_EQ(origins.back(), "comfy");     // waited for again: it is as slow as it now is
  EXPECT_TRUE(primary->cancelled.empty());
  EXPECT_GE(counter(source.health(), "starving_covers"), 1.0);
  // Each covered keyframe the server finished later: all but those still under way.
  const double covered = counter(source.health(), "starving_covers");
  EXPECT_GE(counter(source.health(), "late_keyframes"), covered - 1);
  EXPECT_TRUE(source.using_primary());
}

// A low buffer does not hurry a server that is only as slow as it always is: each keyframe takes
// its typical time, under twice that, so every keyframe is its own.
TEST(SwitchingKeyframeSource, ALowBufferDoesNotCoverASteadyServer) {
  OverdueCover overdue{4.0, std::chrono::milliseconds(100)};
  overdue.starving = [] { return true; };
  overdue.starving_floor = std::chrono::milliseconds(50);
  Switched run{std::move(overdue), std::chrono::milliseconds(250)};
  auto& [primary, source, input] = run;
  for (std::uint64_t i = 1; i <= 6; ++i) {
    ASSERT_TRUE(source.submit({i, input, {}, i}));
    const auto k = source.next(std::stop_token{}, std::chrono::seconds(10));
    ASSERT_TRUE(k.has_value());
    EXPECT_EQ(k->origin, "comfy") << "keyframe " << i;
  }
  EXPECT_EQ(counter(source.health(), "starving_covers"), 0.0);
}

// A slow but steady server (each keyframe 250 ms, longer than the 100 ms floor) is waited for:
// the limit follows its own typical time, so every keyframe is its own.
TEST(SwitchingKeyframeSource, ASlowSteadyServerIsNotCovered) {
  Switched run{OverdueCover{4.0, std::chrono::milliseconds(100)}, std::chrono::milliseconds(250)};
  auto& [primary, source, input] = run;
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
