// KeyframeSource that needs no server: each request's input image is evolved by the offline
// generator on a worker thread. Every `fold_every` keyframes the result is folded a little toward
// one of the seed images, so a long run keeps returning to fresh material instead of drifting into
// mush. Results come back in index order (one worker, FIFO).
#pragma once

#include <atomic>
#include <thread>
#include <vector>

#include "core/bounded_queue.h"
#include "pipeline/keyframe_source.h"

namespace dw::pipeline {

struct OfflineSourceOptions {
  int fold_every = 8;             // keyframes between folds toward a seed
  double fold_weight = 0.35;      // how far a fold moves toward the seed
  double sharpen = 0.6;           // unsharp amount per step against resampling blur
  double target_contrast = 60.0;  // per-channel standard deviation the steps pull toward
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

  std::vector<Image> seeds_;
  OfflineSourceOptions options_;
  BoundedQueue<KeyframeRequest> requests_;
  BoundedQueue<Keyframe> results_;
  std::atomic<std::size_t> pending_{0};
  std::jthread worker_;
};

}  // namespace dw::pipeline
