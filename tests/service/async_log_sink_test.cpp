// AsyncLogSink: a thread that logs never waits for a stuck output, what is lost is said, a stuck
// output neither holds up another nor the exit, and what is queued is written on the way out.
#include "app/async_log_sink.h"

#include <gtest/gtest.h>
#include <spdlog/sinks/base_sink.h>
#include <spdlog/spdlog.h>

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "support/test_support.h"

namespace dw::service {
namespace {

using namespace std::chrono_literals;

// An output that keeps what it is given; it can be held shut (a pipe nobody reads) or made to
// throw (a full disk).
class Output final : public spdlog::sinks::base_sink<std::mutex> {
 public:
  void hold() {
    std::lock_guard lock(gate_mutex_);
    held_ = true;
  }
  void release() {
    {
      std::lock_guard lock(gate_mutex_);
      held_ = false;
    }
    gate_.notify_all();
  }
  bool stuck() const { return waiting_.load(); }
  std::atomic<bool> throws{false};

  std::vector<std::string> lines() {
    std::lock_guard lock(mutex_);
    return lines_;
  }
  int flushes() {
    std::lock_guard lock(mutex_);
    return flushes_;
  }

 protected:
  void sink_it_(const spdlog::details::log_msg& msg) override {
    {
      std::unique_lock lock(gate_mutex_);
      waiting_ = held_;
      gate_.wait(lock, [this] { return !held_; });
      waiting_ = false;
    }
    if (throws) throw std::runtime_error("no space left on device");
    lines_.emplace_back(msg.payload.begin(), msg.payload.end());
  }
  void flush_() override { ++flushes_; }

 private:
  std::mutex gate_mutex_;
  std::condition_variable gate_;
  bool held_ = false;
  std::atomic<bool> waiting_{false};
  std::vector<std::string> lines_;
  int flushes_ = 0;
};

spdlog::logger logger_to(std::vector<spdlog::sink_ptr> sinks) {
  spdlog::logger logger("test", sinks.begin(), sinks.end());
  logger.set_level(spdlog::level::trace);
  return logger;
}

TEST(AsyncLogSink, AStuckOutputNeverStopsTheThreadThatLogsAndWhatWasLostIsSaid) {
  auto output = std::make_shared<Output>();
  auto sink = std::make_shared<AsyncLogSink>(output, 100);
  auto logger = logger_to({sink});
  output->hold();
  logger.info("first");
  ASSERT_TRUE(test::wait_until([&] { return output->stuck(); })) << "the writer took the line";

  // 5000 more lines while the output takes none: the logging thread goes on.
  std::atomic<bool> logged{false};
  std::thread producer([&] {
    for (int i = 0; i < 5000; ++i) logger.info("line {}", i);
    logged = true;
  });
  const bool went_on = test::wait_until([&] { return logged.load(); });
  output->release();
  producer.join();
  ASSERT_TRUE(went_on) << "logging waited for a stuck output";

  ASSERT_TRUE(sink->drain(10s));
  const std::vector<std::string> lines = output->lines();
  EXPECT_EQ(sink->lost(), 4900u) << "the queue keeps the newest 100";
  ASSERT_EQ(lines.size(), 102u);
  EXPECT_EQ(lines[0], "first");
  EXPECT_EQ(lines[1], "log: 4900 lines were lost here: this output was not taking them");
  EXPECT_EQ(lines[2], "line 4900");
  EXPECT_EQ(lines.back(), "line 4999");
}

TEST(AsyncLogSink, AStuckOutputDoesNotHoldUpAnother) {
  auto stuck = std::make_shared<Output>();
  auto fine = std::make_shared<Output>();
  auto stuck_sink = std::make_shared<AsyncLogSink>(stuck);
  auto fine_sink = std::make_shared<AsyncLogSink>(fine);
  auto logger = logger_to({stuck_sink, fine_sink});
  stuck->hold();
  for (int i = 0; i < 10; ++i) logger.warn("warning {}", i);
  EXPECT_TRUE(fine_sink->drain(10s));
  EXPECT_EQ(fine->lines().size(), 10u);
  EXPECT_FALSE(stuck_sink->drain(50ms)) << "drain says when the lines are not out";
  stuck->release();
  EXPECT_TRUE(stuck_sink->drain(10s));
  EXPECT_EQ(stuck->lines().size(), 10u);
}

TEST(AsyncLogSink, GoingAwayWritesWhatIsQueued) {
  auto output = std::make_shared<Output>();
  {
    auto logger = logger_to({std::make_shared<AsyncLogSink>(output)});
    for (int i = 0; i < 1000; ++i) logger.debug("debug {}", i);
  }
  const std::vector<std::string> lines = output->lines();
  ASSERT_EQ(lines.size(), 1000u);
  EXPECT_EQ(lines.back(), "debug 999");
  EXPECT_GE(output->flushes(), 1) << "debug lines are flushed once the queue runs empty";
}

TEST(AsyncLogSink, AnOutputStuckForGoodDoesNotHoldUpTheExit) {
  auto output = std::make_shared<Output>();
  output->hold();
  std::atomic<bool> gone{false};
  std::thread owner([&] {
    auto logger = logger_to({std::make_shared<AsyncLogSink>(output)});
    logger.error("never written");
    logger.error("nor this");
  });  // the logger and its sink go when the thread ends
  std::thread watcher([&] {
    owner.join();
    gone = true;
  });
  const bool ended = test::wait_until([&] { return gone.load(); }, 20s);
  output->release();  // the writer left behind finishes now
  watcher.join();
  EXPECT_TRUE(ended) << "the sink waited for good for an output that takes nothing";
}

TEST(AsyncLogSink, LinesAnOutputRefusedAreCountedAndSaidByTheNextOneThatGetsThrough) {
  auto output = std::make_shared<Output>();
  auto sink = std::make_shared<AsyncLogSink>(output);
  auto logger = logger_to({sink});
  output->throws = true;
  logger.info("refused 1");
  logger.info("refused 2");
  ASSERT_TRUE(sink->drain(10s));
  output->throws = false;
  logger.info("through");
  ASSERT_TRUE(sink->drain(10s));
  EXPECT_EQ(sink->lost(), 2u);
  EXPECT_EQ(output->lines(),
            (std::vector<std::string>{
                "log: 2 lines were lost here: this output was not taking them", "through"}));
}

}  // namespace
}  // namespace dw::service
