// One thread of its own for slow work that other threads hand off and never wait for (PNGs and
// archive files written to disk): a bounded queue that any thread submits to without blocking, and
// a handler that the worker thread runs on each item in order. A full queue refuses the item (the
// caller counts and reports it). Destruction handles what is queued, then joins.
#pragma once

#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <stop_token>
#include <thread>

namespace dw {

template <class Item>
class BackgroundWorker {
 public:
  using Handler = std::function<void(Item&)>;

  // `handler` runs on the worker thread only, one item at a time, and reports its own failures
  // (it must not throw). Declare the worker after
  // everything its handler touches, so that it is destroyed (and drained) first.
  BackgroundWorker(std::size_t capacity, Handler handler)
      : capacity_(capacity < 1 ? 1 : capacity),
        handler_(std::move(handler)),
        thread_([this](std::stop_token stop) { run(stop); }) {}
  ~BackgroundWorker() {
    thread_.request_stop();
    if (thread_.joinable()) thread_.join();
  }
  BackgroundWorker(const BackgroundWorker&) = delete;
  BackgroundWorker& operator=(const BackgroundWorker&) = delete;

  // Any thread, never waits. False: the queue is full and `item` was not taken.
  bool submit(Item item) {
    {
      std::lock_guard lock(mutex_);
      if (queue_.size() >= capacity_) return false;
      queue_.push_back(std::move(item));
    }
    wake_.notify_one();
    return true;
  }

  // Items waiting (not counting the one being handled).
  std::size_t queued() const {
    std::lock_guard lock(mutex_);
    return queue_.size();
  }

  // Waits until nothing is queued or being handled; false when the timeout passed first.
  bool wait_idle(std::chrono::milliseconds timeout) {
    std::unique_lock lock(mutex_);
    return idle_.wait_for(lock, timeout, [&] { return queue_.empty() && !busy_; });
  }

 private:
  void run(std::stop_token stop) {
    std::unique_lock lock(mutex_);
    for (;;) {
      wake_.wait(lock, stop, [&] { return !queue_.empty(); });
      if (queue_.empty()) break;  // stop requested and nothing left
      Item item = std::move(queue_.front());
      queue_.pop_front();
      busy_ = true;
      lock.unlock();
      handler_(item);
      lock.lock();
      busy_ = false;
      idle_.notify_all();
    }
  }

  const std::size_t capacity_;
  const Handler handler_;
  mutable std::mutex mutex_;
  std::condition_variable_any wake_;
  std::condition_variable idle_;
  std::deque<Item> queue_;
  bool busy_ = false;
  std::jthread thread_;  // last: it starts once everything above exists
};

}  // namespace dw
