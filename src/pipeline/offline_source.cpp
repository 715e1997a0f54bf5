#include "pipeline/offline_source.h"

#include <spdlog/spdlog.h>

namespace dw::pipeline {

OfflineKeyframeSource::OfflineKeyframeSource(std::vector<Image> seeds, OfflineSourceOptions options)
    : generator_(std::move(seeds), options.generator),
      requests_(options.queue_capacity),
      results_(options.queue_capacity + 2) {
  worker_ = std::jthread([this](std::stop_token stop) { run(stop); });
}

OfflineKeyframeSource::~OfflineKeyframeSource() {
  worker_.request_stop();
  if (worker_.joinable()) worker_.join();
}

bool OfflineKeyframeSource::submit(KeyframeRequest request) {
  if (!requests_.push(std::move(request), WhenFull::Skip)) return false;
  ++pending_;
  return true;
}

std::optional<Keyframe> OfflineKeyframeSource::next(std::stop_token stop,
                                                    std::chrono::milliseconds timeout) {
  auto k = results_.pop(stop, timeout);
  if (k) --pending_;
  return k;
}

Keyframe OfflineKeyframeSource::make(const KeyframeRequest& request) const {
  OfflineStep step = generator_.step(request.input, request.index, request.seed);
  return Keyframe{request.index, std::move(step.image), std::nullopt, "offline"};
}

void OfflineKeyframeSource::run(std::stop_token stop) {
  while (!stop.stop_requested()) {
    auto request = requests_.pop(stop, std::chrono::milliseconds(200));
    if (!request) continue;
    try {
      Keyframe k = make(*request);
      results_.push(std::move(k), WhenFull::Block, stop);
    } catch (const std::exception& e) {
      // The offline source cannot fail on valid images; a bad input is reported and passed on
      // unchanged so the stream keeps its numbering.
      spdlog::error("offline source: keyframe {}: {}", request->index, e.what());
      results_.push(Keyframe{request->index, request->input, std::nullopt, "offline"},
                    WhenFull::Block, stop);
    }
  }
}

}  // namespace dw::pipeline
