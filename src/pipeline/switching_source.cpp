#include "pipeline/switching_source.h"

#include <spdlog/spdlog.h>

namespace dw::pipeline {

SwitchingKeyframeSource::SwitchingKeyframeSource(std::unique_ptr<KeyframeSource> primary,
                                                 std::unique_ptr<KeyframeSource> fallback,
                                                 std::chrono::milliseconds grace)
    : primary_(std::move(primary)), fallback_(std::move(fallback)), grace_(grace) {}

std::string SwitchingKeyframeSource::name() const {
  return using_primary() ? primary_->name() : fallback_->name();
}

bool SwitchingKeyframeSource::using_primary() const {
  std::lock_guard lock(mutex_);
  return primary_->healthy() && !unhealthy_since_;
}

std::uint64_t SwitchingKeyframeSource::failovers() const {
  std::lock_guard lock(mutex_);
  return failovers_;
}

std::size_t SwitchingKeyframeSource::pending() const {
  std::lock_guard lock(mutex_);
  return at_primary_.size() + fallback_->pending();
}

std::size_t SwitchingKeyframeSource::capacity() const {
  return using_primary() ? primary_->capacity() : fallback_->capacity();
}

void SwitchingKeyframeSource::fail_over_if_needed() {
  const auto now = std::chrono::steady_clock::now();
  std::lock_guard lock(mutex_);
  if (primary_->healthy()) {
    if (unhealthy_since_) spdlog::info("keyframes: {} is back", primary_->name());
    unhealthy_since_.reset();
    return;
  }
  if (!unhealthy_since_) unhealthy_since_ = now;
  if (now - *unhealthy_since_ < grace_ || at_primary_.empty()) return;
  spdlog::warn("keyframes: {} unreachable for {} ms; {} pending keyframe(s) go to {}",
               primary_->name(), grace_.count(), at_primary_.size(), fallback_->name());
  for (auto it = at_primary_.begin(); it != at_primary_.end();) {
    if (!fallback_->submit(it->second)) break;  // the rest moves on a later call
    primary_->cancel(it->first);
    it = at_primary_.erase(it);
  }
  ++failovers_;
}

bool SwitchingKeyframeSource::submit(KeyframeRequest request) {
  fail_over_if_needed();
  {
    std::lock_guard lock(mutex_);
    const bool to_primary = primary_->healthy() && !unhealthy_since_;
    if (to_primary) {
      KeyframeRequest copy = request;
      if (!primary_->submit(std::move(request))) return false;
      at_primary_.emplace(copy.index, std::move(copy));
      return true;
    }
  }
  return fallback_->submit(std::move(request));
}

std::optional<Keyframe> SwitchingKeyframeSource::next(std::stop_token stop,
                                                      std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  constexpr auto kSlice = std::chrono::milliseconds(10);
  while (!stop.stop_requested()) {
    fail_over_if_needed();
    if (auto k = fallback_->next(stop, std::chrono::milliseconds(0))) return k;
    if (auto k = primary_->next(stop, kSlice)) {
      std::lock_guard lock(mutex_);
      at_primary_.erase(k->index);
      return k;
    }
    if (std::chrono::steady_clock::now() >= deadline) break;
  }
  return std::nullopt;
}

}  // namespace dw::pipeline
