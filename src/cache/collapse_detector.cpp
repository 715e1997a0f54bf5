#include "cache/collapse_detector.h"

#include <algorithm>
#include <numeric>

namespace dw::cache {
namespace {

double mean_of(std::deque<double>::const_iterator begin, std::deque<double>::const_iterator end) {
  const auto n = std::distance(begin, end);
  return n > 0 ? std::accumulate(begin, end, 0.0) / static_cast<double>(n) : 0.0;
}

// 0 below scale, 1 at or above force, linear between.
double progress_between(double delta, double scale, double force) {
  if (delta < scale) return -1;  // not scaled at all
  if (force <= scale) return 1;
  return std::clamp((delta - scale) / (force - scale), 0.0, 1.0);
}

}  // namespace

CollapseState CollapseDetector::add_keyframe(const ImageFeatures& features) {
  recent_.push_back(features);
  while (recent_.size() > static_cast<std::size_t>(std::max(config_.window, 2)))
    recent_.pop_front();
  if (recent_.size() >= 2) {
    double colour = 0, structure = 0;
    for (std::size_t i = 1; i < recent_.size(); ++i) {
      const Similarity s = similarity(recent_[i - 1], recent_[i]);
      colour += s.colour;
      structure += s.structure;
    }
    const double pairs = static_cast<double>(recent_.size() - 1);
    colour_history_.push_back(colour / pairs);
    structure_history_.push_back(structure / pairs);
    const auto limit = static_cast<std::size_t>(std::max(config_.history, 1));
    while (colour_history_.size() > limit) {
      colour_history_.pop_front();
      structure_history_.pop_front();
    }
  }
  return state();
}

CollapseState CollapseDetector::state() const {
  CollapseState s;
  if (!colour_history_.empty()) {
    s.colour_mean = colour_history_.back();
    s.structure_mean = structure_history_.back();
  }
  const std::size_t n = colour_history_.size();
  if (n < static_cast<std::size_t>(config_.min_values) || n < 2) return s;
  s.ready = true;
  const std::size_t edge = std::min(kEdgeValues, n / 2);
  s.colour_delta = mean_of(colour_history_.end() - edge, colour_history_.end()) -
                   mean_of(colour_history_.begin(), colour_history_.begin() + edge);
  s.structure_delta = mean_of(structure_history_.end() - edge, structure_history_.end()) -
                      mean_of(structure_history_.begin(), structure_history_.begin() + edge);
  s.forced = s.colour_delta >= config_.color_force || s.structure_delta >= config_.structure_force;
  const double progress = std::max(
      progress_between(s.colour_delta, config_.color_scale, config_.color_force),
      progress_between(s.structure_delta, config_.structure_scale, config_.structure_force));
  if (progress >= 0) {
    s.progress = progress;
    s.rate = kBaseRate + (1.0 - kBaseRate) * progress;
  }
  if (s.forced) s.rate = 1.0;
  return s;
}

void CollapseDetector::on_injection() {
  while (colour_history_.size() > kKeptAfterInjection) {
    colour_history_.pop_front();
    structure_history_.pop_front();
  }
}

}  // namespace dw::cache
