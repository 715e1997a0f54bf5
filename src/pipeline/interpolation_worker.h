// InterpolationWorker (std::jthread): turns the ordered stream of keyframes into content frames.
// For each new keyframe k it makes the frames of pair (k-1, k): keyframe k-1 itself (t = 0, shown
// through the same decoder so nothing pops at the boundary) and N in-between frames, all slerped
// and decoded as one batch straight into reserved FrameRing slots, published in order.
// Without a VAE it falls back to a pixel-space crossfade so the show goes on.
//
// What must stay true: frames enter the ring in (keyframe, step) order with no gap; each keyframe
// is encoded once (or its saved latent is used); the worker never holds the VAE while waiting for
// ring space; it stops within one wait interval of its stop request.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <optional>
#include <thread>

#include "core/bounded_queue.h"
#include "core/config_store.h"
#include "core/frame.h"
#include "core/frame_ring.h"
#include "core/image.h"
#include "pipeline/vae_service.h"

namespace dw::pipeline {

struct InterpolationInput {
  std::uint64_t index = 0;
  Image image;
  std::optional<vae::HostTensor> latent;  // raw, [1, C, h, w], when the source saved one
  bool injected = false;
};

struct InterpolationStats {
  std::uint64_t keyframes = 0;
  std::uint64_t pairs = 0;
  std::uint64_t frames = 0;
  std::uint64_t encode_errors = 0;
  std::uint64_t decode_errors = 0;
  double last_pair_ms = 0;  // slerp + decode + write of the last pair
  double last_encode_ms = 0;
  std::uint64_t last_keyframe = 0;
};

class InterpolationWorker {
 public:
  // Called on the worker thread with the middle frame of each pair (host pixels), for the cache.
  using MiddleFrameSink = std::function<void(std::uint64_t keyframe_index, const Image& frame)>;

  InterpolationWorker(VaeService& vae, FrameRing<Frame>& ring, const ConfigStore& config,
                      MiddleFrameSink middle_sink);
  ~InterpolationWorker();

  // Hands over keyframe k (in order). Blocks while the small input queue is full: this is the
  // backpressure that reaches the orchestrator. False when stopped.
  bool submit(InterpolationInput input, std::stop_token stop);

  std::size_t queued() const { return inputs_.size(); }
  InterpolationStats stats() const;
  void stop();

 private:
  struct Keyed {
    std::uint64_t index = 0;
    Image image;
    std::optional<vae::HostTensor> latent;
    bool injected = false;
  };

  void run(std::stop_token stop);
  void encode_if_needed(Keyed& k);
  void emit_pair(const Keyed& a, const Keyed& b, std::stop_token stop);
  bool reserve(std::size_t slots, std::stop_token stop);

  VaeService& vae_;
  FrameRing<Frame>& ring_;
  const ConfigStore& config_;
  MiddleFrameSink middle_sink_;
  BoundedQueue<InterpolationInput> inputs_{2};
  std::uint64_t next_sequence_ = 0;
  mutable std::mutex stats_mutex_;
  InterpolationStats stats_;
  std::jthread thread_;
};

// RGBA8 image <-> [1, 3, H, W] tensor in [0, 1].
vae::HostTensor image_to_tensor(const Image& image);
Image tensor_to_image(const vae::HostTensor& tensor, int batch_index = 0);

}  // namespace dw::pipeline
