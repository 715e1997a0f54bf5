// Lock-free single-producer / single-consumer ring of reusable slots.
//
// What must stay true:
//  - exactly one producer thread calls begin_write/commit_write/wait_for_space, and exactly one
//    consumer thread calls peek/pop/wait_for_data;
//  - capacity is a power of two; indices grow without bound and are masked on access, so full and
//    empty are told apart without a spare slot;
//  - a slot is published with a release store of `tail_` and taken with an acquire load, so
//    everything the producer wrote into it is visible to the consumer (and the reverse for head_);
//  - nothing allocates after construction: slots are reused, never copied or moved.
// Waiting is optional (the render loop never waits): the waits sleep on an EpochWait that each
// pop/commit and each stop request bumps, so no wake-up can be lost.
#pragma once

#include <algorithm>
#include <atomic>
#include <bit>
#include <chrono>
#include <cstddef>
#include <memory>
#include <new>
#include <stop_token>

#include "core/epoch_wait.h"
#include "core/error.h"

namespace dw {

inline constexpr std::size_t kCacheLine = 64;

template <class Slot>
class FrameRing {
 public:
  explicit FrameRing(std::size_t capacity) : capacity_(capacity), mask_(capacity - 1) {
    DW_CHECK(capacity >= 2 && std::has_single_bit(capacity),
             "FrameRing capacity must be a power of two >= 2");
    slots_ = std::make_unique<Slot[]>(capacity);
  }
  FrameRing(const FrameRing&) = delete;
  FrameRing& operator=(const FrameRing&) = delete;

  std::size_t capacity() const { return capacity_; }

  // Number of committed, not yet popped slots. Exact from either side's own thread for its own
  // view; for observers a count that was true at one moment, never above capacity. Head is loaded
  // first: the consumer published that head after reading a tail at least as large, and tail only
  // grows, so tail - head cannot wrap (tail first, the consumer could pop past it in between:
  // about 1.8e19). Head read again unchanged means it held while tail was read; an observer that
  // keeps losing that race (a busy consumer) gets the difference clamped to the capacity.
  std::size_t size() const {
    std::size_t head = head_.load(std::memory_order_acquire);
    for (int attempt = 0; attempt < 4; ++attempt) {
      const std::size_t tail = tail_.load(std::memory_order_acquire);
      const std::size_t head_again = head_.load(std::memory_order_acquire);
      if (head_again == head) return tail - head;
      head = head_again;
    }
    return std::min(tail_.load(std::memory_order_acquire) - head, capacity_);
  }

  // ---- producer ----
  // The next free slot to fill, or nullptr when the ring is full. The slot stays private to the
  // producer until commit_write().
  Slot* begin_write() {
    const std::size_t tail = tail_.load(std::memory_order_relaxed);
    if (tail - producer_cached_head_ >= capacity_) {
      producer_cached_head_ = head_.load(std::memory_order_acquire);
      if (tail - producer_cached_head_ >= capacity_) return nullptr;
    }
    return &slots_[tail & mask_];
  }
  void commit_write() { commit_write(1); }

  // Batch writing: a decoder fills several slots in place and publishes them together.
  // free_slots() is exact for the producer (it can only grow behind its back).
  std::size_t free_slots() {
    producer_cached_head_ = head_.load(std::memory_order_acquire);
    return capacity_ - (tail_.load(std::memory_order_relaxed) - producer_cached_head_);
  }
  // The i-th free slot after the write position; requires i < free_slots().
  Slot* writable(std::size_t i) {
    return &slots_[(tail_.load(std::memory_order_relaxed) + i) & mask_];
  }
  void commit_write(std::size_t n) {
    tail_.store(tail_.load(std::memory_order_relaxed) + n, std::memory_order_release);
    data_wait_.bump();
  }
  // Blocks until a slot is free, the stop token fires, or the timeout passes. True when free.
  bool wait_for_space(std::stop_token stop, std::chrono::milliseconds timeout,
                      std::size_t slots = 1) {
    return wait(space_wait_, stop, timeout, [this, slots] {
      return capacity_ -
                 (tail_.load(std::memory_order_relaxed) - head_.load(std::memory_order_acquire)) >=
             slots;
    });
  }

  // ---- consumer ----
  // The committed slot `offset` places after the oldest, or nullptr when fewer are committed.
  Slot* peek(std::size_t offset = 0) {
    const std::size_t head = head_.load(std::memory_order_relaxed);
    if (consumer_cached_tail_ - head <= offset) {
      consumer_cached_tail_ = tail_.load(std::memory_order_acquire);
      if (consumer_cached_tail_ - head <= offset) return nullptr;
    }
    return &slots_[(head + offset) & mask_];
  }
  // Releases the oldest slot back to the producer. Requires peek() to have found it.
  void pop() {
    head_.store(head_.load(std::memory_order_relaxed) + 1, std::memory_order_release);
    space_wait_.bump();
  }
  bool wait_for_data(std::stop_token stop, std::chrono::milliseconds timeout) {
    return wait(data_wait_, stop, timeout, [this] {
      return tail_.load(std::memory_order_acquire) - head_.load(std::memory_order_relaxed) > 0;
    });
  }

 private:
  template <class Ready>
  static bool wait(EpochWait& w, std::stop_token& stop, std::chrono::milliseconds timeout,
                   Ready ready) {
    // A stop request bumps the epoch, so a waiter never sleeps through it.
    std::stop_callback wake(stop, [&w] { w.bump(); });
    return w.wait_until(stop, std::chrono::steady_clock::now() + timeout, ready);
  }

  std::size_t capacity_;
  std::size_t mask_;
  std::unique_ptr<Slot[]> slots_;

  alignas(kCacheLine) std::atomic<std::size_t> head_{0};  // consumer-owned
  std::size_t consumer_cached_tail_ = 0;
  alignas(kCacheLine) std::atomic<std::size_t> tail_{0};  // producer-owned
  std::size_t producer_cached_head_ = 0;
  alignas(kCacheLine) EpochWait data_wait_;
  alignas(kCacheLine) EpochWait space_wait_;
};

}  // namespace dw
