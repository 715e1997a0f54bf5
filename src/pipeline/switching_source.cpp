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

double in_seconds(std::chrono::milliseconds d) {
  return std::chrono::duration<double>(d).count();
}

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
  h.counters.emplace_back("starving_covers", static_cast<double>(starving_covers_));
  h.counters.emplace_back("late_keyframes", static_cast<double>(late_keyframes_));
  h.counters.emplace_back("late_shown", static_cast<double>(late_shown_));
  h.counters.emplace_back("fallback_keyframes", static_cast<double>(fallback_keyframes_));
  return h;
}

std::size_t SwitchingKeyframeSource::pending() const {
  std::lock_guard lock(mutex_);
  // A covered request is pending at both; an answer due to be discarded is no longer pending.
  const std::size_t at_fallback = fallback_->pending();
  const std::size_t doubles = covered_.size() + discard_.size();
  return at_primary_.size() + answered_.size() +
         (at_fallback > doubles ? at_fallback - doubles : 0);
}

std::size_t SwitchingKeyframeSource::capacity() const {
  return using_primary() ? primary_->capacity() : fallback_->capacity();
}

void SwitchingKeyframeSource::learn_typical_locked(double took) {
  typical_s_ = typical_s_ ? *typical_s_ + kTypicalWeight * (took - *typical_s_) : took;
}

void SwitchingKeyframeSource::cover_overdue_locked(Clock::time_point now, bool starving) {
  if (overdue_.factor <= 0 || !typical_s_) return;  // off, or nothing delivered yet to go by
  const double limit = std::max(in_seconds(overdue_.floor), overdue_.factor * *typical_s_);
  double soon = limit;
  if (starving) {  // twice the typical time, at least the starving floor, at most its cap
    const double floor = in_seconds(overdue_.starving_floor);
    const double cap = std::max(floor, in_seconds(overdue_.starving_cap));
    soon = std::min(limit, std::clamp(overdue_.starving_factor * *typical_s_, floor, cap));
  }
  for (auto& [index, held] : at_primary_) {
    const double waited = seconds_between(held.sent, now);
    if (waited < soon || covered_.count(index)) continue;
    if (!fallback_->submit(held.request)) break;  // the rest on a later call
    covered_.insert(index);
    ++overdue_covers_;
    const bool sooner = waited < limit;  // only because the buffer runs low
    starving_covers_ += sooner;
    spdlog::warn(
        "keyframes: keyframe {} has waited {:.1f} s at {} (typically {:.1f} s{}); covered "
        "by {}",
        index, waited, primary_->name(), *typical_s_,
        sooner ? ", and the buffer is running low" : "", fallback_->name());
  }
}

void SwitchingKeyframeSource::fail_over_if_needed() {
  const bool starving = overdue_.starving && overdue_.starving();
  const auto now = Clock::now();
  std::lock_guard lock(mutex_);
  cover_overdue_locked(now, starving);
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
  // Failing over: every pending keyframe goes to the fallback. What the server has taken on stays
  // there (released as the fallback answers, like an overdue cover): a server that only queues
  // ours behind other users' work keeps our place in its queue, and its picture is shown late.
  // What it has not taken is dropped then; a prompt that runs without a sign of life is
  // interrupted by its lane, and one on a server that went away fails there.
  std::size_t moved = 0;
  for (auto& [index, held] : at_primary_) {
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
    if (!spares_.empty()) {  // a keyframe the server finished late answers it at once
      Keyframe k = std::move(spares_.front());
      spares_.pop_front();
      k.index = request.index;
      k.origin += " (late)";
      answered_.push_back(std::move(k));
      ++late_shown_;
      return true;
    }
    if (to_primary_locked(Clock::now())) {
      Held held{request, Clock::now()};
      if (!primary_->submit(std::move(request))) return false;
      at_primary_.emplace(held.request.index, std::move(held));
      return true;
    }
  }
  return fallback_->submit(std::move(request));
}

bool SwitchingKeyframeSource::first_answer_locked(Keyframe& k, bool from_primary) {
  const auto now = Clock::now();
  if (from_primary) {
    if (const auto late = finishing_.find(k.index); late != finishing_.end()) {
      learn_typical_locked(seconds_between(late->second.sent, now));  // finished: its time counts
      k.made_with.emplace(std::move(late->second.prompt), late->second.seed);
      finishing_.erase(late);
      ++late_keyframes_;
      // The fallback answered first; the server's picture answers a later request instead.
      constexpr std::size_t kMaxSpares = 2;
      spares_.push_back(std::move(k));
      while (spares_.size() > kMaxSpares) spares_.pop_front();  // the oldest is stalest
      return false;
    }
    const auto held = at_primary_.find(k.index);
    if (held == at_primary_.end()) return false;  // cancelled: the fallback answered first
    learn_typical_locked(seconds_between(held->second.sent, now));
    at_primary_.erase(held);
    if (covered_.erase(k.index)) discard_.insert(k.index);  // the fallback's copy comes later
    return true;
  }
  if (discard_.erase(k.index)) return false;  // the primary answered first
  if (covered_.erase(k.index)) {              // the fallback answered first
    const auto held = at_primary_.find(k.index);
    if (held != at_primary_.end()) {
      const KeyframeRequest& r = held->second.request;
      if (primary_->release(k.index))
        finishing_.emplace(k.index, Finishing{held->second.sent, r.prompt, r.seed});
      constexpr std::size_t kMaxFinishing = 16;
      while (finishing_.size() > kMaxFinishing) finishing_.erase(finishing_.begin());
    } else {
      primary_->cancel(k.index);
    }
    if (held != at_primary_.end()) at_primary_.erase(held);
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
    {
      std::lock_guard lock(mutex_);
      if (!answered_.empty()) {
        Keyframe k = std::move(answered_.front());
        answered_.pop_front();
        return k;
      }
    }
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
