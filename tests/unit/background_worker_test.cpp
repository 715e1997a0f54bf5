#include "core/background_worker.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "support/test_support.h"

namespace dw {
namespace {

using namespace std::chrono_literals;

// A handler that blocks until released, so a test can hold the worker busy.
struct Gate {
  std::mutex mutex;
  std::condition_variable cond;
  bool open = false;
  std::atomic<int> entered{0};
  void wait() {
    ++entered;
    std::unique_lock lock(mutex);
    cond.wait(lock, [&] { return open; });
  }
  void release() {
    {
      std::lock_guard lock(mutex);
      open = true;
    }
    cond.notify_all();
  }
};

TEST(BackgroundWorker, HandlesEveryItemInOrderOnItsOwnThread) {
  std::mutex mutex;
  std::vector<int> seen;
  std::vector<std::thread::id> threads;
  BackgroundWorker<int> worker(100, [&](int& item) {
    std::lock_guard lock(mutex);
    seen.push_back(item);
    threads.push_back(std::this_thread::get_id());
  });
  for (int i = 0; i < 50; ++i) ASSERT_TRUE(worker.submit(i));
  ASSERT_TRUE(worker.wait_idle(10s));
  std::lock_guard lock(mutex);
  ASSERT_EQ(seen.size(), 50u);
  for (int i = 0; i < 50; ++i) EXPECT_EQ(seen[i], i);
  for (const auto& id : threads) EXPECT_NE(id, std::this_thread::get_id());
}

TEST(BackgroundWorker, AFullQueueRefusesWithoutWaitingAndTakesItemsAgainOnceDrained) {
  Gate gate;
  std::atomic<int> handled{0};
  BackgroundWorker<int> worker(2, [&](int&) {
    gate.wait();
    ++handled;
  });
  ASSERT_TRUE(worker.submit(1));
  ASSERT_TRUE(test::wait_until([&] { return gate.entered.load() == 1; }));  // 1 is being handled
  EXPECT_TRUE(worker.submit(2));
  EXPECT_TRUE(worker.submit(3));
  EXPECT_FALSE(worker.submit(4));  // two queued: full, refused at once
  EXPECT_EQ(worker.queued(), 2u);
  EXPECT_FALSE(worker.wait_idle(1ms));
  gate.release();
  ASSERT_TRUE(worker.wait_idle(10s));
  EXPECT_EQ(handled.load(), 3);
  EXPECT_TRUE(worker.submit(5));
  ASSERT_TRUE(worker.wait_idle(10s));
  EXPECT_EQ(handled.load(), 4);
}

TEST(BackgroundWorker, DestructionHandlesWhatIsQueuedFirst) {
  Gate gate;
  auto handled = std::make_shared<std::atomic<int>>(0);
  {
    BackgroundWorker<int> worker(8, [&, handled](int&) {
      gate.wait();
      ++*handled;
    });
    for (int i = 0; i < 5; ++i) ASSERT_TRUE(worker.submit(i));
    ASSERT_TRUE(test::wait_until([&] { return gate.entered.load() == 1; }));
    gate.release();
  }  // the destructor returns only after all five
  EXPECT_EQ(handled->load(), 5);
}

TEST(BackgroundWorker, ManyProducersLoseNothingThatWasAccepted) {
  std::atomic<long> sum{0};
  std::atomic<long> accepted_sum{0};
  {
    BackgroundWorker<int> worker(16, [&](int& item) { sum += item; });
    std::vector<std::jthread> producers;
    for (int p = 0; p < 4; ++p)
      producers.emplace_back([&] {
        for (int i = 1; i <= 2000; ++i)
          if (worker.submit(i)) accepted_sum += i;
      });
    producers.clear();  // joined
  }
  EXPECT_EQ(sum.load(), accepted_sum.load());
  EXPECT_GT(sum.load(), 0);
}

}  // namespace
}  // namespace dw
