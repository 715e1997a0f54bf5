// InterpolationWorker (a Worker thread): turns the ordered stream of keyframes into content frames.
// For each new keyframe k it makes the frames of pair (k-1, k): keyframe k-1 itself (t = 0, shown
// through the same decoder so nothing pops at the boundary) and N in-between frames, all slerped
// and decoded as one batch straight into reserved FrameRing slots, published in order.
// Without a VAE it falls back to a pixel-space crossfade so the show goes on.
//
// What must stay true: frames enter the ring in (keyframe, step) order with no gap; each keyframe
// is encoded once (or its saved latent is used); the worker never holds the VAE while waiting for
// ring space; it stops within one wait interval of its stop request; queued_frames() is exactly
// the number of frames it will still write for what it was given (the count of a pair is fixed
// when its keyframe is submitted, so a live edit of frames_between cannot make it lie).
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include "core/bounded_queue.h"
#include "core/config_store.h"
#include "core/frame.h"
#include "core/frame_ring.h"
#include "core/image.h"
#include "pipeline/keyframe_source.h"
#include "pipeline/vae_service.h"
#include "pipeline/worker.h"

namespace dw::pipeline {

struct InterpolationStats {
  std::uint64_t keyframes = 0;
  std::uint64_t pairs = 0;
  std::uint64_t frames = 0;
  std::uint64_t encode_errors = 0;
  std::uint64_t decode_errors = 0;
  double last_pair_ms = 0;  // slerp + decode + write of the last pair
  double last_encode_ms = 0;
  std::uint64_t last_keyframe = 0;
  std::string last_error;
};

class InterpolationWorker {
 public:
  // Called on the worker thread with the middle frame of each pair (host pixels), for the cache.
  using MiddleFrameSink = std::function<void(std::uint64_t keyframe_index, const Image& frame)>;

  InterpolationWorker(VaeService& vae, FrameRing<Frame>& ring,
                      LiveSection<InterpolationConfig> config, MiddleFrameSink middle_sink,
                      WorkerFaultHook fault = {});
  ~InterpolationWorker();

  // Hands over keyframe k (in order; from one thread). Blocks while the small input queue is
  // full: this is the backpressure that reaches the orchestrator. False when stopped.
  bool submit(Keyframe keyframe, std::stop_token stop);

  // Keyframes waiting in the input queue.
  std::size_t queued() const { return inputs_.size(); }
  // Content frames it still owes the ring: those of the queued keyframes' pairs and the rest of
  // the pair in progress. With the ring's size, the buffer ahead of the screen.
  std::size_t queued_frames() const { return owed_frames_.load(); }
  InterpolationStats stats() const;
  const Worker& worker() const { return worker_; }
  void stop();

 private:
  struct Queued {
    Keyframe keyframe;
    int frames_between = 0;  // of the pair this keyframe ends, fixed at submit
    std::size_t frames = 0;  // what queued_frames() counts for it (0 for the first keyframe)
  };

  void step(std::stop_token stop);
  void encode_if_needed(Keyframe& k);
  // Writes the pair's frames; `written` counts those that reached the ring (also when it
  // throws or stops half-way).
  void emit_pair(const Keyframe& a, const Keyframe& b, int frames_between, std::stop_token stop,
                 std::size_t& written);
  bool reserve(std::size_t slots, std::stop_token stop);

  VaeService& vae_;
  FrameRing<Frame>& ring_;
  LiveSection<InterpolationConfig> config_;
  MiddleFrameSink middle_sink_;
  BoundedQueue<Queued> inputs_{2};
  std::atomic<std::size_t> owed_frames_{0};
  bool first_submitted_ = false;      // submit()'s thread only
  std::optional<Keyframe> previous_;  // the worker thread only
  std::uint64_t next_sequence_ = 0;
  mutable std::mutex stats_mutex_;
  InterpolationStats stats_;
  Worker worker_;  // last: its thread stops before the members it uses go
};

}  // namespace dw::pipeline
