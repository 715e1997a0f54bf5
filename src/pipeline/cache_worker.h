// CacheAnalysisWorker (std::jthread): scores frames for the diversity cache off the hot paths.
// Its queue is bounded and drops the oldest item when full (a late cache decision is worth less
// than a fresh one); drops are counted and reported.
#pragma once

#include <atomic>
#include <cstdint>
#include <thread>

#include "cache/diversity_cache.h"
#include "core/bounded_queue.h"
#include "core/config_store.h"
#include "core/image.h"

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
  QueueCounters queue;
  cache::Similarity last_mean_similarity;
};

class CacheAnalysisWorker {
 public:
  CacheAnalysisWorker(cache::DiversityCache& cache, const ConfigStore& config,
                      std::size_t queue_capacity = 8);
  ~CacheAnalysisWorker();

  // Never blocks: a full queue drops its oldest item.
  void enqueue(CacheItem item);
  CacheWorkerStats stats() const;
  std::size_t queued() const { return queue_.size(); }
  void stop();

 private:
  void run(std::stop_token stop);

  cache::DiversityCache& cache_;
  const ConfigStore& config_;
  BoundedQueue<CacheItem> queue_;
  mutable std::mutex stats_mutex_;
  CacheWorkerStats stats_;
  std::uint64_t config_version_ = ~std::uint64_t{0};
  std::jthread thread_;
};

cache::CacheThresholds thresholds_from(const Config& config);

}  // namespace dw::pipeline
