// CacheAnalysisWorker (a Worker thread): scores frames for the diversity cache off the hot paths.
// Its queue is bounded and drops the oldest item when full (a late cache decision is worth less
// than a fresh one); drops are counted and reported. While the orchestrator's detector says the
// stream is degenerating (fry or noise, set_degenerating), every frame is refused unseen; the
// cache itself refuses degenerate frames by their measures and keeps to its write budget.
#pragma once

#include <atomic>
#include <cstdint>
#include <string>

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
  std::uint64_t bytes_written = 0;       // PNGs and index since start
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
  std::size_t queued() const { return queue_.size(); }
  const Worker& worker() const { return worker_; }
  void stop();

 private:
  void step(std::stop_token stop);

  cache::DiversityCache& cache_;
  LiveSection<CacheConfig> config_;
  BoundedQueue<CacheItem> queue_;
  mutable std::mutex stats_mutex_;
  CacheWorkerStats stats_;
  std::uint64_t config_seen_ = LiveSection<CacheConfig>::kNeverSeen;
  std::atomic<bool> degenerating_{false};
  Worker worker_;  // last: its thread stops before the members it uses go
};

cache::CacheThresholds thresholds_from(const CacheConfig& config);

}  // namespace dw::pipeline
