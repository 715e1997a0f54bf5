#include "core/bounded_queue.h"

#include <gtest/gtest.h>

#include <thread>

#include "support/test_support.h"

namespace dw {
namespace {

TEST(BoundedQueue, FullQueueFollowsItsStatedPolicyAndCountsIt) {
  BoundedQueue<int> q(2);
  EXPECT_TRUE(q.push(1, WhenFull::Skip));
  EXPECT_TRUE(q.push(2, WhenFull::Skip));
  EXPECT_FALSE(q.push(3, WhenFull::Skip));
  EXPECT_TRUE(q.push(4, WhenFull::DropOldest));
  EXPECT_EQ(q.counters().skipped, 1u);
  EXPECT_EQ(q.counters().dropped_oldest, 1u);
  EXPECT_EQ(*q.try_pop(), 2);
  EXPECT_EQ(*q.try_pop(), 4);
  EXPECT_FALSE(q.try_pop().has_value());
}

TEST(BoundedQueue, BlockedPushGivesUpOnStop) {
  BoundedQueue<int> q(1);
  q.push(1, WhenFull::Block);
  std::stop_source stop;
  std::atomic<int> result{-1};
  std::jthread producer([&] { result = q.push(2, WhenFull::Block, stop.get_token()); });
  ASSERT_TRUE(test::wait_until([&] { return q.counters().blocked == 1; }));
  stop.request_stop();
  ASSERT_TRUE(test::wait_until([&] { return result.load() != -1; }));
  EXPECT_EQ(result.load(), 0);
  EXPECT_EQ(q.size(), 1u);
}

// A consumer away for long (a paused picture, a minimised window) loses nothing: the blocked
// producer's item enters once there is room, however long that took.
TEST(BoundedQueue, BlockedPushWaitsForRoomAndIsNotDropped) {
  BoundedQueue<int> q(1);
  q.push(1, WhenFull::Block);
  std::atomic<int> result{-1};
  std::jthread producer([&] { result = q.push(2, WhenFull::Block, std::stop_token{}); });
  ASSERT_TRUE(test::wait_until([&] { return q.counters().blocked == 1; }));
  EXPECT_EQ(result.load(), -1) << "a full queue makes Block wait";
  EXPECT_EQ(*q.try_pop(), 1);
  ASSERT_TRUE(test::wait_until([&] { return result.load() != -1; }));
  EXPECT_EQ(result.load(), 1);
  EXPECT_EQ(*q.try_pop(), 2);
  EXPECT_EQ(q.counters().skipped + q.counters().dropped_oldest, 0u);
}

TEST(BoundedQueue, ProducersAndConsumersLoseNothingWhenBlocking) {
  BoundedQueue<int> q(4);
  constexpr int kPerProducer = 20000;
  std::atomic<long long> sum{0};
  std::atomic<int> count{0};
  {
    std::vector<std::jthread> threads;
    for (int p = 0; p < 2; ++p)
      threads.emplace_back([&, p] {
        for (int i = 0; i < kPerProducer; ++i) q.push(p * kPerProducer + i, WhenFull::Block);
      });
    for (int c = 0; c < 2; ++c)
      threads.emplace_back([&] {
        while (count.load() < 2 * kPerProducer) {
          if (auto v = q.pop(std::stop_token{}, std::chrono::milliseconds(20))) {
            sum += *v;
            ++count;
          }
        }
      });
  }
  const long long n = 2LL * kPerProducer;
  EXPECT_EQ(count.load(), n);
  EXPECT_EQ(sum.load(), n * (n - 1) / 2);
}

}  // namespace
}  // namespace dw
