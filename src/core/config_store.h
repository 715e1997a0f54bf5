// The live configuration shared between the main thread (which edits it from the overlay) and the
// workers (which read a snapshot once per iteration). Publishing swaps an immutable snapshot, so a
// reader never sees a half-written config. The swap and the copy are a pointer exchange under a
// mutex held for a few instructions (libstdc++ 12's std::atomic<std::shared_ptr> hides its lock
// from ThreadSanitizer, which then reports races that are not there).
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>

#include "core/config.h"

namespace dw {

class ConfigStore {
 public:
  explicit ConfigStore(Config initial)
      : current_(std::make_shared<const Config>(std::move(initial))) {}

  std::shared_ptr<const Config> get() const {
    std::lock_guard lock(mutex_);
    return current_;
  }

  void publish(Config next) {
    auto snapshot = std::make_shared<const Config>(std::move(next));
    {
      std::lock_guard lock(mutex_);
      current_.swap(snapshot);
    }
    version_.fetch_add(1, std::memory_order_release);
    // The old snapshot (now in `snapshot`) is released outside the lock.
  }

  // Increments on every publish: a cheap "did anything change" check for per-frame readers.
  std::uint64_t version() const { return version_.load(std::memory_order_acquire); }

 private:
  mutable std::mutex mutex_;
  std::shared_ptr<const Config> current_;
  std::atomic<std::uint64_t> version_{0};
};

}  // namespace dw
