#include "pipeline/interpolation_worker.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <cmath>

#include "vae/pixels.h"

namespace dw::pipeline {
namespace {

constexpr auto kWaitSlice = std::chrono::milliseconds(200);
// The longer side of the cache's copy of a GPU-resident middle frame. The cache's features look
// at no more than 256 pixels per axis (HSV histogram) and a 32x32 box-filtered luma (hash), so 512
// keeps what they see, while an injected entry, stretched to the stream's size, keeps detail to
// grow from.
constexpr int kCachePreviewSide = 512;

double ms_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start)
      .count();
}

// Pixel-space stand-in for slerp + decode when no VAE is configured (or it failed): a plain
// crossfade, written into the slot's reused host buffer.
void crossfade_into(const Image& a, const Image& b, float t, Frame& out) {
  out.resize_host(a.width, a.height);
  const float s = 1.0f - t;
  for (std::size_t i = 0; i < out.host_rgba.size(); ++i)
    out.host_rgba[i] = static_cast<std::uint8_t>(std::lround(a.rgba[i] * s + b.rgba[i] * t));
}

Image host_frame_to_image(const Frame& f) {
  Image img;
  img.width = f.width;
  img.height = f.height;
  img.rgba = f.host_rgba;
  return img;
}

}  // namespace

InterpolationWorker::InterpolationWorker(VaeService& vae, FrameRing<Frame>& ring,
                                         LiveSection<InterpolationConfig> config,
                                         MiddleFrameSink middle_sink, WorkerFaultHook fault)
    : vae_(vae),
      ring_(ring),
      config_(std::move(config)),
      middle_sink_(std::move(middle_sink)),
      worker_("interpolation", std::move(fault)) {
  worker_.start([this](std::stop_token stop) { step(stop); });
}

InterpolationWorker::~InterpolationWorker() {
  stop();
}

void InterpolationWorker::stop() {
  worker_.stop();
}

bool InterpolationWorker::submit(Keyframe keyframe, std::stop_token stop) {
  const int n = config_.get()->frames_between;
  const std::size_t frames = first_submitted_ ? static_cast<std::size_t>(n) + 1 : 0;
  owed_frames_ += frames;
  if (!inputs_.push(Queued{std::move(keyframe), n, frames}, WhenFull::Block, stop)) {
    owed_frames_ -= frames;
    return false;
  }
  first_submitted_ = true;
  return true;
}

InterpolationStats InterpolationWorker::stats() const {
  std::lock_guard lock(stats_mutex_);
  return stats_;
}

void InterpolationWorker::encode_if_needed(Keyframe& k) {
  if (k.latent || !vae_.available()) return;
  const auto start = std::chrono::steady_clock::now();
  try {
    const vae::HostTensor pixels = vae::image_to_tensor(k.image);
    k.latent = vae_.with([&](vae::VaeBackend& b) { return b.encode(pixels); });
    std::lock_guard lock(stats_mutex_);
    stats_.last_encode_ms = ms_since(start);
  } catch (const Cancelled&) {
    // shutting down: the pair will not be made
  } catch (const std::exception& e) {
    // The pair falls back to a pixel crossfade; the stream keeps its frames.
    spdlog::error("interpolation: encoding keyframe {} failed: {}", k.index, e.what());
    std::lock_guard lock(stats_mutex_);
    ++stats_.encode_errors;
    stats_.last_error = e.what();
  }
}

bool InterpolationWorker::reserve(std::size_t slots, std::stop_token stop) {
  while (!stop.stop_requested()) {
    if (ring_.wait_for_space(stop, kWaitSlice, slots)) return true;
  }
  return false;
}

void InterpolationWorker::emit_pair(const Keyframe& a, const Keyframe& b, int n,
                                    std::stop_token stop, std::size_t& written) {
  const auto config = config_.get();
  const Easing easing = config->easing;
  vae::SlerpOptions options;
  options.mean_center = config->mean_center;

  const std::size_t total = static_cast<std::size_t>(n) + 1;
  std::vector<float> ts(total);
  ts[0] = 0.0f;
  for (int i = 1; i <= n; ++i) ts[i] = vae::eased_t(i, n, easing);
  const std::size_t middle = total / 2;
  const std::size_t batch_limit = std::max<std::size_t>(1, ring_.capacity() / 2);
  const bool latent_path = vae_.available() && a.latent && b.latent;

  const auto start = std::chrono::steady_clock::now();
  for (std::size_t first = 0; first < total; first += batch_limit) {
    const std::size_t count = std::min(batch_limit, total - first);
    if (!reserve(count, stop)) return;
    std::vector<Frame*> slots(count);
    for (std::size_t i = 0; i < count; ++i) slots[i] = ring_.writable(i);
    const std::span<const float> batch_t(ts.data() + first, count);
    bool decoded = false;
    if (latent_path) {
      try {
        vae_.with([&](vae::VaeBackend& backend) {
          backend.interpolate_to_frames(*a.latent, *b.latent, batch_t, options, slots);
        });
        decoded = true;
      } catch (const Cancelled&) {
        return;  // shutting down
      } catch (const std::exception& e) {
        spdlog::error("interpolation: decoding pair ({}, {}) failed: {}; crossfading instead",
                      a.index, b.index, e.what());
        std::lock_guard lock(stats_mutex_);
        ++stats_.decode_errors;
        stats_.last_error = e.what();
      }
    }
    if (!decoded)
      for (std::size_t i = 0; i < count; ++i)
        crossfade_into(a.image, b.image, batch_t[i], *slots[i]);
    for (std::size_t i = 0; i < count; ++i) {
      FrameInfo& info = slots[i]->info;
      info.sequence = next_sequence_++;
      info.keyframe_index = a.index;
      info.step = static_cast<std::uint32_t>(first + i);
      info.steps_in_pair = static_cast<std::uint32_t>(total);
      info.t = batch_t[i];
      info.injected = a.injected && first + i == 0;
    }
    // The middle frame goes to the cache before the slot is published (after that the render
    // thread may reuse it at any time).
    if (middle_sink_ && middle >= first && middle < first + count && total > 1) {
      const Frame& f = *slots[middle - first];
      try {
        if (f.location == PixelLocation::Host) {
          middle_sink_(a.index, host_frame_to_image(f));
        } else {
          // GPU-resident: a small copy shrunk on the GPU, not a second slerp and decode.
          middle_sink_(a.index, vae_.with([&](vae::VaeBackend& backend) {
            return backend.frame_preview(f, kCachePreviewSide);
          }));
        }
      } catch (const std::exception& e) {
        spdlog::warn("interpolation: middle frame of pair {} not cached: {}", a.index, e.what());
      }
    }
    ring_.commit_write(count);
    owed_frames_ -= count;
    written += count;
    std::lock_guard lock(stats_mutex_);
    stats_.frames += count;
  }
  std::lock_guard lock(stats_mutex_);
  ++stats_.pairs;
  stats_.last_pair_ms = ms_since(start);
}

void InterpolationWorker::step(std::stop_token stop) {
  auto input = inputs_.pop(stop, kWaitSlice);
  if (!input) return;
  Keyframe current = std::move(input->keyframe);
  if (previous_ && (current.image.width != previous_->image.width ||
                    current.image.height != previous_->image.height)) {
    // A source switch can change the keyframe size: the stream keeps the size it has.
    current.image = resize_cover(current.image, previous_->image.width, previous_->image.height);
    current.latent.reset();
  }
  encode_if_needed(current);
  {
    std::lock_guard lock(stats_mutex_);
    ++stats_.keyframes;
    stats_.last_keyframe = current.index;
  }
  std::size_t written = 0;  // counted by emit_pair as frames reach the ring
  if (previous_) {
    try {
      emit_pair(*previous_, current, input->frames_between, stop, written);
    } catch (const Cancelled&) {
      owed_frames_ -= input->frames - written;
      throw;
    } catch (const std::exception& e) {
      spdlog::error("interpolation: pair ({}, {}): {}", previous_->index, current.index, e.what());
    }
  }
  // Frames of this pair that will never come (an error, or stopping) are owed no more.
  owed_frames_ -= input->frames - written;
  previous_ = std::move(current);
}

}  // namespace dw::pipeline
