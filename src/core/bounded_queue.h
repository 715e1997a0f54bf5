// A bounded multi-producer/multi-consumer queue for the workers (not for the render thread, which
// only touches the lock-free FrameRing). Every producer states what happens when it is full:
// block (until there is room or the stop token fires), drop the oldest item, or skip the new one;
// each outcome is counted so status and the overlay can show what was lost.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <mutex>
#include <optional>
#include <stop_token>

namespace dw {

enum class WhenFull { Block, DropOldest, Skip };

struct QueueCounters {
  std::uint64_t pushed = 0;
  std::uint64_t popped = 0;
  std::uint64_t dropped_oldest = 0;
  std::uint64_t skipped = 0;
  std::uint64_t blocked = 0;  // pushes that had to wait for room
};

template <class T>
class BoundedQueue {
 public:
  explicit BoundedQueue(std::size_t capacity) : capacity_(capacity < 1 ? 1 : capacity) {}

  // Returns true when the item entered the queue. With Block it waits until there is room or the
  // stop token fires (then false, item not queued): no deadline, because every producer treats a
  // refused push as "stopping" and a keyframe dropped while the consumer was paused (a frozen
  // picture, a minimised window) would stall the show for good.
  bool push(T item, WhenFull policy, std::stop_token stop = {}) {
    std::unique_lock lock(mutex_);
    if (items_.size() >= capacity_) {
      switch (policy) {
        case WhenFull::Skip:
          ++counters_.skipped;
          return false;
        case WhenFull::DropOldest:
          items_.pop_front();
          ++counters_.dropped_oldest;
          break;
        case WhenFull::Block:
          ++counters_.blocked;
          if (!room_.wait(lock, stop, [&] { return items_.size() < capacity_; })) return false;
          break;
      }
    }
    items_.push_back(std::move(item));
    ++counters_.pushed;
    lock.unlock();
    ready_.notify_one();
    return true;
  }

  // Waits for an item until the stop token fires or the timeout passes.
  std::optional<T> pop(std::stop_token stop, std::chrono::milliseconds timeout) {
    std::unique_lock lock(mutex_);
    if (!ready_.wait_for(lock, stop, timeout, [&] { return !items_.empty(); })) return std::nullopt;
    return take(lock);
  }

  std::optional<T> try_pop() {
    std::unique_lock lock(mutex_);
    if (items_.empty()) return std::nullopt;
    return take(lock);
  }

  std::size_t size() const {
    std::lock_guard lock(mutex_);
    return items_.size();
  }
  std::size_t capacity() const { return capacity_; }
  QueueCounters counters() const {
    std::lock_guard lock(mutex_);
    return counters_;
  }

 private:
  // Removes the oldest item (the queue is not empty and `lock` holds the mutex) and wakes a
  // producer waiting for room.
  T take(std::unique_lock<std::mutex>& lock) {
    T item = std::move(items_.front());
    items_.pop_front();
    ++counters_.popped;
    lock.unlock();
    room_.notify_one();
    return item;
  }

  const std::size_t capacity_;
  mutable std::mutex mutex_;
  std::condition_variable_any ready_;
  std::condition_variable_any room_;
  std::deque<T> items_;
  QueueCounters counters_;
};

}  // namespace dw
