// Writing decoded images out as content frames, for the CUDA backend:
//  - GPU-resident frames (the display path, no host copy): each image converted into its frame's
//    reused GPU memory after the stream waited for the display to release it, with the frame's
//    ready event recorded behind it. The whole batch is replaced by the last good frame when the
//    device's non-finite flag is raised, so a bad output is never shown while the host learns of
//    it one run later; a good batch's last frame becomes the new last good frame.
//  - host RGBA8 frames (displays without CUDA-GL interop): one copy per frame, synchronised.
//  - small previews of GPU-resident frames for the cache: shrunk on the GPU, one small copy.
// It counts what crossed to the host. One thread at a time (the backend's caller holds the lock).
#pragma once

#include <cuda_runtime_api.h>

#include <cstdint>
#include <span>

#include "core/frame.h"
#include "core/image.h"
#include "kernels/vae/types.h"
#include "vae/cuda/device_buffer.h"

namespace dw::vae::cuda {

// Where a batch of decoded images is: NHWC [n, h, w, cp] of `type` at `pixels`, whose values map
// to [0, 1] by v * scale + shift.
struct DecodedImages {
  const void* pixels = nullptr;
  DType type = DType::F16;
  Nhwc shape;
  float scale = 1.0f, shift = 0.0f;
};

struct FrameCounters {
  std::uint64_t device_frames = 0;     // GPU-resident frames written
  std::uint64_t host_frames = 0;       // host frames written (one copy each)
  std::uint64_t previews = 0;          // small previews copied to the host
  std::uint64_t replaced_batches = 0;  // batches found non-finite before any host check
};

class FrameWriter {
 public:
  FrameWriter(cudaStream_t stream, DevicePixelFormat format);
  FrameWriter(const FrameWriter&) = delete;
  FrameWriter& operator=(const FrameWriter&) = delete;

  // Whether a batch of frames of this size can be written before its non-finite check is read
  // (a last good frame of that size exists to replace it with).
  bool can_replace(int width, int height) const;
  // What the host knows of the images' non-finite check when their frames are written.
  enum class Check {
    Good,      // read: finite (the batch's last frame becomes the last good frame)
    Bad,       // read: not finite even in fp32 (replaced when a last good frame of the size exists)
    Deferred,  // not read yet: the GPU replaces the batch if the device flag is raised, and keeps
               // its last frame as the last good one if not (needs can_replace)
  };
  // GPU-resident frames, one per image (out.size() == images.shape.n). nonfinite_flag: the device
  // flag of the images' check (read by the GPU for Check::Deferred).
  void write_device(const DecodedImages& images, Check check, const unsigned* nonfinite_flag,
                    std::span<Frame* const> out);
  // Host RGBA8 frames, one per image; returns once they are on the host.
  void write_host(const DecodedImages& images, std::span<Frame* const> out);
  // A small host copy of a GPU-resident frame written here (waits for it).
  Image preview(const Frame& frame, int max_side);
  // Counts a batch that the deferred check found non-finite (it was replaced on the GPU).
  void count_replaced_batch() { ++counters_.replaced_batches; }
  const FrameCounters& counters() const { return counters_; }

 private:
  std::size_t frame_bytes(int width, int height, std::size_t& pitch) const;
  void ensure_storage(Frame& frame, std::size_t bytes);
  void write_one(const DecodedImages& images, int index, Frame& frame);

  cudaStream_t stream_;
  DevicePixelFormat format_;
  DeviceBuffer staging_;    // host frames' RGBA8 before the copy, previews before theirs
  DeviceBuffer last_good_;  // the last frame of the last batch found finite, in format_
  int last_good_width_ = 0, last_good_height_ = 0;
  FrameCounters counters_;
};

}  // namespace dw::vae::cuda
