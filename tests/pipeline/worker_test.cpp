// A worker's state is what became of its thread: starting before start(), running while its loop
// goes, stopped after stop() or a dw::Cancelled, failed (with the message) when a step throws.
#include "pipeline/worker.h"

#include <gtest/gtest.h>

#include <atomic>
#include <stdexcept>

#include "core/error.h"
#include "support/test_support.h"

namespace dw::pipeline {
namespace {

TEST(Worker, RunsThenStopsWhenAsked) {
  Worker worker("w");
  EXPECT_EQ(worker.state(), WorkerState::Starting);
  std::atomic<int> steps{0};
  worker.start([&](std::stop_token) { ++steps; });
  ASSERT_TRUE(test::wait_until([&] { return steps.load() >= 3; }));
  EXPECT_EQ(worker.state(), WorkerState::Running);
  worker.stop();
  EXPECT_EQ(worker.state(), WorkerState::Stopped);
  EXPECT_EQ(worker.failure(), "");
}

TEST(Worker, AnEscapedExceptionFailsItWithTheMessage) {
  Worker worker("w");
  std::atomic<int> steps{0};
  worker.start([&](std::stop_token) {
    if (++steps == 3) throw std::runtime_error("the disk went away");
  });
  ASSERT_TRUE(test::wait_until([&] { return worker.state() == WorkerState::Failed; }));
  EXPECT_EQ(worker.failure(), "the disk went away");
  EXPECT_EQ(steps.load(), 3) << "a failed worker runs no more steps";
  worker.stop();
  EXPECT_EQ(worker.state(), WorkerState::Failed) << "stop() does not hide a failure";
}

TEST(Worker, TheFaultHookFailsItByName) {
  Worker worker("cache", [](std::string_view name) {
    if (name == "cache") throw std::runtime_error("injected");
  });
  worker.start([](std::stop_token) {});
  ASSERT_TRUE(test::wait_until([&] { return worker.state() == WorkerState::Failed; }));
  EXPECT_EQ(worker.failure(), "injected");
}

TEST(Worker, CancelledIsAStopNotAFailure) {
  Worker worker("w");
  worker.start([](std::stop_token) { throw Cancelled("vae shut down"); });
  ASSERT_TRUE(test::wait_until([&] { return worker.state() == WorkerState::Stopped; }));
  EXPECT_EQ(worker.failure(), "");
}

}  // namespace
}  // namespace dw::pipeline
