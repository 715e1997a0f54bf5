// The "auto" source: ComfyUI when it is reachable, the offline generator when it is not, switching
// by itself both ways. Requests go to the primary while it is healthy. When the primary has been
// unhealthy for longer than the grace period, its pending requests are cancelled there and given
// to the fallback, so the stream never waits on a server that is gone; when the primary is healthy
// again, new requests go back to it.
#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <mutex>

#include "pipeline/keyframe_source.h"

namespace dw::pipeline {

class SwitchingKeyframeSource final : public KeyframeSource {
 public:
  SwitchingKeyframeSource(std::unique_ptr<KeyframeSource> primary,
                          std::unique_ptr<KeyframeSource> fallback,
                          std::chrono::milliseconds grace);

  std::string name() const override;
  bool submit(KeyframeRequest request) override;
  std::optional<Keyframe> next(std::stop_token stop, std::chrono::milliseconds timeout) override;
  std::size_t pending() const override;
  // That of the source new requests go to.
  std::size_t capacity() const override;
  bool healthy() const override { return primary_->healthy() || fallback_->healthy(); }
  // The primary's: the fallback (offline) is the one that does not fail.
  SourceHealth health() const override { return primary_->health(); }

  bool using_primary() const;
  std::uint64_t failovers() const;

 private:
  void fail_over_if_needed();

  std::unique_ptr<KeyframeSource> primary_;
  std::unique_ptr<KeyframeSource> fallback_;
  std::chrono::milliseconds grace_;
  mutable std::mutex mutex_;
  std::map<std::uint64_t, KeyframeRequest> at_primary_;  // copies, to re-route on failover
  std::optional<std::chrono::steady_clock::time_point> unhealthy_since_;
  std::uint64_t failovers_ = 0;
};

}  // namespace dw::pipeline
