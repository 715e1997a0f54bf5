// Worker: the one thread shape of the pipeline's workers (orchestrator, interpolation, cache). It
// runs a step function over and over on a std::jthread until stopped, and knows what became of
// it, so status reports the truth instead of "running" whatever happens:
//  - running: the loop is going;
//  - stopped: stop() was called (or a step threw dw::Cancelled, the shutdown signal);
//  - failed:  an exception escaped a step. The thread ends (logged critical, the message kept for
//    status); without this boundary it would be std::terminate. A worker that fails stays failed:
//    its errors are bugs, not weather, and the service watchdog restarts the process.
// Errors a step can recover from are the step's own business (it logs, counts and goes on).
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <mutex>
#include <stop_token>
#include <string>
#include <string_view>
#include <thread>

namespace dw::pipeline {

// Unhealthy is for the keyframe source's entry in status only (its threads are its own): up, but
// it cannot produce right now (server unreachable).
enum class WorkerState { Starting, Running, Unhealthy, Stopped, Failed };
std::string_view to_string(WorkerState state);

// Tests make a worker fail through this: it is called with the worker's name before each step,
// and whatever it throws escapes that step.
using WorkerFaultHook = std::function<void(std::string_view worker)>;

class Worker {
 public:
  using Step = std::function<void(std::stop_token)>;

  explicit Worker(std::string name, WorkerFaultHook fault = {});
  ~Worker();
  Worker(const Worker&) = delete;
  Worker& operator=(const Worker&) = delete;

  // Starts the thread. Called once, by the owner's constructor after everything the step touches
  // is set up.
  void start(Step step);
  // Requests a stop and joins; within one step of the owner (steps wait in slices).
  void stop();

  const std::string& name() const { return name_; }
  WorkerState state() const { return state_.load(); }
  // What escaped the step when failed; empty otherwise.
  std::string failure() const;
  // Steps finished so far: the service watchdog's sign of progress (a step that never returns,
  // a wedged worker, stops it counting).
  std::uint64_t steps() const { return steps_.load(std::memory_order_relaxed); }

 private:
  void run(const Step& step, std::stop_token stop);

  std::string name_;
  WorkerFaultHook fault_;
  std::atomic<WorkerState> state_{WorkerState::Starting};
  std::atomic<std::uint64_t> steps_{0};
  mutable std::mutex failure_mutex_;
  std::string failure_;
  std::jthread thread_;
};

}  // namespace dw::pipeline
