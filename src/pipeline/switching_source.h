// The "auto" source: ComfyUI when it is delivering, the offline generator when it is not,
// switching by itself both ways. Requests go to the primary while it is healthy. When the primary
// has been unhealthy (unreachable, or degraded: delivering nothing while requests wait) for longer
// than the grace period, the requests it holds are covered: copies go to the fallback, while the
// primary keeps them too. The first answer for a keyframe wins; the other is discarded (and the
// primary's copy cancelled). When the primary is healthy again, new requests go back to it.
// At start the primary gets `startup` to come up before requests go to the fallback, so that the
// first keyframes do not come from the offline generator only because the server was still being
// connected to.
// A healthy primary can still hold one request far too long (a POST that hangs, a node stuck
// while the server answers probes). Once it has delivered, each request it holds longer than
// `overdue.factor` times its typical time (an average of its own submit-to-delivery times, at
// least `overdue.floor`) is covered the same way, without a failover: new requests still go to
// it. While the screen is about to run out of content (`overdue.starving`: the pipeline's buffer
// is low), a held request is covered sooner, after `starving_factor` times the typical time (at
// least `starving_floor`): it now costs the viewer a standstill, not only a lane.
// A cover never gives up on work the server has under way on a clock alone. When the fallback
// answers first, the primary is asked to release the request: one the server has taken (queued or
// running there) finishes, its answer is dropped and its real time teaches the typical time, so a
// server that is slow but working is never kept from finishing, and one that has become slower for
// good is soon waited for again. One the server does not hold (a POST that hangs, a request
// waiting for a lane) is cancelled; its wait teaches nothing (a hang is not a pace), so a server
// that keeps hanging is covered as soon each time. Work the server holds but has stopped showing
// life on is the primary's own stall rule's to interrupt. A failover covers every request the
// primary holds the same way: a server busy with other users' work keeps ours queued. A keyframe
// the server finishes after its cover is not thrown away: it is kept as a spare and answers the
// next request at once, in place of asking anyone (its index becomes that request's, its origin
// says "(late)"), so a server slower than the screen still has its pictures shown while the offline
// generator fills the gaps.
#pragma once

#include <chrono>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>

#include "pipeline/keyframe_source.h"

namespace dw::pipeline {

// When a request the healthy primary holds counts as overdue (factor 0: never).
struct OverdueCover {
  double factor = 0;
  std::chrono::milliseconds floor{10000};
  // Whether the content buffer is about to run dry (empty: never). Asked on the thread that
  // calls submit() and next(), outside the switch's lock.
  std::function<bool()> starving;
  double starving_factor = 2.0;
  std::chrono::milliseconds starving_floor{2000};
  // The longest a request is waited for while starving, however slow the server has become: past
  // it the screen would stand still (what the server still finishes is shown later, as a spare).
  std::chrono::milliseconds starving_cap{8000};
};

class SwitchingKeyframeSource final : public KeyframeSource {
 public:
  SwitchingKeyframeSource(std::unique_ptr<KeyframeSource> primary,
                          std::unique_ptr<KeyframeSource> fallback, std::chrono::milliseconds grace,
                          std::chrono::milliseconds startup = std::chrono::milliseconds(0),
                          OverdueCover overdue = {});

  std::string name() const override;
  bool submit(KeyframeRequest request) override;
  std::optional<Keyframe> next(std::stop_token stop, std::chrono::milliseconds timeout) override;
  std::size_t pending() const override;
  // That of the source new requests go to.
  std::size_t capacity() const override;
  bool healthy() const override { return primary_->healthy() || fallback_->healthy(); }
  // The primary's (the fallback, offline, is the one that does not fail), with the switch's own
  // counters: failovers, covered (as covered()), overdue_covers (requests covered as overdue),
  // starving_covers (of those, covered sooner because the buffer ran low), late_keyframes
  // (released requests the server finished after the fallback had answered), late_shown (of
  // those, shown as spares) and fallback_keyframes (every keyframe the fallback delivered,
  // covered or asked of it directly).
  SourceHealth health() const override;

  bool using_primary() const;
  std::uint64_t failovers() const;
  // Keyframes the fallback delivered for requests the primary held (it answered first).
  std::uint64_t covered() const;

 private:
  using Clock = std::chrono::steady_clock;
  void fail_over_if_needed();
  void cover_overdue_locked(Clock::time_point now, bool starving);
  void learn_typical_locked(double took);
  bool to_primary_locked(Clock::time_point now) const;
  // Whether a keyframe is the first answer for its index (and the bookkeeping of that).
  // A late keyframe of the primary's is moved into the spares (and false returned).
  bool first_answer_locked(Keyframe& k, bool from_primary);

  std::unique_ptr<KeyframeSource> primary_;
  std::unique_ptr<KeyframeSource> fallback_;
  std::chrono::milliseconds grace_;
  Clock::time_point startup_until_;
  mutable std::mutex mutex_;
  struct Held {
    KeyframeRequest request;  // a copy, to cover it
    Clock::time_point sent;
  };
  OverdueCover overdue_;
  std::map<std::uint64_t, Held> at_primary_;
  std::optional<double> typical_s_;  // the primary's submit-to-delivery time, averaged
  std::set<std::uint64_t> covered_;  // at both: the first answer wins
  std::set<std::uint64_t> discard_;  // the fallback's answers still due for keyframes delivered
  // Released requests the primary is still finishing (their keyframes came from the fallback).
  // A few at most (the primary's lanes); the oldest is forgotten beyond that (one its server
  // failed is never delivered).
  struct Finishing {
    Clock::time_point sent;
    Prompt prompt;  // what it is made with, for the spare it becomes
    std::uint64_t seed = 0;
  };
  std::map<std::uint64_t, Finishing> finishing_;
  std::deque<Keyframe> spares_;    // finished late: each answers a later request (two at most)
  std::deque<Keyframe> answered_;  // requests a spare answered, for next()
  std::optional<Clock::time_point> unhealthy_since_;
  bool failed_over_ = false;
  std::uint64_t failovers_ = 0;
  std::uint64_t covered_count_ = 0;
  std::uint64_t fallback_keyframes_ = 0;
  std::uint64_t overdue_covers_ = 0;
  std::uint64_t starving_covers_ = 0;
  std::uint64_t late_keyframes_ = 0;
  std::uint64_t late_shown_ = 0;
};

}  // namespace dw::pipeline
