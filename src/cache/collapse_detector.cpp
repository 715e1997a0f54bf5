#include "cache/collapse_detector.h"

#include <algorithm>
#include <numeric>

namespace dw::cache {
namespace {

double mean_of(std::deque<double>::const_iterator begin, std::deque<double>::const_iterator end) {
  const auto n = std::distance(begin, end);
  return n > 0 ? std::accumulate(begin, end, 0.0) / static_cast<double>(n) : 0.0;
}

}  // namespace

CollapseState CollapseDetector::add_keyframe(const ImageFeatures& features) {
  degeneration_.add_keyframe(features.measures);
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
  CollapseState s = collapse_state();
  if (s.rate > 0) s.cause = "collapse";
  s.degeneration = degeneration_.state();
  const DegenerationState& d = s.degeneration;
  if (!d.degenerating()) return s;
  // The cause furthest along drives the state; a forced one counts as all the way, and on a tie
  // the more specific name wins (a frying stream's histograms converge too).
  const double collapse_progress = s.forced ? 1.0 : (s.rate > 0 ? s.progress : -1.0);
  const double degeneration_progress = d.forced() ? 1.0 : d.progress;
  if (degeneration_progress >= collapse_progress) {
    s.cause = d.cause();
    s.progress = d.progress;
    s.rate = kBaseRate + (1.0 - kBaseRate) * d.progress;
  }
  if (d.forced()) {
    s.forced = true;
    s.rate = 1.0;
  }
  return s;
}

CollapseState CollapseDetector::collapse_state() const {
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
  const double progress =
      std::max(trend_progress(s.colour_delta, config_.color_scale, config_.color_force),
               trend_progress(s.structure_delta, config_.structure_scale, config_.structure_force));
  if (progress >= 0) {
    s.progress = progress;
    s.rate = kBaseRate + (1.0 - kBaseRate) * progress;
  }
  if (s.forced) s.rate = 1.0;
  return s;
}

void CollapseDetector::on_injection() {
  degeneration_.on_injection();
  while (colour_history_.size() > kKeptAfterInjection) {
    colour_history_.pop_front();
    structure_history_.pop_front();
  }
}

}  // namespace dw::cache
