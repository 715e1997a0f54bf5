#include "cache/degeneration_detector.h"

#include <algorithm>
#include <numeric>

namespace dw::cache {

double fry_index(const PictureMeasures& m) {
  return (m[Measure::Contrast] / 64.0 + m[Measure::Saturation] / 0.5 + m[Measure::Clipped] / 0.1) /
         3.0;
}

double trend_progress(double delta, double scale, double force) {
  if (delta < scale) return -1;
  if (force <= scale) return 1;
  return std::clamp((delta - scale) / (force - scale), 0.0, 1.0);
}

const char* DegenerationState::cause() const {
  if (fry_forced != noise_forced) return fry_forced ? "fry" : "noise";
  return noise_progress > fry_progress ? "noise" : "fry";
}

void TrendHistory::add(double value, std::size_t limit) {
  values_.push_back(value);
  while (values_.size() > std::max<std::size_t>(limit, 1)) values_.pop_front();
}

double TrendHistory::mean_newest(std::size_t n) const {
  n = std::min(n, values_.size());
  if (n == 0) return 0;
  const auto from = values_.end() - static_cast<std::ptrdiff_t>(n);
  return std::accumulate(from, values_.end(), 0.0) / static_cast<double>(n);
}

double TrendHistory::max_newest(std::size_t n) const {
  n = std::min(n, values_.size());
  if (n == 0) return 0;
  return *std::max_element(values_.end() - static_cast<std::ptrdiff_t>(n), values_.end());
}

double TrendHistory::lowest_mean(std::size_t n) const {
  n = std::min(n, values_.size());
  if (n == 0) return 0;
  double sum =
      std::accumulate(values_.begin(), values_.begin() + static_cast<std::ptrdiff_t>(n), 0.0);
  double lowest = sum;
  for (std::size_t i = n; i < values_.size(); ++i) {
    sum += values_[i] - values_[i - n];
    lowest = std::min(lowest, sum);
  }
  return lowest / static_cast<double>(n);
}

double TrendHistory::mean_oldest(std::size_t n) const {
  n = std::min(n, values_.size());
  if (n == 0) return 0;
  const auto to = values_.begin() + static_cast<std::ptrdiff_t>(n);
  return std::accumulate(values_.begin(), to, 0.0) / static_cast<double>(n);
}

double TrendHistory::delta(std::size_t min_values, bool* ready) const {
  const std::size_t n = values_.size();
  const bool enough = n >= std::max<std::size_t>(min_values, 2);
  if (ready) *ready = enough;
  if (!enough) return 0;
  const std::size_t edge = std::min(DegenerationDetector::kEdgeValues, n / 2);
  return mean_newest(edge) - mean_oldest(edge);
}

void TrendHistory::keep_newest(std::size_t n) {
  while (values_.size() > n) values_.pop_front();
}

DegenerationState DegenerationDetector::add_keyframe(const PictureMeasures& measures) {
  const auto limit = static_cast<std::size_t>(std::max(config_.history, 1));
  fry_.add(fry_index(measures), limit);
  noise_.add(measures[Measure::Hf], limit);
  long_fry_.add(fry_.newest(), limit);
  long_noise_.add(noise_.newest(), limit);
  ++since_injection_;
  if (reference_) {
    ++reference_->keyframes;
    const auto level = level_above_reference();
    // Healed: kEdgeValues keyframes since the last injection, the newest of them near the
    // reference. Not sooner: while the server still fries, the next ones climb again, and a
    // reference let go between two injections would leave the trend, cut, to start over.
    const bool healed = level && since_injection_ >= kEdgeValues &&
                        level->first < kHealedShare * config_.fry_scale &&
                        level->second < kHealedShare * config_.noise_scale;
    if (healed || reference_->keyframes >= limit) reference_.reset();
  }
  return state();
}

std::optional<std::pair<double, double>> DegenerationDetector::level_above_reference() const {
  if (!reference_ || since_injection_ < kLevelValues) return std::nullopt;
  // The worst of the newest few: the keyframes in flight at an injection grow from older inputs
  // (pipeline depth), so one strand of the loop can still be fried while another is clean.
  return std::pair{fry_.max_newest(kLevelValues) - reference_->fry,
                   noise_.max_newest(kLevelValues) - reference_->hf};
}

DegenerationState DegenerationDetector::state() const {
  DegenerationState s;
  s.fry = fry_.newest();
  s.hf = noise_.newest();
  const auto min_values = static_cast<std::size_t>(std::max(config_.min_values, 2));
  s.fry_delta = fry_.delta(min_values, &s.ready);
  s.noise_delta = noise_.delta(min_values);
  s.holding = reference_.has_value();
  s.healed_fry = (reference_ ? reference_->fry : long_fry_.lowest_mean(kReferenceValues)) +
                 kHealedShare * config_.fry_scale;
  s.healed_hf = (reference_ ? reference_->hf : long_noise_.lowest_mean(kReferenceValues)) +
                kHealedShare * config_.noise_scale;
  const auto level = level_above_reference();
  if (!s.ready && !level) return s;
  // Each measure: its climb against scale and force, and while a reference is held, its level
  // above it against kHealedShare of the scale (where "healed" ends) and force.
  const auto judge = [&](double climb, std::optional<double> above, double scale, double force,
                         double& delta, bool& forced, double& progress) {
    delta = s.ready ? climb : 0.0;
    progress = s.ready ? trend_progress(climb, scale, force) : -1.0;
    if (above) {
      delta = std::max(delta, *above);
      progress = std::max(progress, trend_progress(*above, kHealedShare * scale, force));
    }
    forced = delta >= force;
  };
  judge(s.fry_delta, level ? std::optional(level->first) : std::nullopt, config_.fry_scale,
        config_.fry_force, s.fry_delta, s.fry_forced, s.fry_progress);
  judge(s.noise_delta, level ? std::optional(level->second) : std::nullopt, config_.noise_scale,
        config_.noise_force, s.noise_delta, s.noise_forced, s.noise_progress);
  s.ready = true;
  s.progress = std::max(s.fry_progress, s.noise_progress);
  return s;
}

void DegenerationDetector::on_injection() {
  // The healthy level from before the climb: both measures only rise as a loop degenerates, so
  // the lowest stretch of the uncut history is the level before it, even when the climb was slow
  // or an earlier injection cut the trend's history in the middle of it.
  if (!reference_ && state().degenerating())
    reference_ = Reference{long_fry_.lowest_mean(kReferenceValues),
                           long_noise_.lowest_mean(kReferenceValues)};
  fry_.keep_newest(kKeptAfterInjection);
  noise_.keep_newest(kKeptAfterInjection);
  since_injection_ = 0;
}

}  // namespace dw::cache
