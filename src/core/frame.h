// A content frame: what travels through the frame ring from the decoder to the presenter.
// Slots are allocated once and reused; a frame's pixels live either in host memory (RGBA8) or on
// the GPU (written by the CUDA backend). The presenter uploads either kind without caring which.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

namespace dw {

enum class PixelLocation : std::uint8_t { Host, Device };

// Layout of a GPU-resident frame. The CUDA backend owns the memory; the presenter's interop path
// turns it into the on-screen texture with one kernel (and optional dithering).
enum class DevicePixelFormat : std::uint8_t {
  Rgba8,         // packed RGBA8, `pitch_bytes` per row
  PlanarF16Unit  // fp16 planes [3, H, W] in [0, 1], `pitch_bytes` per plane row
};

struct DeviceImage {
  std::shared_ptr<void> memory;  // keeps the allocation alive; freed by the backend's deleter
  std::size_t capacity_bytes = 0;
  DevicePixelFormat format = DevicePixelFormat::Rgba8;
  std::size_t pitch_bytes = 0;
  // The CUDA event (cudaEvent_t) recorded after the write; the reader waits on it before use.
  void* ready_event = nullptr;
  // The CUDA event (cudaEvent_t) the reader records after its last read of the pixels; the
  // writer's stream waits on it before writing the slot again. Neither side waits on the host:
  // the slot can go back to the writer while the GPU is still reading it.
  void* released_event = nullptr;
};

// Where a frame sits in the stream: keyframe k is step 0 of pair k; steps 1..steps_in_pair-1 are
// the in-between frames of pair (k, k+1).
struct FrameInfo {
  std::uint64_t sequence = 0;        // strictly increasing over the whole run
  std::uint64_t keyframe_index = 0;  // k
  std::uint32_t step = 0;
  std::uint32_t steps_in_pair = 1;
  float t = 0.0f;         // interpolation position in [0, 1)
  bool injected = false;  // keyframe k was injected from the cache
  // Keyframes k and k+1 look the same (a server answering one graph twice, a loop gone still):
  // the pair would stand still, so the presenter moves it itself (render/idle_motion.h).
  bool still = false;
  // The first keyframe as it is, shown at once while the first pair is made (not part of the
  // stream's sequence: the pair's first frame follows with the same sequence number).
  bool poster = false;
};

struct Frame {
  int width = 0;
  int height = 0;
  PixelLocation location = PixelLocation::Host;
  std::vector<std::uint8_t> host_rgba;  // width * height * 4 when location == Host
  DeviceImage device;                   // when location == Device
  FrameInfo info;

  // Makes the host buffer hold w*h RGBA pixels, allocating only when it must grow.
  void resize_host(int w, int h) {
    width = w;
    height = h;
    location = PixelLocation::Host;
    host_rgba.resize(static_cast<std::size_t>(w) * static_cast<std::size_t>(h) * 4);
  }
};

}  // namespace dw
