#include "cache/injection_policy.h"

#include <algorithm>
#include <cmath>
#include <vector>

namespace dw::cache {

double candidate_score(const Similarity& s) {
  return std::clamp(1.0 - 0.5 * (s.colour / 3.0 + s.structure), 0.0, 1.0);
}

bool MeasureCeiling::admits(const PictureMeasures& m) const {
  return fry_index(m) <= fry && m[Measure::Hf] <= hf;
}

double MeasureCeiling::excess(const PictureMeasures& m) const {
  const auto over = [](double value, double limit) {
    return std::max(value - limit, 0.0) / std::max(limit, 1e-6);
  };
  return over(fry_index(m), fry) + over(m[Measure::Hf], hf);
}

bool InjectionPolicy::should_inject(std::uint64_t keyframe_index, const CollapseState& collapse) {
  if (keyframe_index <= static_cast<std::uint64_t>(config_.warmup)) return false;
  if (last_injection_ &&
      keyframe_index <= *last_injection_ + static_cast<std::uint64_t>(config_.cooldown))
    return false;
  if (collapse.forced) return true;
  if (collapse.rate <= 0) return false;
  return std::bernoulli_distribution(std::clamp(collapse.rate, 0.0, 1.0))(rng_);
}

std::optional<InjectionChoice> InjectionPolicy::choose(const ImageFeatures& current,
                                                       std::span<const CacheEntry> entries,
                                                       std::span<const PictureMeasures> seeds,
                                                       bool forced,
                                                       std::optional<MeasureCeiling> ceiling,
                                                       std::optional<std::uint64_t> made_by) {
  std::vector<double> weights;
  std::vector<Similarity> sims;
  weights.reserve(entries.size());
  bool any = false, any_fresh = false;  // a candidate in band; one not injected lately
  for (const CacheEntry& e : entries) {
    const Similarity s = similarity(current, e.features);
    sims.push_back(s);
    const bool colour_in_band = s.colour > config_.color_low && s.colour < config_.color_high;
    const bool structure_in_band =
        s.structure > config_.structure_low && s.structure < config_.structure_high;
    const bool under_ceiling = !ceiling || ceiling->admits(e.features.measures);
    const bool made_in_time = !made_by || e.keyframe_index <= *made_by;
    double w = 0;
    if (under_ceiling && made_in_time && (colour_in_band || structure_in_band)) {
      w = std::exp(2.0 * candidate_score(s));
      const bool recent =
          std::find(recent_entries_.begin(), recent_entries_.end(), e.id) != recent_entries_.end();
      if (recent) w *= kRecentDownWeight;
      any = true;
      any_fresh = any_fresh || !recent;
    }
    weights.push_back(w);
  }
  // Every candidate in band injected lately (a small cache, or few frames allowed): injecting one
  // again would not change what it did not change before, so a seed goes instead.
  if (any && (any_fresh || seeds.empty())) {
    std::discrete_distribution<std::size_t> pick(weights.begin(), weights.end());
    const std::size_t i = pick(rng_);
    InjectionChoice c;
    c.source = InjectionChoice::Source::CacheEntry;
    c.entry_id = entries[i].id;
    c.weight = config_.cached_weight;
    c.similarity = sims[i];
    c.forced = forced;
    return c;
  }
  if (seeds.empty()) return std::nullopt;
  InjectionChoice c;
  c.source = InjectionChoice::Source::Seed;
  c.seed_index = choose_seed(seeds, ceiling);
  c.weight = config_.seed_weight;
  c.forced = forced;
  return c;
}

// Any seed without a ceiling; under one, any seed it admits, or else the one least over it.
std::size_t InjectionPolicy::choose_seed(std::span<const PictureMeasures> seeds,
                                         const std::optional<MeasureCeiling>& ceiling) {
  std::vector<std::size_t> admitted;
  for (std::size_t i = 0; i < seeds.size(); ++i)
    if (!ceiling || ceiling->admits(seeds[i])) admitted.push_back(i);
  if (!admitted.empty())
    return admitted[std::uniform_int_distribution<std::size_t>(0, admitted.size() - 1)(rng_)];
  const auto least_over = std::ranges::min_element(
      seeds, {}, [&](const PictureMeasures& m) { return ceiling->excess(m); });
  return static_cast<std::size_t>(least_over - seeds.begin());
}

void InjectionPolicy::record(std::uint64_t keyframe_index, const InjectionChoice& choice) {
  last_injection_ = keyframe_index;
  ++injections_;
  if (choice.source == InjectionChoice::Source::CacheEntry) {
    recent_entries_.push_back(choice.entry_id);
    while (recent_entries_.size() > static_cast<std::size_t>(std::max(config_.recent_penalty, 0)))
      recent_entries_.pop_front();
  }
}

}  // namespace dw::cache
