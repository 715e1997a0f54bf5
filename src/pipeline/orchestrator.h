// Orchestrator (a Worker thread): the conductor of the dream loop (BEHAVIOUR.md).
//  - bootstraps keyframe 1 from a seed image;
//  - keeps as many keyframe requests in flight as the source says it can use (capacity(), the
//    pipeline's depth d). Request k grows from the newest keyframe known when it is sent, which in
//    the steady state is keyframe k-d: d interleaved strands, each a chain of low-denoise img2img
//    steps (docs/architecture.md, "depth and continuity");
//  - decides inline, before each request, whether keyframe k is an injection instead (collapse
//    detector + injection policy); an injected keyframe is made here: slerp(current, cached, w)
//    in latent space, decoded, and it becomes keyframe k and the input of the next request;
//  - emits keyframes strictly in index order to the interpolation worker (which blocks when full:
//    backpressure) and to the cache worker; stops requesting while more than
//    playback.target_buffer_s is buffered;
//  - follows the operator's Commands before each request: while generation is paused nothing is
//    requested or injected (what is in flight still arrives and plays); next_theme moves the
//    prompt source on; inject_now makes the next keyframe an injection;
//  - never lets one failure stop the show: errors are logged, counted and the loop goes on.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <random>
#include <tuple>
#include <vector>

#include "cache/collapse_detector.h"
#include "cache/diversity_cache.h"
#include "cache/injection_policy.h"
#include "core/commands.h"
#include "core/config_store.h"
#include "pipeline/cache_worker.h"
#include "pipeline/interpolation_worker.h"
#include "pipeline/keyframe_source.h"
#include "pipeline/prompt_source.h"
#include "pipeline/resume.h"
#include "pipeline/vae_service.h"
#include "pipeline/worker.h"

namespace dw::pipeline {

struct OrchestratorStats {
  std::uint64_t keyframes = 0;  // emitted, in order
  std::uint64_t requests = 0;
  std::uint64_t injections = 0;
  std::uint64_t forced_injections = 0;
  std::uint64_t seed_injections = 0;
  std::uint64_t operator_injections = 0;  // asked for through Commands::inject_now
  std::uint64_t theme_skips = 0;          // Commands::next_theme requests carried out
  std::uint64_t errors = 0;
  std::uint64_t last_keyframe = 0;
  double last_generation_s = 0;  // request to result, newest keyframe
  double mean_generation_s = 0;
  cache::CollapseState collapse;
  std::string theme;
  std::string source;
  std::string last_error;
};

// The live settings the orchestrator reads, each its own section.
struct OrchestratorSettings {
  LiveSection<PlaybackConfig> playback;            // target_buffer_s
  LiveSection<CollapseConfig> collapse;            // the collapse detector
  LiveSection<InjectionConfig> injection;          // the injection policy
  LiveSection<InterpolationConfig> interpolation;  // mean_center of an injection's latent blend
};

struct OrchestratorParts {
  KeyframeSource& source;
  VaeService& vae;
  InterpolationWorker& interpolation;
  CacheAnalysisWorker& cache_worker;
  cache::DiversityCache& cache;
  PromptSource& prompts;
  OrchestratorSettings settings;
  // Seconds of content buffered ahead of the screen (ring plus the interpolation worker's queue).
  std::function<double()> buffered_seconds;
  std::vector<Image> seeds;  // at keyframe size; at least one
  std::uint64_t rng_seed = 0;
  bool random_first_seed = true;  // keyframe 1: a random seed image, or the first one
  WorkerFaultHook fault;          // tests only
  Commands* commands = nullptr;   // the operator's requests (pause, next theme, inject now)
  KeyframeObserver
      on_keyframe;  // each keyframe in order, on the orchestrator's thread (null: none)
  // Resume (pipeline/resume.h): the previous run's last keyframes, oldest first. When given, the
  // newest is the first keyframe emitted (with its own index; the older one primes the collapse
  // detector) instead of a seed image.
  std::vector<ResumeKeyframe> resume_from;
  // Called with each keyframe once it is emitted (the resume state keeps the newest).
  std::function<void(std::uint64_t index, const Image& image)> on_emitted;
};

class Orchestrator {
 public:
  explicit Orchestrator(OrchestratorParts parts);
  ~Orchestrator();

  OrchestratorStats stats() const;
  const Worker& worker() const { return worker_; }
  void stop();

 private:
  void start_from_seed();
  void start_from_resume();
  void step(std::stop_token stop);
  void submit_requests(std::stop_token stop);
  void collect_results(std::stop_token stop);
  void emit_ready(std::stop_token stop);
  // The emitted keyframe's features into the collapse detector, its picture to the cache worker
  // and the archive; the detector's state after it.
  cache::CollapseState take_note_of(const Keyframe& k);
  void note_keyframe(const Keyframe& k);
  bool paused() const;
  void follow_theme_requests();
  bool operator_wants_injection();
  bool try_inject(std::uint64_t index, bool asked);
  Image blend_toward(const Image& current, const Image& target, double weight);
  void fail(const std::string& what);

  OrchestratorParts p_;
  std::mt19937_64 rng_;
  cache::CollapseDetector collapse_;
  cache::InjectionPolicy injection_;
  std::vector<cache::PictureMeasures> seed_measures_;  // one per seed: the injection ceiling's

  std::uint64_t next_request_ = 2;  // keyframe 1 is the seed
  std::uint64_t emitted_through_ = 0;
  Image newest_input_;  // what the next request grows from: the newest keyframe known
  std::uint64_t newest_index_ = 0;
  cache::ImageFeatures newest_features_;
  std::map<std::uint64_t, Keyframe> ready_;  // out-of-order arrivals and local injections
  std::map<std::uint64_t, std::chrono::steady_clock::time_point> submitted_at_;
  std::map<std::uint64_t, std::pair<Prompt, std::uint64_t>> requested_;  // for on_keyframe
  // The Commands counters' values already carried out (a request made twice before it is seen is
  // carried out once).
  std::uint64_t seen_next_theme_ = 0;
  std::uint64_t seen_inject_now_ = 0;

  mutable std::mutex stats_mutex_;
  OrchestratorStats stats_;
  Worker worker_;  // last: its thread stops before the members it uses go
};

}  // namespace dw::pipeline
