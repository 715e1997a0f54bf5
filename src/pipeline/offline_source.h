// KeyframeSource that needs no server: each request's input image is evolved by the offline
// generator (offline_generator.h) on a worker thread: moved, folded toward a seed now and then,
// and regulated into the seed set's picture bands. Results come back in index order (one worker,
// FIFO).
#pragma once

#include <atomic>
#include <thread>
#include <vector>

#include "core/bounded_queue.h"
#include "pipeline/keyframe_source.h"
#include "pipeline/offline_generator.h"

namespace dw::pipeline {

struct OfflineSourceOptions {
  OfflineConfig generator;
  std::size_t queue_capacity = 4;
};

class OfflineKeyframeSource final : public KeyframeSource {
 public:
  OfflineKeyframeSource(std::vector<Image> seeds, OfflineSourceOptions options);
  ~OfflineKeyframeSource() override;

  std::string name() const override { return "offline"; }
  bool submit(KeyframeRequest request) override;
  std::optional<Keyframe> next(std::stop_token stop, std::chrono::milliseconds timeout) override;
  std::size_t pending() const override { return pending_.load(); }
  // One worker: one keyframe in the making and the next one waiting, so it never idles.
  std::size_t capacity() const override { return 2; }
  bool healthy() const override { return true; }

 private:
  void run(std::stop_token stop);
  Keyframe make(const KeyframeRequest& request) const;

  OfflineGenerator generator_;
  BoundedQueue<KeyframeRequest> requests_;
  BoundedQueue<Keyframe> results_;
  std::atomic<std::size_t> pending_{0};
  std::jthread worker_;
};

}  // namespace dw::pipeline
