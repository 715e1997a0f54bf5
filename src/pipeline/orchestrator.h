// Orchestrator (std::jthread): the conductor of the dream loop (BEHAVIOUR.md).
//  - bootstraps keyframe 1 from a seed image;
//  - keeps keyframe generation comfy.in_flight deep: request k uses the newest keyframe known at
//    the time (so with two in flight, k and k+1 both grow from k-1: a two-strand braid that stays
//    continuous because each step is a low-denoise img2img);
//  - decides inline, before each request, whether keyframe k is an injection instead (collapse
//    detector + injection policy); an injected keyframe is made here: slerp(current, cached, w)
//    in latent space, decoded, and it becomes keyframe k and the input of the next request;
//  - emits keyframes strictly in index order to the interpolation worker (which blocks when full:
//    backpressure) and to the cache worker; stops requesting while the buffer holds more than
//    playback.target_buffer_s;
//  - never lets one failure stop the show: errors are logged, counted and the loop goes on.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <map>
#include <mutex>
#include <random>
#include <thread>
#include <vector>

#include "cache/collapse_detector.h"
#include "cache/diversity_cache.h"
#include "cache/injection_policy.h"
#include "core/config_store.h"
#include "core/frame.h"
#include "core/frame_ring.h"
#include "pipeline/cache_worker.h"
#include "pipeline/interpolation_worker.h"
#include "pipeline/keyframe_source.h"
#include "pipeline/prompt_source.h"
#include "pipeline/vae_service.h"

namespace dw::pipeline {

struct OrchestratorStats {
  std::uint64_t keyframes = 0;  // emitted, in order
  std::uint64_t requests = 0;
  std::uint64_t injections = 0;
  std::uint64_t forced_injections = 0;
  std::uint64_t seed_injections = 0;
  std::uint64_t errors = 0;
  std::uint64_t last_keyframe = 0;
  double last_generation_s = 0;  // request to result, newest keyframe
  double mean_generation_s = 0;
  double buffer_seconds = 0;
  std::size_t source_pending = 0;
  cache::CollapseState collapse;
  std::string theme;
  std::string source;
  std::string last_error;
};

struct OrchestratorParts {
  KeyframeSource& source;
  VaeService& vae;
  InterpolationWorker& interpolation;
  CacheAnalysisWorker& cache_worker;
  cache::DiversityCache& cache;
  PromptSource& prompts;
  const ConfigStore& config;
  FrameRing<Frame>& ring;    // observed for the buffer level only
  std::vector<Image> seeds;  // at keyframe size; at least one
  std::uint64_t rng_seed = 0;
};

class Orchestrator {
 public:
  explicit Orchestrator(OrchestratorParts parts);
  ~Orchestrator();

  OrchestratorStats stats() const;
  void stop();

 private:
  void run(std::stop_token stop);
  void submit_requests(const Config& config, std::stop_token stop);
  void collect_results(std::stop_token stop);
  void emit_ready(std::stop_token stop);
  bool try_inject(std::uint64_t index, const Config& config);
  Image blend_toward(const Image& current, const Image& target, double weight);
  double buffer_seconds(const Config& config) const;
  void fail(const std::string& what);

  OrchestratorParts p_;
  std::mt19937_64 rng_;
  cache::CollapseDetector collapse_;
  cache::InjectionPolicy injection_;

  std::uint64_t next_request_ = 2;  // keyframe 1 is the seed
  std::uint64_t emitted_through_ = 0;
  Image newest_input_;  // what the next request grows from: the newest keyframe known
  std::uint64_t newest_index_ = 0;
  cache::ImageFeatures newest_features_;
  std::map<std::uint64_t, Keyframe> ready_;  // out-of-order arrivals and local injections
  std::map<std::uint64_t, std::chrono::steady_clock::time_point> submitted_at_;
  std::map<std::uint64_t, bool> injected_;

  mutable std::mutex stats_mutex_;
  OrchestratorStats stats_;
  std::jthread thread_;
};

}  // namespace dw::pipeline
