// Detects an img2img feedback loop degenerating in the two ways that are not collapse
// (docs/architecture.md, "Cache, collapse and injection"):
//  - fry: contrast, saturation and clipping climb together. Per keyframe, the fry index
//    (contrast / 64 + saturation / 0.5 + clipped / 0.1) / 3: each measure over the spread it has
//    across healthy pictures, so each climbs on the same scale;
//  - noise: the high-frequency energy (PictureMeasures hf, already relative to contrast) climbs.
// Like the collapse detector: a bounded history per index; with enough values, delta =
// mean(newest 20) - mean(oldest 20). Crossing `scale` raises the injection rate, crossing `force`
// forces an injection; an injection keeps only the newest 10 values.
// An injection made while the loop is degenerating also keeps the healthy level from before the
// climb as a reference (HeldLevel: the lowest mean of kReferenceValues consecutive values among the
// last `history`, which injections do not cut). The loop may then sit at a fried or noisy level
// without climbing any more, which the trend alone would soon take as the new normal: while a
// reference is held, the level of the keyframes since the last injection (the worst of the newest
// kLevelValues, once there are that many) counts against it like a climb, from half the scale on.
// The reference is let go once that level is back under half the scale kEdgeValues keyframes
// after the last injection (healed), or after `history` keyframes (a lasting change of picture is
// accepted, not fought for ever) unless the newest pictures are broken: as clipped or as noisy as
// the cache refuses to keep (BrokenPicture: cache.max_clipped, cache.max_hf). A picture the cache
// would not keep is no new normal, however long it lasts: a fry fault longer than `history`
// keyframes otherwise left the loop fried once it ended.
#pragma once

#include <cstddef>
#include <deque>
#include <optional>

#include "cache/picture_measures.h"
#include "core/config.h"

namespace dw::cache {

// Of a measure's scale: how far above the held level a picture may be and count as healed.
inline constexpr double kHealedShare = 0.5;
inline constexpr std::size_t kEdgeValues = 20;  // "first 20" and "last 20" of a history

double fry_index(const PictureMeasures& m);

// The most clipping and high-frequency energy a picture may have and still be kept (the cache's
// cache.max_clipped and cache.max_hf): beyond either it is fried or noise.
struct BrokenPicture {
  double max_clipped = 0.20;
  double max_hf = 0.80;
};

// A bounded history of one number and its climb: mean(newest edge) - mean(oldest edge).
class TrendHistory {
 public:
  void add(double value, std::size_t limit);
  // 0 until `min_values` values are there; `ready` says whether they are.
  double delta(std::size_t min_values, bool* ready = nullptr) const;
  // What the climb is measured from: the mean of the oldest min(kEdgeValues, size() / 2) values.
  double baseline() const;
  void keep_newest(std::size_t n);
  std::size_t size() const { return values_.size(); }
  double newest() const { return values_.empty() ? 0.0 : values_.back(); }
  // Mean of the newest (oldest) n values, n at most size().
  double mean_newest(std::size_t n) const;
  double mean_oldest(std::size_t n) const;
  double max_newest(std::size_t n) const;
  // The lowest mean of n consecutive values (of all of them when there are fewer; 0 when none).
  double lowest_mean(std::size_t n) const;
  // How many values came after the newest one at most `v` (size() when none is).
  std::size_t since_at_most(double v) const;

 private:
  std::deque<double> values_;
};

// The healthy level of two measures that rise as a loop fails (fry index and hf; colour and
// structure sameness), held after an injection made against their rise (see above): how the
// detectors remember where the loop was healthy while it sits at a failed level without climbing.
class HeldLevel {
 public:
  static constexpr std::size_t kLevelValues = 5;  // keyframes since an injection to judge
  struct Pair {
    double a = 0;
    double b = 0;
  };
  // How the level since the last injection is read from the newest kLevelValues values: their
  // worst, for a measure per picture (the keyframes in flight at an injection grow from older
  // inputs, so one strand of the loop can still be failed while another is clean), or their mean,
  // for a measure already averaged over consecutive keyframes (whose ripple the worst would add).
  enum class Reading { Worst, Mean };
  explicit HeldLevel(Reading reading) : reading_(reading) {}

  // An injection. When `level` is given (it was made against the measures' rise) and none is
  // held, holds it and finds where the loop was last within `healed` above it on both measures
  // (the uncut histories), for healthy_ago(). Restarts the count of keyframes since an injection.
  void on_injection(std::optional<Pair> level, const TrendHistory& long_a,
                    const TrendHistory& long_b, Pair healed);
  // After each keyframe, its values already in `a` and `b`: lets go of the level once healed (the
  // level since the last injection under `healed` above it, kEdgeValues keyframes after that
  // injection: not sooner, as a loop still failing climbs again between two injections) or
  // `limit` keyframes after it was taken or renewed (a lasting change of picture is accepted),
  // unless `broken` (the newest pictures are no picture to accept: held on).
  void on_keyframe(const TrendHistory& a, const TrendHistory& b, Pair healed, std::size_t limit,
                   bool broken = false);
  // The loop still fails as plainly as when the level was taken: `limit` counts from here.
  void renew();
  // The level of the newest kLevelValues values (see Reading) above the held one, once there are
  // that many since the last injection.
  std::optional<Pair> above(const TrendHistory& a, const TrendHistory& b) const;
  const std::optional<Pair>& level() const { return level_; }
  // While a level is held: how many keyframes ago the loop was last near it; 0 when none is held.
  std::size_t healthy_ago() const { return level_ ? healthy_ago_ + held_for_ : 0; }

 private:
  Reading reading_;
  std::optional<Pair> level_;
  std::size_t held_for_ = 0;
  std::size_t healthy_ago_ = 0;  // at the time the level was taken or renewed
  std::size_t since_injection_ = 0;
};

// One measure judged: its climb against scale and force, and while a level is held, its level
// above it against kHealedShare of the scale (where "healed" ends) and force.
struct Judgement {
  double delta = 0;  // the climb, or the level above the held one where that is more
  bool forced = false;
  double progress = -1;  // 0..1 between scale and force, negative below scale
};
Judgement judge(bool ready, double climb, std::optional<double> above, double scale, double force);

struct DegenerationState {
  bool ready = false;
  double fry = 0;  // the newest fry index and hf, for status and the overlay
  double hf = 0;
  // The climb, or while a reference is held, the level above it where that is more.
  double fry_delta = 0;
  double noise_delta = 0;
  bool holding = false;  // a healthy level from before the climb is held (see above)
  // The most a picture may have and count as healed: the loop's healthy level (the held
  // reference, else the lowest stretch of the recent history) plus half the scale.
  double healed_fry = 0;
  double healed_hf = 0;
  bool fry_forced = false;
  bool noise_forced = false;
  // Each 0..1 between its scale and force, negative below scale; `progress` is the larger.
  double fry_progress = -1;
  double noise_progress = -1;
  double progress = -1;
  bool degenerating() const { return progress >= 0; }
  bool forced() const { return fry_forced || noise_forced; }
  // "fry" or "noise": the one furthest along (a forced one first).
  const char* cause() const;
};

class DegenerationDetector {
 public:
  static constexpr std::size_t kKeptAfterInjection = 10;
  static constexpr std::size_t kReferenceValues = 10;  // the stretch averaged for the level

  explicit DegenerationDetector(const CollapseConfig& config) : config_(config) {}
  void set_config(const CollapseConfig& config) { config_ = config; }
  void set_broken(const BrokenPicture& broken) { broken_ = broken; }

  DegenerationState add_keyframe(const PictureMeasures& measures);
  DegenerationState state() const;
  // An injection. `cut_history`: whether the trend restarts from its newest values (false for an
  // injection made against another cause: the climb seen so far is still evidence).
  void on_injection(bool cut_history = true);
  std::size_t history_size() const { return fry_.size(); }

 private:
  HeldLevel::Pair healed() const;  // kHealedShare of each scale

  // The newest kLevelValues pictures are beyond `broken_` (see above).
  bool newest_broken() const;

  CollapseConfig config_;
  BrokenPicture broken_;
  TrendHistory clipped_;  // each keyframe's clipped fraction, not cut by injections
  TrendHistory fry_;
  TrendHistory noise_;
  TrendHistory long_fry_;  // the same values, not cut by injections
  TrendHistory long_noise_;
  HeldLevel held_{HeldLevel::Reading::Worst};  // a: fry index, b: hf
};

// 0 below scale, 0..1 between scale and force, 1 at or above force; -1 when below scale.
double trend_progress(double delta, double scale, double force);

}  // namespace dw::cache
