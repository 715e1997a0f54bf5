// Detects the img2img feedback loop collapsing into sameness (BEHAVIOUR.md). Per keyframe it
// takes the mean similarity of consecutive keyframe pairs over the last `window` keyframes, per
// metric, into a bounded history. With enough history, delta = mean(newest 20) - mean(oldest 20):
// a rising similarity means the stream is converging. Crossing `scale` raises the injection rate,
// crossing `force` forces an injection.
// A loop that collapsed may stay collapsed after an injection without its sameness climbing any
// more (the server pulls every input back to its one picture), which the trend alone would take as
// the new normal once an injection cut its history. So, like the degeneration detector, an
// injection made against a collapse holds the loop's variety from before it (HeldLevel: the
// trend's own baseline, the mean of the oldest values it compared against), and while it is held
// the sameness since the last injection counts against it like a climb, until consecutive
// keyframes differ about as much as they did then, or for kEdgeValues keyframes: a healthy loop's
// sameness wanders with its pictures, and the level compared with may be one it does not come
// back to. A stream standing still (consecutive keyframes as alike as kStillColour and
// kStillStructure) keeps it held however long that lasts.
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
  bool forced = false;   // a delta reached its force level
  double rate = 0;       // injection probability for this keyframe (0 when not scaled)
  double progress = 0;   // 0..1 between scale and force of the metric furthest along
  bool holding = false;  // the variety from before a collapse is held (see above)
  // A collapse is forced or its variety held: the loop's pictures are not the cache's to keep. (Not
  // while only scaled: a healthy loop's sameness wanders into the scaled band now and then.)
  bool collapsing = false;
  // Consecutive keyframes are one picture (the newest kLevelValues sameness values at least
  // kStillColour and kStillStructure): the loop collapsed into a picture, not only into sameness.
  bool still = false;
  std::size_t varied_ago = 0;  // while holding: keyframes since the loop was last that varied
  // While holding: keyframes since the newest one certainly made before the collapse. A window
  // that still looked varied may have held up to `window` - 1 collapsed keyframes: varied_ago plus
  // that many.
  std::size_t before_collapse_ago = 0;
  DegenerationState degeneration;  // fry and noise
  const char* cause = "";          // "collapse", "fry", "noise" or "" when nothing is scaled
};

class CollapseDetector {
 public:
  static constexpr std::size_t kKeptAfterInjection = 10;
  static constexpr double kBaseRate = 0.15;
  // Consecutive keyframes this alike (of 3 and of 1) are the same picture: a stream standing still.
  static constexpr double kStillColour = 2.85;
  static constexpr double kStillStructure = 0.9;

  explicit CollapseDetector(const CollapseConfig& config)
      : config_(config), degeneration_(config) {}
  void set_config(const CollapseConfig& config) {
    config_ = config;
    degeneration_.set_config(config);
  }
  // What the cache refuses as fried or noise (DegenerationDetector, BrokenPicture).
  void set_broken(const BrokenPicture& broken) { degeneration_.set_broken(broken); }

  // One new keyframe (`injected`: made by an injection, not by the loop); returns the state after
  // it.
  CollapseState add_keyframe(const ImageFeatures& features, bool injected = false);
  CollapseState state() const;
  // After an injection: the history restarts from its newest values.
  void on_injection();

  std::size_t history_size() const { return colour_.size(); }

 private:
  CollapseState collapse_state() const;

  CollapseConfig config_;
  DegenerationDetector degeneration_;
  struct Recent {
    ImageFeatures features;
    bool injected = false;
  };
  std::deque<Recent> recent_;  // the last `window` keyframes
  // Per keyframe, the mean consecutive-pair similarity over `recent_`: cut by injections, and
  // the same values uncut, for the held variety.
  TrendHistory colour_;
  TrendHistory structure_;
  TrendHistory long_colour_;
  TrendHistory long_structure_;
  HeldLevel held_{HeldLevel::Reading::Mean};  // a: colour, b: structure
  HeldLevel::Pair healed() const;             // kHealedShare of each scale
  bool standing_still() const;                // CollapseState::still
};

}  // namespace dw::cache
