// InterpolationWorker (a Worker thread): turns the ordered stream of keyframes into content frames.
// For each new keyframe k it makes the frames of pair (k-1, k): keyframe k-1 itself (t = 0, shown
// through the same decoder so nothing pops at the boundary) and N in-between frames, all slerped
// and decoded as one batch straight into reserved FrameRing slots, published in order.
// Without a VAE it falls back to a pixel-space crossfade so the show goes on.
// The very first keyframe is also shown at once as it is (a "poster" frame, FrameInfo::poster), so
// the presenter has a picture to move while the first pair is made.
// Adapts to the backend: a DecodeController measures encode and decode times and picks how many of
// a pair's frames the VAE decodes (every k-th, the rest blended from their decoded neighbours in
// pixel space) so a slow backend (the CPU) still keeps playback fed; stats() reports the choice.
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
#include <span>
#include <string>
#include <vector>

#include "core/bounded_queue.h"
#include "core/config_store.h"
#include "core/frame.h"
#include "core/frame_ring.h"
#include "core/image.h"
#include "pipeline/decode_controller.h"
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
  // The decode controller's choice for the last pair (see DecodeController).
  std::size_t decode_stride = 1;     // every k-th frame decoded; 1: all
  std::size_t decoded_per_pair = 0;  // VAE decodes per pair (0: no VAE, pixel crossfades)
  double vae_decode_fps = 0;         // measured frames/s of the VAE decoder (0: not yet)
  bool vae_keeps_up = true;          // the plan fits the pair's playing time
};

class InterpolationWorker {
 public:
  // Called on the worker thread with the middle frame of each pair (host pixels), for the cache.
  using MiddleFrameSink = std::function<void(std::uint64_t keyframe_index, const Image& frame)>;

  InterpolationWorker(
      VaeService& vae, FrameRing<Frame>& ring, LiveSection<InterpolationConfig> config,
      MiddleFrameSink middle_sink, WorkerFaultHook fault = {},
      LiveSection<DisplayConfig> display = LiveSection<DisplayConfig>(DisplayConfig{}));
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
  void emit_poster(const Keyframe& k, std::stop_token stop);
  void decode_failed(const Keyframe& a, const Keyframe& b, const std::exception& e);
  void label_frames(const Keyframe& a, std::size_t first, std::size_t total,
                    std::span<const float> ts, bool still, std::span<Frame* const> slots);
  void send_middle(std::uint64_t keyframe, const Frame& f);
  // Decodes the anchors of a strided pair into anchors_ (host frames); false if the backend
  // writes GPU frames (striding is then off for good and the pair is decoded in full).
  bool decode_anchors(const Keyframe& a, const Keyframe& b, const std::vector<float>& ts,
                      std::size_t stride, const vae::SlerpOptions& options);
  // Fills frames [first, first + count) of a strided pair from anchors_.
  void blend_from_anchors(const std::vector<float>& ts, std::size_t stride, std::size_t first,
                          std::span<Frame* const> slots) const;
  void decode_batch(const Keyframe& a, const Keyframe& b, std::span<const float> ts,
                    const vae::SlerpOptions& options, std::span<Frame* const> slots);

  VaeService& vae_;
  FrameRing<Frame>& ring_;
  LiveSection<InterpolationConfig> config_;
  LiveSection<DisplayConfig> display_;  // content_fps: the pace a pair must keep up with
  MiddleFrameSink middle_sink_;
  BoundedQueue<Queued> inputs_{2};
  std::atomic<std::size_t> owed_frames_{0};
  bool first_submitted_ = false;      // submit()'s thread only
  std::optional<Keyframe> previous_;  // the worker thread only
  std::uint64_t next_sequence_ = 0;
  bool poster_sent_ = false;
  DecodeController controller_;  // the worker thread only
  bool can_stride_ = true;       // false once the backend is seen writing GPU frames
  std::vector<Frame> anchors_;   // decoded anchor frames of a strided pair (reused)
  DecodePlan logged_plan_;       // the plan the log last reported
  mutable std::mutex stats_mutex_;
  InterpolationStats stats_;
  Worker worker_;  // last: its thread stops before the members it uses go
};

}  // namespace dw::pipeline
