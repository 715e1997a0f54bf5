#include "pipeline/interpolation_worker.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <cmath>

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

vae::HostTensor image_to_tensor(const Image& image) {
  vae::HostTensor t(1, 3, image.height, image.width);
  const std::size_t plane = t.plane();
  for (int c = 0; c < 3; ++c) {
    float* out = t.data.data() + c * plane;
    const std::uint8_t* in = image.rgba.data() + c;
    for (std::size_t i = 0; i < plane; ++i) out[i] = in[i * 4] * (1.0f / 255.0f);
  }
  return t;
}

Image tensor_to_image(const vae::HostTensor& tensor, int batch_index) {
  DW_CHECK(tensor.c == 3 && batch_index < tensor.n, "tensor_to_image needs [N, 3, H, W]");
  Image img;
  img.width = tensor.w;
  img.height = tensor.h;
  img.rgba.resize(tensor.plane() * 4);
  const float* base = tensor.at(batch_index, 0);
  const std::size_t plane = tensor.plane();
  for (std::size_t i = 0; i < plane; ++i) {
    for (int c = 0; c < 3; ++c)
      img.rgba[i * 4 + c] = static_cast<std::uint8_t>(
          std::lround(std::clamp(base[c * plane + i], 0.0f, 1.0f) * 255.0f));
    img.rgba[i * 4 + 3] = 255;
  }
  return img;
}

InterpolationWorker::InterpolationWorker(VaeService& vae, FrameRing<Frame>& ring,
                                         const ConfigStore& config, MiddleFrameSink middle_sink)
    : vae_(vae), ring_(ring), config_(config), middle_sink_(std::move(middle_sink)) {
  thread_ = std::jthread([this](std::stop_token stop) { run(stop); });
}

InterpolationWorker::~InterpolationWorker() {
  stop();
}

void InterpolationWorker::stop() {
  thread_.request_stop();
  if (thread_.joinable()) thread_.join();
}

bool InterpolationWorker::submit(InterpolationInput input, std::stop_token stop) {
  return inputs_.push(std::move(input), WhenFull::Block, stop);
}

InterpolationStats InterpolationWorker::stats() const {
  std::lock_guard lock(stats_mutex_);
  return stats_;
}

void InterpolationWorker::encode_if_needed(Keyed& k) {
  if (k.latent || !vae_.available()) return;
  const auto start = std::chrono::steady_clock::now();
  try {
    const vae::HostTensor pixels = image_to_tensor(k.image);
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
  }
}

bool InterpolationWorker::reserve(std::size_t slots, std::stop_token stop) {
  while (!stop.stop_requested()) {
    if (ring_.wait_for_space(stop, kWaitSlice, slots)) return true;
  }
  return false;
}

void InterpolationWorker::emit_pair(const Keyed& a, const Keyed& b, std::stop_token stop) {
  const auto config = config_.get();
  const int n = config->interpolation.frames_between;
  const Easing easing = config->interpolation.easing;
  vae::SlerpOptions options;
  options.mean_center = config->interpolation.mean_center;

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
    std::lock_guard lock(stats_mutex_);
    stats_.frames += count;
  }
  std::lock_guard lock(stats_mutex_);
  ++stats_.pairs;
  stats_.last_pair_ms = ms_since(start);
}

void InterpolationWorker::run(std::stop_token stop) {
  std::optional<Keyed> previous;
  while (!stop.stop_requested()) {
    auto input = inputs_.pop(stop, kWaitSlice);
    if (!input) continue;
    Keyed current{input->index, std::move(input->image), std::move(input->latent), input->injected};
    if (previous && (current.image.width != previous->image.width ||
                     current.image.height != previous->image.height)) {
      // A source switch can change the keyframe size: the stream keeps the size it has.
      current.image = resize_cover(current.image, previous->image.width, previous->image.height);
      current.latent.reset();
    }
    encode_if_needed(current);
    {
      std::lock_guard lock(stats_mutex_);
      ++stats_.keyframes;
      stats_.last_keyframe = current.index;
    }
    if (previous) {
      try {
        emit_pair(*previous, current, stop);
      } catch (const std::exception& e) {
        spdlog::error("interpolation: pair ({}, {}): {}", previous->index, current.index, e.what());
      }
    }
    previous = std::move(current);
  }
}

}  // namespace dw::pipeline
