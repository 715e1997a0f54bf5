#include "pipeline/cache_worker.h"

#include <spdlog/spdlog.h>

namespace dw::pipeline {

cache::CacheThresholds thresholds_from(const CacheConfig& config) {
  return cache::CacheThresholds{static_cast<std::size_t>(config.max_entries),
                                config.color_threshold,
                                config.structure_threshold,
                                config.max_clipped,
                                config.max_hf,
                                config.min_variation,
                                config.write_mb_per_day * 1e6};
}

CacheAnalysisWorker::CacheAnalysisWorker(cache::DiversityCache& cache,
                                         LiveSection<CacheConfig> config,
                                         std::size_t queue_capacity, WorkerFaultHook fault)
    : cache_(cache),
      config_(std::move(config)),
      queue_(queue_capacity),
      worker_("cache", std::move(fault)) {
  worker_.start([this](std::stop_token stop) { step(stop); });
}

CacheAnalysisWorker::~CacheAnalysisWorker() {
  stop();
}

void CacheAnalysisWorker::stop() {
  worker_.stop();
}

void CacheAnalysisWorker::enqueue(CacheItem item) {
  queue_.push(std::move(item), WhenFull::DropOldest);
}

CacheWorkerStats CacheAnalysisWorker::stats() const {
  std::lock_guard lock(stats_mutex_);
  CacheWorkerStats s = stats_;
  s.queue = queue_.counters();
  s.bytes_written = cache_.bytes_written();
  s.renewals = cache_.renewals();
  return s;
}

void CacheAnalysisWorker::set_collapse(bool collapsing, std::optional<std::uint64_t> made_by) {
  collapsing_.store(collapsing);
  if (made_by) forget_after_.store(*made_by);
}

void CacheAnalysisWorker::forget_collapsed() {
  const std::uint64_t after = forget_after_.exchange(kNothingToForget);
  if (after == kNothingToForget) return;
  std::uint64_t forgotten = 0;
  std::erase_if(admitted_, [&](const auto& a) {
    if (a.first <= after) return false;
    forgotten += cache_.forget(a.second);
    return true;
  });
  if (forgotten == 0) return;
  spdlog::info("cache: {} frame(s) of the collapse since keyframe {} taken out again", forgotten,
               after + 1);
  std::lock_guard lock(stats_mutex_);
  stats_.forgotten += forgotten;
}

void CacheAnalysisWorker::step(std::stop_token stop) {
  forget_collapsed();
  auto item = queue_.pop(stop, std::chrono::milliseconds(200));
  if (!item) return;
  if (const auto config = config_.get_if_changed(config_seen_))
    cache_.set_thresholds(thresholds_from(*config));
  const bool degenerating = degenerating_.load();
  if (degenerating || collapsing_.load()) {
    // The stream is frying, dissolving into noise or collapsing: nothing of it goes into the cache.
    std::lock_guard lock(stats_mutex_);
    ++stats_.considered;
    ++(degenerating ? stats_.refused_degenerate : stats_.refused_collapse);
    return;
  }
  const auto now = std::chrono::steady_clock::now();
  if (retry_writes_at_ && now < *retry_writes_at_) {
    std::lock_guard lock(stats_mutex_);
    ++stats_.set_aside;
    return;
  }
  try {
    const cache::ImageFeatures features = cache::compute_features(item->image);
    const cache::Verdict v =
        cache_.consider(item->image, features, item->kind, item->keyframe_index);
    if (v.accepted) {
      admitted_.emplace_back(item->keyframe_index, v.id);
      while (admitted_.size() > std::max<std::size_t>(cache_.size(), 1)) admitted_.pop_front();
    }
    std::lock_guard lock(stats_mutex_);
    ++stats_.considered;
    stats_.accepted += v.accepted;
    stats_.evicted += v.evicted.has_value();
    stats_.refused_degenerate += v.refusal == cache::Refusal::Degenerate;
    stats_.refused_budget += v.refusal == cache::Refusal::Budget;
    stats_.errors += !v.index_error.empty();  // logged by the cache; the frame is stored
    stats_.last_mean_similarity = v.mean_similarity;
    retry_writes_at_.reset();
  } catch (const std::exception& e) {
    constexpr std::chrono::minutes kRetryWritesAfter{1};
    spdlog::error("cache: frame of keyframe {} not stored: {}; frames are set aside for a minute",
                  item->keyframe_index, e.what());
    retry_writes_at_ = now + kRetryWritesAfter;
    std::lock_guard lock(stats_mutex_);
    ++stats_.errors;
    stats_.last_error = e.what();
  }
}

}  // namespace dw::pipeline
