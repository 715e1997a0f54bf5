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

double TrendHistory::delta(std::size_t min_values, bool* ready) const {
  const std::size_t n = values_.size();
  const bool enough = n >= std::max<std::size_t>(min_values, 2);
  if (ready) *ready = enough;
  if (!enough) return 0;
  const auto edge = static_cast<std::ptrdiff_t>(std::min(DegenerationDetector::kEdgeValues, n / 2));
  const double newest = std::accumulate(values_.end() - edge, values_.end(), 0.0);
  const double oldest = std::accumulate(values_.begin(), values_.begin() + edge, 0.0);
  return (newest - oldest) / static_cast<double>(edge);
}

void TrendHistory::keep_newest(std::size_t n) {
  while (values_.size() > n) values_.pop_front();
}

DegenerationState DegenerationDetector::add_keyframe(const PictureMeasures& measures) {
  const auto limit = static_cast<std::size_t>(std::max(config_.history, 1));
  fry_.add(fry_index(measures), limit);
  noise_.add(measures[Measure::Hf], limit);
  return state();
}

DegenerationState DegenerationDetector::state() const {
  DegenerationState s;
  s.fry = fry_.newest();
  s.hf = noise_.newest();
  const auto min_values = static_cast<std::size_t>(std::max(config_.min_values, 2));
  s.fry_delta = fry_.delta(min_values, &s.ready);
  s.noise_delta = noise_.delta(min_values);
  if (!s.ready) return s;
  s.fry_forced = s.fry_delta >= config_.fry_force;
  s.noise_forced = s.noise_delta >= config_.noise_force;
  s.fry_progress = trend_progress(s.fry_delta, config_.fry_scale, config_.fry_force);
  s.noise_progress = trend_progress(s.noise_delta, config_.noise_scale, config_.noise_force);
  s.progress = std::max(s.fry_progress, s.noise_progress);
  return s;
}

void DegenerationDetector::on_injection() {
  fry_.keep_newest(kKeptAfterInjection);
  noise_.keep_newest(kKeptAfterInjection);
}

}  // namespace dw::cache
