#include "pipeline/interpolation_worker.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <cmath>

#include "pipeline/picture_ops.h"
#include "vae/pixels.h"

namespace dw::pipeline {
namespace {

constexpr auto kWaitSlice = std::chrono::milliseconds(200);
// The longer side of the cache's copy of a GPU-resident middle frame. The cache's features look
// at no more than 256 pixels per axis (HSV histogram) and a 32x32 box-filtered luma (hash), so 512
// keeps what they see, while an injected entry, stretched to the stream's size, keeps detail to
// grow from.
constexpr int kCachePreviewSide = 512;
// Keyframes closer than this (mean RGB difference, levels) make a pair with nothing visible to
// morph: its frames are marked still (FrameInfo::still).
constexpr double kStillPairLevels = 1.5;

double ms_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start)
      .count();
}

// Pixel-space stand-in for slerp + decode when no VAE is configured (or it failed): a plain
// crossfade, written into the slot's reused host buffer.
void crossfade_into(const std::vector<std::uint8_t>& a, const std::vector<std::uint8_t>& b, int w,
                    int h, float t, Frame& out) {
  out.resize_host(w, h);
  const float s = 1.0f - t;
  for (std::size_t i = 0; i < out.host_rgba.size(); ++i)
    out.host_rgba[i] = static_cast<std::uint8_t>(std::lround(a[i] * s + b[i] * t));
}

void crossfade_into(const Image& a, const Image& b, float t, Frame& out) {
  crossfade_into(a.rgba, b.rgba, a.width, a.height, t, out);
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
                                         MiddleFrameSink middle_sink, WorkerFaultHook fault,
                                         LiveSection<DisplayConfig> display)
    : vae_(vae),
      ring_(ring),
      config_(std::move(config)),
      display_(std::move(display)),
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
  // Without an encoder the pair is a pixel crossfade (said once, when the VAE was loaded).
  if (k.latent || !vae_.can_encode()) return;
  const auto start = std::chrono::steady_clock::now();
  try {
    const vae::HostTensor pixels = vae::image_to_tensor(k.image);
    k.latent = vae_.with([&](vae::VaeBackend& b) { return b.encode(pixels); });
    const double ms = ms_since(start);
    controller_.record_encode(ms / 1000.0);
    std::lock_guard lock(stats_mutex_);
    stats_.last_encode_ms = ms;
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

void InterpolationWorker::decode_failed(const Keyframe& a, const Keyframe& b,
                                        const std::exception& e) {
  spdlog::error("interpolation: decoding pair ({}, {}) failed: {}; crossfading instead", a.index,
                b.index, e.what());
  std::lock_guard lock(stats_mutex_);
  ++stats_.decode_errors;
  stats_.last_error = e.what();
}

void InterpolationWorker::label_frames(const Keyframe& a, std::size_t first, std::size_t total,
                                       std::span<const float> ts, bool still,
                                       std::span<Frame* const> slots) {
  for (std::size_t i = 0; i < slots.size(); ++i) {
    FrameInfo& info = slots[i]->info;
    info = FrameInfo{};
    info.sequence = next_sequence_++;
    info.keyframe_index = a.index;
    info.step = static_cast<std::uint32_t>(first + i);
    info.steps_in_pair = static_cast<std::uint32_t>(total);
    info.t = ts[i];
    info.injected = a.injected && first + i == 0;
    info.still = still;
  }
}

void InterpolationWorker::send_middle(std::uint64_t keyframe, const Frame& f) {
  if (!middle_sink_) return;
  try {
    if (f.location == PixelLocation::Host) {
      middle_sink_(keyframe, host_frame_to_image(f));
    } else {
      // GPU-resident: a small copy shrunk on the GPU, not a second slerp and decode.
      middle_sink_(keyframe, vae_.with([&](vae::VaeBackend& backend) {
        return backend.frame_preview(f, kCachePreviewSide);
      }));
    }
  } catch (const std::exception& e) {
    spdlog::warn("interpolation: middle frame of pair {} not cached: {}", keyframe, e.what());
  }
}

void InterpolationWorker::emit_poster(const Keyframe& k, std::stop_token stop) {
  if (k.image.width <= 0 || !reserve(1, stop)) return;
  Frame& f = *ring_.writable(0);
  crossfade_into(k.image, k.image, 0.0f, f);
  f.info = FrameInfo{};
  f.info.sequence = next_sequence_;  // not a stream frame: the pair's first frame follows it
  f.info.keyframe_index = k.index;
  f.info.poster = true;
  ring_.commit_write(1);
}

void InterpolationWorker::decode_batch(const Keyframe& a, const Keyframe& b,
                                       std::span<const float> ts, const vae::SlerpOptions& options,
                                       std::span<Frame* const> slots) {
  const auto start = std::chrono::steady_clock::now();
  vae_.with([&](vae::VaeBackend& backend) {
    backend.interpolate_to_frames(*a.latent, *b.latent, ts, options, slots);
  });
  controller_.record_decode(ms_since(start) / 1000.0, ts.size());
}

bool InterpolationWorker::decode_anchors(const Keyframe& a, const Keyframe& b,
                                         const std::vector<float>& ts, std::size_t stride,
                                         const vae::SlerpOptions& options) {
  std::vector<float> anchor_t;
  for (std::size_t i = 0; i < ts.size(); i += stride) anchor_t.push_back(ts[i]);
  anchor_t.push_back(1.0f);  // the pair's end: keyframe b, the right neighbour of the last frames
  anchors_.resize(anchor_t.size());
  std::vector<Frame*> out(anchors_.size());
  for (std::size_t i = 0; i < anchors_.size(); ++i) out[i] = &anchors_[i];
  decode_batch(a, b, anchor_t, options, out);
  if (std::all_of(anchors_.begin(), anchors_.end(),
                  [](const Frame& f) { return f.location == PixelLocation::Host; }))
    return true;
  can_stride_ = false;  // GPU frames: the backend is fast enough to decode every frame
  return false;
}

void InterpolationWorker::blend_from_anchors(const std::vector<float>& ts, std::size_t stride,
                                             std::size_t first,
                                             std::span<Frame* const> slots) const {
  for (std::size_t s = 0; s < slots.size(); ++s) {
    const std::size_t i = first + s;
    const std::size_t left = i / stride;
    const float t0 = ts[left * stride];
    const float t1 = (left + 1) * stride < ts.size() ? ts[(left + 1) * stride] : 1.0f;
    const float w = t1 > t0 ? std::clamp((ts[i] - t0) / (t1 - t0), 0.0f, 1.0f) : 0.0f;
    const Frame& l = anchors_[left];
    const Frame& r = anchors_[left + 1];
    crossfade_into(l.host_rgba, r.host_rgba, l.width, l.height, w, *slots[s]);
  }
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
  const bool still = mean_abs_difference(a.image, b.image) < kStillPairLevels;

  const auto start = std::chrono::steady_clock::now();
  DecodePlan plan;
  plan.decoded = 0;
  if (latent_path) plan = controller_.plan(total, display_.get()->content_fps, can_stride_);
  bool strided = false;
  if (latent_path && plan.stride > 1) {
    try {
      strided = decode_anchors(a, b, ts, plan.stride, options);
    } catch (const Cancelled&) {
      return;
    } catch (const std::exception& e) {
      decode_failed(a, b, e);
    }
    if (!strided) plan = DecodePlan{};
  }
  for (std::size_t first = 0; first < total; first += batch_limit) {
    const std::size_t count = std::min(batch_limit, total - first);
    if (!reserve(count, stop)) return;
    std::vector<Frame*> slots(count);
    for (std::size_t i = 0; i < count; ++i) slots[i] = ring_.writable(i);
    const std::span<const float> batch_t(ts.data() + first, count);
    bool decoded = false;
    if (strided) {
      blend_from_anchors(ts, plan.stride, first, slots);
      decoded = true;
    } else if (latent_path) {
      try {
        decode_batch(a, b, batch_t, options, slots);
        decoded = true;
      } catch (const Cancelled&) {
        return;  // shutting down
      } catch (const std::exception& e) {
        decode_failed(a, b, e);
      }
    }
    if (!decoded)
      for (std::size_t i = 0; i < count; ++i)
        crossfade_into(a.image, b.image, batch_t[i], *slots[i]);
    label_frames(a, first, total, batch_t, still, slots);
    // The middle frame goes to the cache before the slot is published (after that the render
    // thread may reuse it at any time).
    if (middle >= first && middle < first + count && total > 1)
      send_middle(a.index, *slots[middle - first]);
    ring_.commit_write(count);
    owed_frames_ -= count;
    written += count;
    std::lock_guard lock(stats_mutex_);
    stats_.frames += count;
  }
  if (latent_path &&
      (plan.stride != logged_plan_.stride || plan.keeps_up != logged_plan_.keeps_up)) {
    spdlog::info(
        "interpolation: VAE decodes {:.1f} frames/s; decoding {} of {} frames per pair{}",
        controller_.decode_fps(), plan.decoded ? plan.decoded : total, total,
        plan.keeps_up ? "" : " (still slower than playback: the stream slows to its pace)");
    logged_plan_ = plan;
  }
  std::lock_guard lock(stats_mutex_);
  ++stats_.pairs;
  stats_.last_pair_ms = ms_since(start);
  stats_.decode_stride = latent_path ? plan.stride : 1;
  stats_.decoded_per_pair = latent_path ? (plan.decoded ? plan.decoded : total) : 0;
  stats_.vae_decode_fps = controller_.decode_fps();
  stats_.vae_keeps_up = plan.keeps_up;
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
  if (!poster_sent_) {
    emit_poster(current, stop);  // a picture to move at once, before the first encode
    poster_sent_ = true;
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
