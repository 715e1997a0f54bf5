// The live configuration shared between the main thread (which edits it from the overlay) and the
// workers (which read a snapshot once per iteration). Publishing swaps an immutable snapshot, so a
// reader never sees a half-written config and never blocks the writer.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>

#include "core/config.h"

namespace dw {

class ConfigStore {
 public:
  explicit ConfigStore(Config initial)
      : current_(std::make_shared<const Config>(std::move(initial))) {}

  std::shared_ptr<const Config> get() const { return current_.load(std::memory_order_acquire); }

  void publish(Config next) {
    current_.store(std::make_shared<const Config>(std::move(next)), std::memory_order_release);
    version_.fetch_add(1, std::memory_order_release);
  }

  // Increments on every publish: a cheap "did anything change" check for per-frame readers.
  std::uint64_t version() const { return version_.load(std::memory_order_acquire); }

 private:
  std::atomic<std::shared_ptr<const Config>> current_;
  std::atomic<std::uint64_t> version_{0};
};

}  // namespace dw
