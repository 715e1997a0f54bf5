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

std::size_t TrendHistory::since_at_most(double v) const {
  const auto newest =
      std::find_if(values_.rbegin(), values_.rend(), [v](double x) { return x <= v; });
  return static_cast<std::size_t>(newest - values_.rbegin());
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
  return mean_newest(std::min(kEdgeValues, n / 2)) - baseline();
}

double TrendHistory::baseline() const {
  return mean_oldest(std::min(kEdgeValues, size() / 2));
}

void TrendHistory::keep_newest(std::size_t n) {
  while (values_.size() > n) values_.pop_front();
}

void HeldLevel::on_injection(std::optional<Pair> level, const TrendHistory& long_a,
                             const TrendHistory& long_b, Pair healed) {
  if (!level_ && level) {
    level_ = level;
    // The earlier of the two: up to there the loop was healthy on both measures.
    healthy_ago_ = std::max(long_a.since_at_most(level->a + healed.a),
                            long_b.since_at_most(level->b + healed.b));
    held_for_ = 0;
  }
  since_injection_ = 0;
}

void HeldLevel::on_keyframe(const TrendHistory& a, const TrendHistory& b, Pair healed,
                            std::size_t limit, bool broken) {
  ++since_injection_;
  if (!level_) return;
  ++held_for_;
  const auto now = above(a, b);
  const bool is_healed =
      now && since_injection_ >= kEdgeValues && now->a < healed.a && now->b < healed.b;
  if (is_healed || (held_for_ >= limit && !broken)) level_.reset();
}

void HeldLevel::renew() {
  if (!level_) return;
  healthy_ago_ += held_for_;
  held_for_ = 0;
}

std::optional<HeldLevel::Pair> HeldLevel::above(const TrendHistory& a,
                                                const TrendHistory& b) const {
  if (!level_ || since_injection_ < kLevelValues) return std::nullopt;
  const auto read = [&](const TrendHistory& h) {
    return reading_ == Reading::Worst ? h.max_newest(kLevelValues) : h.mean_newest(kLevelValues);
  };
  return Pair{read(a) - level_->a, read(b) - level_->b};
}

Judgement judge(bool ready, double climb, std::optional<double> above, double scale, double force) {
  Judgement j;
  j.delta = ready ? climb : 0.0;
  j.progress = ready ? trend_progress(climb, scale, force) : -1.0;
  if (above) {
    j.delta = std::max(j.delta, *above);
    j.progress = std::max(j.progress, trend_progress(*above, kHealedShare * scale, force));
  }
  j.forced = j.delta >= force;
  return j;
}

DegenerationState DegenerationDetector::add_keyframe(const PictureMeasures& measures) {
  const auto limit = static_cast<std::size_t>(std::max(config_.history, 1));
  fry_.add(fry_index(measures), limit);
  noise_.add(measures[Measure::Hf], limit);
  long_fry_.add(fry_.newest(), limit);
  long_noise_.add(noise_.newest(), limit);
  clipped_.add(measures[Measure::Clipped], limit);
  held_.on_keyframe(fry_, noise_, healed(), limit, newest_broken());
  return state();
}

bool DegenerationDetector::newest_broken() const {
  return clipped_.max_newest(HeldLevel::kLevelValues) > broken_.max_clipped ||
         long_noise_.max_newest(HeldLevel::kLevelValues) > broken_.max_hf;
}

DegenerationState DegenerationDetector::state() const {
  DegenerationState s;
  s.fry = fry_.newest();
  s.hf = noise_.newest();
  const auto min_values = static_cast<std::size_t>(std::max(config_.min_values, 2));
  s.fry_delta = fry_.delta(min_values, &s.ready);  // 0 until ready
  s.noise_delta = noise_.delta(min_values);
  const auto& level = held_.level();
  s.holding = level.has_value();
  s.healed_fry = (level ? level->a : long_fry_.lowest_mean(kReferenceValues)) +
                 kHealedShare * config_.fry_scale;
  s.healed_hf = (level ? level->b : long_noise_.lowest_mean(kReferenceValues)) +
                kHealedShare * config_.noise_scale;
  const auto above = held_.above(fry_, noise_);
  if (!s.ready && !above) return s;
  const Judgement fry = judge(s.ready, s.fry_delta, above ? std::optional(above->a) : std::nullopt,
                              config_.fry_scale, config_.fry_force);
  const Judgement noise =
      judge(s.ready, s.noise_delta, above ? std::optional(above->b) : std::nullopt,
            config_.noise_scale, config_.noise_force);
  s.fry_delta = fry.delta;
  s.fry_forced = fry.forced;
  s.fry_progress = fry.progress;
  s.noise_delta = noise.delta;
  s.noise_forced = noise.forced;
  s.noise_progress = noise.progress;
  s.ready = true;
  s.progress = std::max(s.fry_progress, s.noise_progress);
  return s;
}

void DegenerationDetector::on_injection(bool cut_history) {
  // Both measures only rise as a loop degenerates, so the lowest stretch of the uncut history is
  // the level before the climb, even when the climb was slow or an earlier injection cut the
  // trend's history in the middle of it.
  const HeldLevel::Pair lowest{long_fry_.lowest_mean(kReferenceValues),
                               long_noise_.lowest_mean(kReferenceValues)};
  // Degenerating by the trend, or by the newest keyframes standing a force above that level:
  // injections made for another cause (a noisy loop's colours converge too, and the collapse
  // detector injects against that) cut the trend's history before it can judge.
  const bool far_above =
      fry_.max_newest(HeldLevel::kLevelValues) - lowest.a >= config_.fry_force ||
      noise_.max_newest(HeldLevel::kLevelValues) - lowest.b >= config_.noise_force;
  std::optional<HeldLevel::Pair> level;
  if (state().degenerating() || far_above) level = lowest;
  held_.on_injection(level, long_fry_, long_noise_, healed());
  if (!cut_history) return;
  fry_.keep_newest(kKeptAfterInjection);
  noise_.keep_newest(kKeptAfterInjection);
}

HeldLevel::Pair DegenerationDetector::healed() const {
  return {kHealedShare * config_.fry_scale, kHealedShare * config_.noise_scale};
}

}  // namespace dw::cache
