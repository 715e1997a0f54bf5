// The one shared-access point to the VAE: the interpolation worker decodes through it, the
// orchestrator's injection encodes and decodes through it. A mutex serialises the backend (it owns
// its streams and scratch memory and is not re-entrant); every acquisition measures how long it
// waited, so contention shows up in status.json and the overlay instead of as mystery stutter.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>

#include "vae/backend.h"

namespace dw::pipeline {

struct LockWaitStats {
  std::uint64_t acquisitions = 0;
  double total_wait_ms = 0;
  double max_wait_ms = 0;
  double last_wait_ms = 0;
  double mean_wait_ms() const { return acquisitions ? total_wait_ms / acquisitions : 0; }
};

class VaeService {
 public:
  // A null backend means "no VAE configured": callers use their pixel-space fallback.
  explicit VaeService(std::unique_ptr<vae::VaeBackend> backend) : backend_(std::move(backend)) {}

  bool available() const { return backend_ != nullptr; }
  // A backend whose model has an encoder (a decoder-only VAE decodes saved latents only).
  bool can_encode() const { return backend_ != nullptr && backend_->can_encode(); }
  const vae::ModelInfo* info() const { return backend_ ? &backend_->info() : nullptr; }
  std::string_view backend_name() const { return backend_ ? backend_->name() : "none"; }

  // Runs f(backend) under the lock. Requires available().
  template <class F>
  auto with(F&& f) {
    const auto start = std::chrono::steady_clock::now();
    std::unique_lock lock(mutex_);
    record_wait(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start)
                    .count());
    return f(*backend_);
  }

  // Stops the backend's work in progress (it throws dw::Cancelled) without taking the lock, so a
  // shutdown never waits for a long decode to finish.
  void shutdown() {
    if (backend_) backend_->shutdown();
  }

  LockWaitStats stats() const {
    std::lock_guard lock(stats_mutex_);
    return stats_;
  }

 private:
  void record_wait(double ms) {
    std::lock_guard lock(stats_mutex_);
    ++stats_.acquisitions;
    stats_.total_wait_ms += ms;
    stats_.max_wait_ms = std::max(stats_.max_wait_ms, ms);
    stats_.last_wait_ms = ms;
  }

  std::unique_ptr<vae::VaeBackend> backend_;
  std::mutex mutex_;
  mutable std::mutex stats_mutex_;
  LockWaitStats stats_;
};

}  // namespace dw::pipeline
