#include "pipeline/switching_source.h"

#include <gtest/gtest.h>

#include <atomic>
#include <set>

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
  std::set<std::uint64_t> cancelled;

  std::string name() const override { return name_; }
  bool submit(KeyframeRequest r) override { return inner_.submit(std::move(r)); }
  std::optional<Keyframe> next(std::stop_token stop, std::chrono::milliseconds t) override {
    if (!reachable) return std::nullopt;
    auto k = inner_.next(stop, t);
    if (k) k->origin = name_;
    return k;
  }
  std::size_t pending() const override { return inner_.pending(); }
  std::size_t capacity() const override { return inner_.capacity(); }
  bool healthy() const override { return reachable; }
  void cancel(std::uint64_t index) override { cancelled.insert(index); }

 private:
  std::string name_;
  OfflineKeyframeSource inner_;
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
  auto counter = [&](std::string_view name) {
    for (const auto& [n, v] : health.counters)
      if (n == name) return v;
    return -1.0;
  };
  EXPECT_EQ(counter("failovers"), 1.0);
  EXPECT_EQ(counter("covered"), 1.0);
  EXPECT_EQ(counter("fallback_keyframes"), 2.0);
}

}  // namespace
}  // namespace dw::pipeline
