#include "cache/collapse_detector.h"

#include <algorithm>

namespace dw::cache {

CollapseState CollapseDetector::add_keyframe(const ImageFeatures& features, bool injected) {
  degeneration_.add_keyframe(features.measures);
  recent_.push_back({features, injected});
  while (recent_.size() > static_cast<std::size_t>(std::max(config_.window, 2)))
    recent_.pop_front();
  // Pairs with an injected keyframe on either side are left out: an injection is a jump the
  // detector asked for, not variety of the loop's own (counted, it would lower the sameness after
  // each injection and make the next climb look like a collapse).
  double colour = 0, structure = 0;
  int pairs = 0;
  for (std::size_t i = 1; i < recent_.size(); ++i) {
    if (recent_[i - 1].injected || recent_[i].injected) continue;
    const Similarity s = similarity(recent_[i - 1].features, recent_[i].features);
    colour += s.colour;
    structure += s.structure;
    ++pairs;
  }
  if (pairs > 0) {
    const auto limit = static_cast<std::size_t>(std::max(config_.history, 1));
    colour_.add(colour / pairs, limit);
    structure_.add(structure / pairs, limit);
    long_colour_.add(colour_.newest(), limit);
    long_structure_.add(structure_.newest(), limit);
    // A stream standing still keeps the variety held; any other level above it is fought for
    // kEdgeValues keyframes, then accepted (a healthy loop's sameness wanders with its pictures,
    // and the level it was compared with may be one it does not come back to).
    if (standing_still()) held_.renew();
    held_.on_keyframe(colour_, structure_, healed(), kEdgeValues);
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
  s.colour_mean = colour_.newest();
  s.structure_mean = structure_.newest();
  s.holding = held_.level().has_value();
  s.still = standing_still();
  s.varied_ago = held_.healthy_ago();
  if (s.holding)
    s.before_collapse_ago =
        s.varied_ago + static_cast<std::size_t>(std::max(config_.window, 1)) - 1;
  const auto min_values = static_cast<std::size_t>(std::max(config_.min_values, 2));
  bool ready = false;
  const double colour_climb = colour_.delta(min_values, &ready);
  const double structure_climb = structure_.delta(min_values);
  const auto above = held_.above(colour_, structure_);
  s.collapsing = s.holding;
  if (!ready && !above) return s;
  s.ready = true;
  const Judgement colour =
      judge(ready, colour_climb, above ? std::optional(above->a) : std::nullopt,
            config_.color_scale, config_.color_force);
  const Judgement structure =
      judge(ready, structure_climb, above ? std::optional(above->b) : std::nullopt,
            config_.structure_scale, config_.structure_force);
  s.colour_delta = colour.delta;
  s.structure_delta = structure.delta;
  s.forced = colour.forced || structure.forced;
  const double progress = std::max(colour.progress, structure.progress);
  if (progress >= 0) {
    s.progress = progress;
    s.rate = kBaseRate + (1.0 - kBaseRate) * progress;
  }
  if (s.forced) s.rate = 1.0;
  s.collapsing = s.collapsing || s.forced;
  return s;
}

bool CollapseDetector::standing_still() const {
  return colour_.mean_newest(HeldLevel::kLevelValues) >= kStillColour &&
         structure_.mean_newest(HeldLevel::kLevelValues) >= kStillStructure;
}

HeldLevel::Pair CollapseDetector::healed() const {
  return {kHealedShare * config_.color_scale, kHealedShare * config_.structure_scale};
}

void CollapseDetector::on_injection() {
  // Each trend restarts after an injection made against it, and both after one made for neither
  // (the operator's): an injection against collapse leaves a fry or noise climb in view, or a
  // noisy loop (whose colours converge too) injected against collapse every few keyframes would
  // never let the noise trend see its climb.
  const bool for_collapse = collapse_state().rate > 0;
  const bool for_degeneration = degeneration_.state().degenerating();
  const bool for_neither = !for_collapse && !for_degeneration;
  // The variety the trend compared against: the mean of its oldest values (a sameness that rose
  // from there made it fire). Not the lowest stretch of the history, as for fry and noise: the
  // sameness of a healthy loop wanders with its pictures, and its most varied stretch (the first
  // keyframes after a seed, say) is not a level to hold a calmer loop to.
  std::optional<HeldLevel::Pair> level;
  if (for_collapse) level = HeldLevel::Pair{colour_.baseline(), structure_.baseline()};
  held_.on_injection(level, long_colour_, long_structure_, healed());
  degeneration_.on_injection(/*cut_history=*/for_degeneration || for_neither);
  if (for_collapse || for_neither) {
    colour_.keep_newest(kKeptAfterInjection);
    structure_.keep_newest(kKeptAfterInjection);
  }
}

}  // namespace dw::cache
