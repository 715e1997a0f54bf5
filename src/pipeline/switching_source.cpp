#include "pipeline/switching_source.h"

#include <spdlog/spdlog.h>

#include <algorithm>

namespace dw::pipeline {

SwitchingKeyframeSource::SwitchingKeyframeSource(std::unique_ptr<KeyframeSource> primary,
                                                 std::unique_ptr<KeyframeSource> fallback,
                                                 std::chrono::milliseconds grace,
                                                 std::chrono::milliseconds startup,
                                                 OverdueCover overdue)
    : primary_(std::move(primary)),
      fallback_(std::move(fallback)),
      grace_(grace),
      startup_until_(Clock::now() + startup),
      overdue_(overdue) {}

namespace {

constexpr double kTypicalWeight = 0.25;  // of the newest time in the running average

double seconds_between(std::chrono::steady_clock::time_point a,
                       std::chrono::steady_clock::time_point b) {
  return std::chrono::duration<double>(b - a).count();
}

}  // namespace

std::string SwitchingKeyframeSource::name() const {
  return using_primary() ? primary_->name() : fallback_->name();
}

bool SwitchingKeyframeSource::to_primary_locked(Clock::time_point now) const {
  if (primary_->healthy()) return !unhealthy_since_;
  return now < startup_until_ && !failed_over_ && !primary_->came_up();  // still coming up
}

bool SwitchingKeyframeSource::using_primary() const {
  std::lock_guard lock(mutex_);
  return to_primary_locked(Clock::now());
}

std::uint64_t SwitchingKeyframeSource::failovers() const {
  std::lock_guard lock(mutex_);
  return failovers_;
}

std::uint64_t SwitchingKeyframeSource::covered() const {
  std::lock_guard lock(mutex_);
  return covered_count_;
}

SourceHealth SwitchingKeyframeSource::health() const {
  SourceHealth h = primary_->health();
  std::lock_guard lock(mutex_);
  h.counters.emplace_back("failovers", static_cast<double>(failovers_));
  h.counters.emplace_back("covered", static_cast<double>(covered_count_));
  h.counters.emplace_back("overdue_covers", static_cast<double>(overdue_covers_));
  h.counters.emplace_back("fallback_keyframes", static_cast<double>(fallback_keyframes_));
  return h;
}

std::size_t SwitchingKeyframeSource::pending() const {
  std::lock_guard lock(mutex_);
  // A covered request is pending at both; an answer due to be discarded is no longer pending.
  const std::size_t at_fallback = fallback_->pending();
  const std::size_t doubles = covered_.size() + discard_.size();
  return at_primary_.size() + (at_fallback > doubles ? at_fallback - doubles : 0);
}

std::size_t SwitchingKeyframeSource::capacity() const {
  return using_primary() ? primary_->capacity() : fallback_->capacity();
}

void SwitchingKeyframeSource::cover_overdue_locked(Clock::time_point now) {
  if (overdue_.factor <= 0 || !typical_s_) return;  // off, or nothing delivered yet to go by
  const double limit = std::max(std::chrono::duration<double>(overdue_.floor).count(),
                                overdue_.factor * *typical_s_);
  for (const auto& [index, held] : at_primary_) {
    const double waited = seconds_between(held.sent, now);
    if (waited < limit || covered_.count(index)) continue;
    if (!fallback_->submit(held.request)) break;  // the rest on a later call
    covered_.insert(index);
    ++overdue_covers_;
    spdlog::warn(
        "keyframes: keyframe {} has waited {:.1f} s at {} (typically {:.1f} s); covered "
        "by {}",
        index, waited, primary_->name(), *typical_s_, fallback_->name());
    // The server may have become slower for good: as if this one had taken as long as it waited.
    *typical_s_ += kTypicalWeight * (waited - *typical_s_);
  }
}

void SwitchingKeyframeSource::fail_over_if_needed() {
  const auto now = Clock::now();
  std::lock_guard lock(mutex_);
  cover_overdue_locked(now);
  if (primary_->healthy()) {
    if (failed_over_) spdlog::info("keyframes: {} is back", primary_->name());
    unhealthy_since_.reset();
    failed_over_ = false;
    startup_until_ = std::min(startup_until_, now);  // it came up: the startup grace is over
    return;
  }
  if (primary_->came_up()) startup_until_ = std::min(startup_until_, now);  // up, then down again
  if (now < startup_until_ && !failed_over_) return;
  if (!unhealthy_since_) unhealthy_since_ = now;
  if (now - *unhealthy_since_ < grace_) return;
  std::size_t moved = 0;
  for (const auto& [index, held] : at_primary_) {
    if (covered_.count(index)) continue;
    if (!fallback_->submit(held.request)) break;  // the rest is covered on a later call
    covered_.insert(index);
    ++moved;
  }
  if (!failed_over_ || moved > 0) {
    spdlog::warn("keyframes: {} is not delivering; {} pending keyframe(s) covered by {}",
                 primary_->name(), moved, fallback_->name());
    if (!failed_over_) ++failovers_;
    failed_over_ = true;
  }
}

bool SwitchingKeyframeSource::submit(KeyframeRequest request) {
  fail_over_if_needed();
  {
    std::lock_guard lock(mutex_);
    if (to_primary_locked(Clock::now())) {
      Held held{request, Clock::now()};
      if (!primary_->submit(std::move(request))) return false;
      at_primary_.emplace(held.request.index, std::move(held));
      return true;
    }
  }
  return fallback_->submit(std::move(request));
}

bool SwitchingKeyframeSource::first_answer_locked(const Keyframe& k, bool from_primary) {
  if (from_primary) {
    const auto held = at_primary_.find(k.index);
    if (held == at_primary_.end()) return false;  // cancelled: the fallback answered first
    const double took = seconds_between(held->second.sent, Clock::now());
    typical_s_ = typical_s_ ? *typical_s_ + kTypicalWeight * (took - *typical_s_) : took;
    at_primary_.erase(held);
    if (covered_.erase(k.index)) discard_.insert(k.index);  // the fallback's copy comes later
    return true;
  }
  if (discard_.erase(k.index)) return false;  // the primary answered first
  if (covered_.erase(k.index)) {              // the fallback answered first
    at_primary_.erase(k.index);
    primary_->cancel(k.index);
    ++covered_count_;
  }
  return true;
}

std::optional<Keyframe> SwitchingKeyframeSource::next(std::stop_token stop,
                                                      std::chrono::milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  constexpr auto kSlice = std::chrono::milliseconds(10);
  while (!stop.stop_requested()) {
    fail_over_if_needed();
    if (auto k = fallback_->next(stop, std::chrono::milliseconds(0))) {
      std::lock_guard lock(mutex_);
      if (!first_answer_locked(*k, false)) continue;
      ++fallback_keyframes_;
      return k;
    }
    if (auto k = primary_->next(stop, kSlice)) {
      std::lock_guard lock(mutex_);
      if (first_answer_locked(*k, true)) return k;
      continue;
    }
    if (Clock::now() >= deadline) break;
  }
  return std::nullopt;
}

}  // namespace dw::pipeline
