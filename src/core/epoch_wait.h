// A wake-up counter that one side bumps and the other sleeps on with a deadline (Linux futex).
// std::atomic::wait has no timeout, and a worker must honour its stop token and deadlines, so this
// small primitive replaces it. The bump is a plain atomic add unless someone is asleep.
#pragma once

#include <linux/futex.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <ctime>

namespace dw {

class EpochWait {
 public:
  std::uint32_t current() const { return epoch_.load(std::memory_order_seq_cst); }

  // Wakes every sleeper. Call after publishing the state change the sleepers wait for.
  void bump() {
    epoch_.fetch_add(1, std::memory_order_seq_cst);
    if (sleepers_.load(std::memory_order_seq_cst) > 0) {
      syscall(SYS_futex, reinterpret_cast<std::uint32_t*>(&epoch_), FUTEX_WAKE_PRIVATE, INT32_MAX,
              nullptr, nullptr, 0);
    }
  }

  // Sleeps while the epoch still equals `seen`, at most until `deadline`. Spurious returns are
  // allowed: callers re-check their condition in a loop. Register with Sleeper before reading
  // `seen` so that a concurrent bump() cannot be missed.
  class Sleeper {
   public:
    explicit Sleeper(EpochWait& w) : w_(w) { w_.sleepers_.fetch_add(1, std::memory_order_seq_cst); }
    ~Sleeper() { w_.sleepers_.fetch_sub(1, std::memory_order_seq_cst); }
    Sleeper(const Sleeper&) = delete;
    Sleeper& operator=(const Sleeper&) = delete;

    void sleep(std::uint32_t seen, std::chrono::steady_clock::time_point deadline) {
      const auto left = deadline - std::chrono::steady_clock::now();
      if (left <= std::chrono::steady_clock::duration::zero()) return;
      const auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(left).count();
      timespec ts{static_cast<time_t>(ns / 1'000'000'000), static_cast<long>(ns % 1'000'000'000)};
      syscall(SYS_futex, reinterpret_cast<std::uint32_t*>(&w_.epoch_), FUTEX_WAIT_PRIVATE, seen,
              &ts, nullptr, 0);
    }

   private:
    EpochWait& w_;
  };

  // Waits until ready() holds, the stop token fires or the deadline passes; returns ready().
  template <class StopToken, class Ready>
  bool wait_until(const StopToken& stop, std::chrono::steady_clock::time_point deadline,
                  Ready ready) {
    Sleeper sleeper(*this);
    while (true) {
      const std::uint32_t seen = current();
      if (ready()) return true;
      if (stop.stop_requested() || std::chrono::steady_clock::now() >= deadline) return false;
      sleeper.sleep(seen, deadline);
    }
  }

 private:
  static_assert(sizeof(std::atomic<std::uint32_t>) == sizeof(std::uint32_t));
  std::atomic<std::uint32_t> epoch_{0};
  std::atomic<int> sleepers_{0};
};

}  // namespace dw
