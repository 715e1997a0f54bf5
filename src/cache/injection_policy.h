// When to inject and what (BEHAVIOUR.md): decided inline by the orchestrator before it requests
// the next keyframe. Warm-up and cool-down gate every injection; a forced collapse injects, a
// scaled one injects with the detector's rate. The candidate is a cached frame that is dissimilar
// but not alien to the current keyframe (colour or structure similarity inside its band), drawn
// with weight exp(2 * score), recently injected entries down-weighted; with no candidate in band,
// or only recently injected ones, a seed image is injected instead. While the loop is fried or
// noisy (or recovering from it), a ceiling keeps out every cached frame more fried or noisy than
// the loop's healthy level allows: the cache may hold frames from early in a slow climb, and
// injecting one would not heal. The seeds are held to it too: the shipped ones range from a smooth
// gradient to a fine flow field as detailed as noise at a small keyframe size, so a seed is drawn
// from those under the ceiling, or is the one least over it. While the variety from before a
// collapse is held, only frames made before the loop collapsed are injected: the cache keeps the
// collapsed picture and blends with it, which would not break it.
#pragma once

#include <cstdint>
#include <deque>
#include <optional>
#include <random>
#include <span>

#include "cache/collapse_detector.h"
#include "cache/diversity_cache.h"
#include "cache/picture_measures.h"
#include "core/config.h"

namespace dw::cache {

struct InjectionChoice {
  enum class Source { CacheEntry, Seed } source = Source::CacheEntry;
  std::uint64_t entry_id = 0;  // when CacheEntry
  std::size_t seed_index = 0;  // when Seed
  double weight = 0.75;        // latent blend weight of the injected image
  Similarity similarity;       // to the current keyframe (cache entries)
  bool forced = false;
};

// The most fry index and high-frequency energy a cached frame or seed may have to be injected.
struct MeasureCeiling {
  double fry = 0;
  double hf = 0;
  bool admits(const PictureMeasures& m) const;
  // How far `m` is over the ceiling, each measure relative to its limit; 0 when admitted.
  double excess(const PictureMeasures& m) const;
};

// Dissimilarity score in [0, 1] used to weight candidates: 1 - mean of the two normalised
// similarities.
double candidate_score(const Similarity& s);

class InjectionPolicy {
 public:
  static constexpr double kRecentDownWeight = 0.2;

  explicit InjectionPolicy(const InjectionConfig& config, std::uint64_t rng_seed)
      : config_(config), rng_(rng_seed) {}
  void set_config(const InjectionConfig& config) { config_ = config; }

  // Should keyframe `keyframe_index` (the one about to be requested) be an injection?
  bool should_inject(std::uint64_t keyframe_index, const CollapseState& collapse);

  // Picks what to inject given the current keyframe's features, the cache content (only entries
  // under `ceiling`, when there is one, and made from keyframes up to `made_by`, when there is
  // that: entries left from an earlier run may share indices with this one's and are left out
  // with them, which costs a candidate, never admits a collapsed frame) and the seed images'
  // measures (one per seed, at keyframe size).
  std::optional<InjectionChoice> choose(const ImageFeatures& current,
                                        std::span<const CacheEntry> entries,
                                        std::span<const PictureMeasures> seeds, bool forced,
                                        std::optional<MeasureCeiling> ceiling = std::nullopt,
                                        std::optional<std::uint64_t> made_by = std::nullopt);

  // Records that keyframe `keyframe_index` was an injection of `choice`.
  void record(std::uint64_t keyframe_index, const InjectionChoice& choice);

  std::uint64_t injections() const { return injections_; }
  std::optional<std::uint64_t> last_injection() const { return last_injection_; }

 private:
  std::size_t choose_seed(std::span<const PictureMeasures> seeds,
                          const std::optional<MeasureCeiling>& ceiling);

  InjectionConfig config_;
  std::mt19937_64 rng_;
  std::optional<std::uint64_t> last_injection_;
  std::deque<std::uint64_t> recent_entries_;
  std::uint64_t injections_ = 0;
};

}  // namespace dw::cache
