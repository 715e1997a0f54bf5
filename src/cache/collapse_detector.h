// Detects the img2img feedback loop collapsing into sameness (BEHAVIOUR.md). Per keyframe it
// takes the mean similarity of consecutive keyframe pairs over the last `window` keyframes, per
// metric, into a bounded history. With enough history, delta = mean(newest 20) - mean(oldest 20):
// a rising similarity means the stream is converging. Crossing `scale` raises the injection rate,
// crossing `force` forces an injection.
//
// It also watches the two other ways a feedback loop fails, fry and noise (DegenerationDetector,
// fed from the same features): either one scales or forces an injection like collapse does, and
// `cause` says which one drives the state.
#pragma once

#include <cstddef>
#include <deque>

#include "cache/degeneration_detector.h"
#include "cache/features.h"
#include "core/config.h"

namespace dw::cache {

struct CollapseState {
  bool ready = false;       // enough history to judge
  double colour_delta = 0;  // mean(newest) - mean(oldest) of the colour history
  double structure_delta = 0;
  double colour_mean = 0;  // the newest consecutive-pair means, for status and the overlay
  double structure_mean = 0;
  bool forced = false;             // a delta reached its force level
  double rate = 0;                 // injection probability for this keyframe (0 when not scaled)
  double progress = 0;             // 0..1 between scale and force of the metric furthest along
  DegenerationState degeneration;  // fry and noise
  const char* cause = "";          // "collapse", "fry", "noise" or "" when nothing is scaled
};

class CollapseDetector {
 public:
  static constexpr std::size_t kEdgeValues = 20;  // "first 20" and "last 20"
  static constexpr std::size_t kKeptAfterInjection = 10;
  static constexpr double kBaseRate = 0.15;

  explicit CollapseDetector(const CollapseConfig& config)
      : config_(config), degeneration_(config) {}
  void set_config(const CollapseConfig& config) {
    config_ = config;
    degeneration_.set_config(config);
  }

  // One new keyframe; returns the state after it.
  CollapseState add_keyframe(const ImageFeatures& features);
  CollapseState state() const;
  // After an injection: the history restarts from its newest values.
  void on_injection();

  std::size_t history_size() const { return colour_history_.size(); }

 private:
  CollapseState collapse_state() const;

  CollapseConfig config_;
  DegenerationDetector degeneration_;
  std::deque<ImageFeatures> recent_;  // the last `window` keyframes
  std::deque<double> colour_history_;
  std::deque<double> structure_history_;
};

}  // namespace dw::cache
