#include "pipeline/cache_worker.h"

#include <spdlog/spdlog.h>

namespace dw::pipeline {

cache::CacheThresholds thresholds_from(const Config& config) {
  return cache::CacheThresholds{static_cast<std::size_t>(config.cache.max_entries),
                                config.cache.color_threshold, config.cache.structure_threshold};
}

CacheAnalysisWorker::CacheAnalysisWorker(cache::DiversityCache& cache, const ConfigStore& config,
                                         std::size_t queue_capacity)
    : cache_(cache), config_(config), queue_(queue_capacity) {
  thread_ = std::jthread([this](std::stop_token stop) { run(stop); });
}

CacheAnalysisWorker::~CacheAnalysisWorker() {
  stop();
}

void CacheAnalysisWorker::stop() {
  thread_.request_stop();
  if (thread_.joinable()) thread_.join();
}

void CacheAnalysisWorker::enqueue(CacheItem item) {
  queue_.push(std::move(item), WhenFull::DropOldest);
}

CacheWorkerStats CacheAnalysisWorker::stats() const {
  std::lock_guard lock(stats_mutex_);
  CacheWorkerStats s = stats_;
  s.queue = queue_.counters();
  return s;
}

void CacheAnalysisWorker::run(std::stop_token stop) {
  while (!stop.stop_requested()) {
    auto item = queue_.pop(stop, std::chrono::milliseconds(200));
    if (!item) continue;
    if (config_.version() != config_version_) {
      config_version_ = config_.version();
      cache_.set_thresholds(thresholds_from(*config_.get()));
    }
    try {
      const cache::ImageFeatures features = cache::compute_features(item->image);
      const cache::Verdict v =
          cache_.consider(item->image, features, item->kind, item->keyframe_index);
      std::lock_guard lock(stats_mutex_);
      ++stats_.considered;
      stats_.accepted += v.accepted;
      stats_.evicted += v.evicted.has_value();
      stats_.last_mean_similarity = v.mean_similarity;
    } catch (const std::exception& e) {
      spdlog::error("cache: frame of keyframe {} not stored: {}", item->keyframe_index, e.what());
      std::lock_guard lock(stats_mutex_);
      ++stats_.errors;
    }
  }
}

}  // namespace dw::pipeline
