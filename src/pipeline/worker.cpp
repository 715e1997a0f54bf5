#include "pipeline/worker.h"

#include <spdlog/spdlog.h>

#include "core/error.h"

namespace dw::pipeline {

std::string_view to_string(WorkerState state) {
  switch (state) {
    case WorkerState::Starting:
      return "starting";
    case WorkerState::Running:
      return "running";
    case WorkerState::Unhealthy:
      return "unhealthy";
    case WorkerState::Stopped:
      return "stopped";
    case WorkerState::Failed:
      return "failed";
  }
  return "unknown";
}

Worker::Worker(std::string name, WorkerFaultHook fault)
    : name_(std::move(name)), fault_(std::move(fault)) {}

Worker::~Worker() {
  stop();
}

void Worker::start(Step step) {
  state_ = WorkerState::Running;
  thread_ = std::jthread([this, step = std::move(step)](std::stop_token stop) { run(step, stop); });
}

void Worker::stop() {
  if (!thread_.joinable()) return;
  thread_.request_stop();
  thread_.join();
}

std::string Worker::failure() const {
  std::lock_guard lock(failure_mutex_);
  return failure_;
}

void Worker::run(const Step& step, std::stop_token stop) {
  std::string what;
  try {
    while (!stop.stop_requested()) {
      if (fault_) fault_(name_);
      step(stop);
      steps_.fetch_add(1, std::memory_order_relaxed);
    }
    state_ = WorkerState::Stopped;
    return;
  } catch (const Cancelled&) {
    state_ = WorkerState::Stopped;  // the VAE was shut down under it: a stop
    return;
  } catch (const std::exception& e) {
    what = e.what();
  } catch (...) {
    what = "an exception that is not a std::exception";
  }
  spdlog::critical("{}: the worker stopped on an error it cannot recover from: {}", name_, what);
  {
    std::lock_guard lock(failure_mutex_);
    failure_ = std::move(what);
  }
  state_ = WorkerState::Failed;
}

}  // namespace dw::pipeline
