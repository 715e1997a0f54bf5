#include "pipeline/orchestrator.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "pipeline/offline_generator.h"
#include "vae/pixels.h"

namespace dw::pipeline {
namespace {

constexpr auto kResultWait = std::chrono::milliseconds(50);

double seconds_since(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
}

// While a collapse's variety is held: the newest keyframe certainly made before the collapse,
// `newest` being the newest the detector has seen.
std::optional<std::uint64_t> made_before_collapse(const cache::CollapseState& state,
                                                  std::uint64_t newest) {
  if (!state.holding) return std::nullopt;
  return newest > state.before_collapse_ago ? newest - state.before_collapse_ago : 0;
}

}  // namespace

Orchestrator::Orchestrator(OrchestratorParts parts)
    : p_(std::move(parts)),
      rng_(p_.rng_seed),
      collapse_(*p_.settings.collapse.get()),
      injection_(*p_.settings.injection.get(), p_.rng_seed ^ 0x9e3779b97f4a7c15ULL),
      worker_("orchestrator", p_.fault) {
  DW_CHECK(!p_.seeds.empty(), "the orchestrator needs at least one seed image");
  DW_CHECK(p_.buffered_seconds != nullptr, "the orchestrator needs the buffer level");
  for (const Image& seed : p_.seeds) seed_measures_.push_back(cache::measure_picture(seed));
  if (p_.resume_from.empty())
    start_from_seed();
  else
    start_from_resume();
  worker_.start([this](std::stop_token stop) { step(stop); });
}

Orchestrator::~Orchestrator() {
  stop();
}

void Orchestrator::stop() {
  worker_.stop();
}

OrchestratorStats Orchestrator::stats() const {
  std::lock_guard lock(stats_mutex_);
  return stats_;
}

void Orchestrator::fail(const std::string& what) {
  spdlog::error("orchestrator: {}", what);
  std::lock_guard lock(stats_mutex_);
  ++stats_.errors;
  stats_.last_error = what;
}

Image Orchestrator::blend_toward(const Image& current, const Image& target, double weight) {
  const Image fitted = target.width == current.width && target.height == current.height
                           ? target
                           : resize_cover(target, current.width, current.height);
  // A decoder-only VAE cannot take pictures into latent space: the blend is in pixels.
  if (!p_.vae.can_encode()) return blend(current, fitted, weight);
  // In latent space: the decoded blend is what the next img2img grows from, and it is shown
  // through the same decoder as every other frame.
  vae::SlerpOptions options;
  options.mean_center = p_.settings.interpolation.get()->mean_center;
  try {
    return p_.vae.with([&](vae::VaeBackend& backend) {
      const vae::HostTensor a = backend.encode(vae::image_to_tensor(current));
      const vae::HostTensor b = backend.encode(vae::image_to_tensor(fitted));
      const float t = static_cast<float>(weight);
      return vae::tensor_to_image(backend.decode(backend.slerp(a, b, std::span(&t, 1), options)),
                                  0);
    });
  } catch (const Cancelled&) {
    throw;
  } catch (const std::exception& e) {
    // The injection still happens (a loop that collapsed needs it): in pixels this time.
    spdlog::warn("orchestrator: the latent blend failed ({}); blending in pixels", e.what());
    return blend(current, fitted, weight);
  }
}

bool Orchestrator::paused() const {
  return p_.commands != nullptr && p_.commands->generation_paused();
}

// Commands::next_theme: the prompt source moves on at the request about to be made.
void Orchestrator::follow_theme_requests() {
  if (p_.commands == nullptr) return;
  const std::uint64_t asked = p_.commands->next_theme.load(std::memory_order_acquire);
  if (asked == seen_next_theme_) return;
  seen_next_theme_ = asked;
  p_.prompts.skip_theme();
  std::lock_guard lock(stats_mutex_);
  ++stats_.theme_skips;
}

// Commands::inject_now, asked since the last injection it made.
bool Orchestrator::operator_wants_injection() {
  if (p_.commands == nullptr) return false;
  const std::uint64_t asked = p_.commands->inject_now.load(std::memory_order_acquire);
  if (asked == seen_inject_now_) return false;
  seen_inject_now_ = asked;
  return true;
}

// `asked`: the operator asked for this injection (Commands::inject_now); it skips the policy's
// decision (warm-up, cool-down, rate) but takes its choice of what to inject.
bool Orchestrator::try_inject(std::uint64_t index, bool asked) {
  injection_.set_config(*p_.settings.injection.get());
  collapse_.set_config(*p_.settings.collapse.get());
  const cache::CollapseState state = collapse_.state();
  if (!asked && !injection_.should_inject(index, state)) return false;
  // A fried or noisy loop is healed only by frames cleaner than it has become.
  std::optional<cache::MeasureCeiling> ceiling;
  const cache::DegenerationState& d = state.degeneration;
  if (d.degenerating() || d.holding) ceiling = cache::MeasureCeiling{d.healed_fry, d.healed_hf};
  // A collapsed loop is broken only by frames from before it collapsed. An entry found
  // unreadable leaves the cache and the choice is made again among the rest (or a seed).
  constexpr int kChoices = 4;
  std::optional<cache::InjectionChoice> choice;
  Image target;
  for (int attempt = 0; attempt < kChoices && !choice; ++attempt) {
    const auto entries = p_.cache.entries();
    choice = injection_.choose(newest_features_, entries, seed_measures_, state.forced && !asked,
                               ceiling, made_before_collapse(state, emitted_through_));
    if (!choice) return false;
    if (choice->source == cache::InjectionChoice::Source::Seed) {
      target = p_.seeds[choice->seed_index];
    } else if (auto image = p_.cache.load_image_or_forget(choice->entry_id)) {
      target = std::move(*image);
    } else {
      choice.reset();
    }
  }
  if (!choice) return false;
  const bool from_seed = choice->source == cache::InjectionChoice::Source::Seed;
  Image injected = blend_toward(newest_input_, target, choice->weight);
  injection_.record(index, *choice);
  collapse_.on_injection();
  const std::string origin = from_seed ? fmt::format("seed image {}", choice->seed_index + 1)
                                       : fmt::format("cache entry {}", choice->entry_id);
  const std::string why = asked            ? std::string(", asked by the operator")
                          : choice->forced ? fmt::format(", forced by {}", state.cause)
                          : *state.cause   ? fmt::format(", {} rising", state.cause)
                                           : std::string();
  spdlog::info("orchestrator: keyframe {} is an injection ({}{}, weight {:.2f})", index, origin,
               why, choice->weight);
  newest_input_ = injected;
  newest_index_ = index;
  ready_[index] = Keyframe{index, std::move(injected), std::nullopt, origin, /*injected=*/true};
  std::lock_guard lock(stats_mutex_);
  ++stats_.injections;
  stats_.forced_injections += choice->forced;
  stats_.seed_injections += from_seed;
  stats_.operator_injections += asked;
  return true;
}

void Orchestrator::submit_requests(std::stop_token stop) {
  // The source says how many requests it can use (ComfyUI: lanes x healthy servers).
  const std::uint64_t depth = std::max<std::uint64_t>(p_.source.capacity(), 1);
  const double target_s = p_.settings.playback.get()->target_buffer_s;
  // Paused: nothing new is asked of the source or the VAE; requests asked for meanwhile (next
  // theme, inject now) wait for the next request after the pause.
  while (!stop.stop_requested() && !paused() && next_request_ <= emitted_through_ + depth &&
         p_.source.pending() < depth && p_.buffered_seconds() < target_s) {
    const std::uint64_t k = next_request_;
    follow_theme_requests();
    bool injected = false;
    try {
      injected = try_inject(k, operator_wants_injection());
    } catch (const Cancelled&) {
      throw;
    } catch (const std::exception& e) {
      fail(fmt::format("injection for keyframe {} failed: {}", k, e.what()));
    }
    if (injected) {
      ++next_request_;
      continue;
    }
    KeyframeRequest request;
    request.index = k;
    request.input = newest_input_;
    request.prompt = p_.prompts.prompt_for(k);
    request.seed = rng_();
    if (p_.on_keyframe) requested_[k] = {request.prompt, request.seed};
    if (!p_.source.submit(std::move(request))) break;  // the source is full: try again later
    submitted_at_[k] = std::chrono::steady_clock::now();
    ++next_request_;
    std::lock_guard lock(stats_mutex_);
    ++stats_.requests;
    stats_.theme = p_.prompts.current_theme();
  }
}

void Orchestrator::collect_results(std::stop_token stop) {
  auto keyframe = p_.source.next(stop, kResultWait);
  if (!keyframe) return;
  const std::uint64_t k = keyframe->index;
  if (k <= emitted_through_ || ready_.contains(k)) {
    spdlog::warn("orchestrator: keyframe {} arrived twice; the later copy is dropped", k);
    return;
  }
  keyframe->injected = false;  // a source's keyframe is never an injection
  if (auto it = submitted_at_.find(k); it != submitted_at_.end()) {
    const double seconds = seconds_since(it->second);
    submitted_at_.erase(it);
    std::lock_guard lock(stats_mutex_);
    stats_.last_generation_s = seconds;
    stats_.mean_generation_s =
        stats_.mean_generation_s == 0 ? seconds : 0.9 * stats_.mean_generation_s + 0.1 * seconds;
  }
  // The next request grows from the newest keyframe we know of.
  if (k > newest_index_) {
    newest_index_ = k;
    newest_input_ = keyframe->image;
  }
  ready_[k] = std::move(*keyframe);
}

void Orchestrator::emit_ready(std::stop_token stop) {
  while (!stop.stop_requested()) {
    auto it = ready_.find(emitted_through_ + 1);
    if (it == ready_.end()) return;
    Keyframe k = std::move(it->second);
    ready_.erase(it);
    // What the keyframe tells (collapse, the cache, the archive) is worth less than the keyframe:
    // a failure there (out of memory, an observer that throws) is logged and the keyframe is shown
    // all the same. Lost here, no later keyframe would ever be emitted behind it.
    std::optional<cache::CollapseState> state;
    try {
      state = take_note_of(k);
    } catch (const std::exception& e) {
      spdlog::error("keyframe {}: {} (it is shown all the same)", k.index, e.what());
    }
    const std::uint64_t index = k.index;
    const bool injected = k.injected;
    std::string origin = k.origin;
    std::optional<Image> copy;
    if (p_.on_emitted) copy = k.image;
    {
      // Counted before the hand-over: the frames it ends may be shown (and the status read
      // beside them) before this thread runs again.
      std::lock_guard lock(stats_mutex_);
      ++stats_.keyframes;
      stats_.last_keyframe = index;
      if (state) stats_.collapse = *state;
      if (!injected) stats_.source = std::move(origin);
    }
    if (!p_.interpolation.submit(std::move(k), stop)) return;  // stopping
    emitted_through_ = index;
    if (copy) p_.on_emitted(index, *copy);
  }
}

cache::CollapseState Orchestrator::take_note_of(const Keyframe& k) {
  const cache::ImageFeatures features = cache::compute_features(k.image);
  // A picture the cache refuses as fried or noise is never accepted as the loop's new normal.
  const cache::CacheThresholds kept = p_.cache.thresholds();
  collapse_.set_broken(cache::BrokenPicture{kept.max_clipped, kept.max_hf});
  const cache::CollapseState state = collapse_.add_keyframe(features, k.injected);
  newest_features_ = features;
  p_.cache_worker.set_degenerating(state.degeneration.degenerating());
  // Kept frames are taken out only of a loop that stood still: one picture over and over, which
  // the cache took as new. An injection against a mere rise in sameness holds the variety too,
  // but what the cache took meanwhile is only alike, and its variety is worth keeping.
  p_.cache_worker.set_collapse(state.collapsing,
                               state.still ? made_before_collapse(state, k.index) : std::nullopt);
  p_.cache_worker.enqueue(CacheItem{
      k.image, k.injected ? cache::EntryKind::Injected : cache::EntryKind::Keyframe, k.index});
  note_keyframe(k);
  return state;
}

// Tells the observer (the keyframe archive) about a keyframe with what it was requested with.
void Orchestrator::note_keyframe(const Keyframe& k) {
  if (!p_.on_keyframe) return;
  KeyframeNote note{k.index, &k.image, {}, 0, k.origin, k.injected};
  if (auto it = requested_.find(k.index); it != requested_.end()) {
    if (!k.injected) std::tie(note.prompt, note.seed) = it->second;
    requested_.erase(it);
  }
  if (k.made_with) std::tie(note.prompt, note.seed) = *k.made_with;
  p_.on_keyframe(note);
}

void Orchestrator::start_from_seed() {
  const std::size_t first = p_.random_first_seed ? std::uniform_int_distribution<std::size_t>(
                                                       0, p_.seeds.size() - 1)(rng_)
                                                 : 0;
  newest_input_ = p_.seeds[first];
  newest_index_ = 1;
  ready_[1] = Keyframe{1, p_.seeds[first], std::nullopt, "seed image", /*injected=*/false};
}

void Orchestrator::start_from_resume() {
  const std::vector<ResumeKeyframe>& kfs = p_.resume_from;
  for (std::size_t i = 0; i + 1 < kfs.size(); ++i)
    collapse_.add_keyframe(cache::compute_features(kfs[i].image));
  const ResumeKeyframe& last = kfs.back();
  newest_input_ = last.image;
  newest_index_ = last.index;
  emitted_through_ = last.index - 1;
  next_request_ = last.index + 1;
  ready_[last.index] = Keyframe{last.index, last.image, std::nullopt, "resumed", false};
}

void Orchestrator::step(std::stop_token stop) {
  try {
    submit_requests(stop);
    collect_results(stop);
    emit_ready(stop);
  } catch (const Cancelled&) {
    throw;  // shutting down: the worker ends as stopped
  } catch (const std::exception& e) {
    fail(e.what());
  }
}

}  // namespace dw::pipeline
