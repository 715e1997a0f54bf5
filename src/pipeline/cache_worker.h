// CacheAnalysisWorker (a Worker thread): scores frames for the diversity cache off the hot paths.
// Its queue is bounded and drops the oldest item when full (a late cache decision is worth less
// than a fresh one); drops are counted and reported. While the orchestrator's detector says the
// stream is degenerating (fry or noise, set_degenerating) or collapsing (set_collapse), every
// frame is refused unseen; the cache itself refuses degenerate frames by their measures and keeps
// to its write budget. A collapse is seen only once the loop has been the same picture for a
// while: what this run admitted of it before then (frames of keyframes after the last one made
// before the collapse) is taken out of the cache again, so that no later injection brings it back.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <utility>

#include "cache/diversity_cache.h"
#include "core/bounded_queue.h"
#include "core/config_store.h"
#include "core/image.h"
#include "pipeline/worker.h"

namespace dw::pipeline {

struct CacheItem {
  Image image;
  cache::EntryKind kind = cache::EntryKind::Keyframe;
  std::uint64_t keyframe_index = 0;
};

struct CacheWorkerStats {
  std::uint64_t considered = 0;
  std::uint64_t accepted = 0;
  std::uint64_t evicted = 0;
  std::uint64_t errors = 0;
  std::uint64_t refused_degenerate = 0;  // by the detector's trend or the frame's own measures
  std::uint64_t refused_budget = 0;      // the write budget was spent
  std::uint64_t refused_collapse = 0;    // while the loop was collapsing
  std::uint64_t forgotten = 0;           // entries taken out again: made during a collapse
  std::uint64_t set_aside = 0;           // offered within a minute of a failed write: not tried
  std::uint64_t bytes_written = 0;       // PNGs and index since start
  std::uint64_t renewals = 0;            // frames a full cache took for its oldest entry
  std::string last_error;
  QueueCounters queue;
  cache::Similarity last_mean_similarity;
};

class CacheAnalysisWorker {
 public:
  CacheAnalysisWorker(cache::DiversityCache& cache, LiveSection<CacheConfig> config,
                      std::size_t queue_capacity = 8, WorkerFaultHook fault = {});
  ~CacheAnalysisWorker();

  // Never blocks: a full queue drops its oldest item.
  void enqueue(CacheItem item);
  CacheWorkerStats stats() const;
  // Said by the orchestrator after every keyframe: is the stream frying or turning to noise?
  void set_degenerating(bool degenerating) { degenerating_.store(degenerating); }
  // Said by the orchestrator after every keyframe: is the loop collapsing (CollapseState::
  // collapsing), and, while its variety is held and it stands still, the newest keyframe made
  // before the collapse (entries of later keyframes admitted by this run are taken out).
  void set_collapse(bool collapsing, std::optional<std::uint64_t> made_by);
  std::size_t queued() const { return queue_.size(); }
  const Worker& worker() const { return worker_; }
  void stop();

 private:
  void step(std::stop_token stop);
  // Takes out what this run admitted after the keyframe set_collapse named (worker thread).
  void forget_collapsed();

  cache::DiversityCache& cache_;
  LiveSection<CacheConfig> config_;
  BoundedQueue<CacheItem> queue_;
  mutable std::mutex stats_mutex_;
  CacheWorkerStats stats_;
  std::uint64_t config_seen_ = LiveSection<CacheConfig>::kNeverSeen;
  std::atomic<bool> degenerating_{false};
  std::atomic<bool> collapsing_{false};
  static constexpr std::uint64_t kNothingToForget = ~std::uint64_t{0};
  std::atomic<std::uint64_t> forget_after_{kNothingToForget};
  // After a frame could not be written (a full disk, a folder gone), frames are set aside until
  // then instead of each being encoded, refused and logged (worker thread only).
  std::optional<std::chrono::steady_clock::time_point> retry_writes_at_;
  // What this run admitted, newest last: (keyframe index, entry id). Worker thread only; as many
  // as the cache can hold (beyond that the oldest have been evicted or are long before any
  // collapse seen now).
  std::deque<std::pair<std::uint64_t, std::uint64_t>> admitted_;
  Worker worker_;  // last: its thread stops before the members it uses go
};

cache::CacheThresholds thresholds_from(const CacheConfig& config);

}  // namespace dw::pipeline
