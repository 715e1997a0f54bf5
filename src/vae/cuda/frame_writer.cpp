#include "vae/cuda/frame_writer.h"

#include "kernels/vae/frames.h"
#include "kernels/vae/nonfinite.h"
#include "vae/cuda/cuda_check.h"
#include "vae/pixels.h"

namespace dw::vae::cuda {
namespace {

// A GPU-resident frame's pixels and its two events, freed together when the last Frame holding
// them lets go.
struct FrameStorage {
  void* pixels = nullptr;
  cudaEvent_t ready = nullptr, released = nullptr;
  ~FrameStorage() {
    // The display or this backend may still use the pixels: cudaFree does not promise to wait.
    if (pixels) cudaDeviceSynchronize();
    if (released) cudaEventDestroy(released);
    if (ready) cudaEventDestroy(ready);
    if (pixels) cudaFree(pixels);
    cudaGetLastError();  // as DeviceBuffer: a failure here is not left for the next launch check
  }
};

}  // namespace

FrameWriter::FrameWriter(cudaStream_t stream, DevicePixelFormat format)
    : stream_(stream), format_(format) {}

std::size_t FrameWriter::frame_bytes(int width, int height, std::size_t& pitch) const {
  const bool rgba = format_ == DevicePixelFormat::Rgba8;
  pitch = static_cast<std::size_t>(width) * (rgba ? 4 : 2);
  return pitch * height * (rgba ? 1 : 3);
}

bool FrameWriter::can_replace(int width, int height) const {
  return last_good_.get() != nullptr && last_good_width_ == width && last_good_height_ == height;
}

// Reuses the frame's GPU memory when it is big enough (slots are reused); new storage and its
// events are made only for a slot's first GPU frame or a larger size.
void FrameWriter::ensure_storage(Frame& frame, std::size_t bytes) {
  DeviceImage& d = frame.device;
  if (d.memory && d.ready_event && d.released_event && d.capacity_bytes >= bytes) return;
  auto storage = std::make_shared<FrameStorage>();
  DW_CUDA_CHECK(cudaMalloc(&storage->pixels, bytes));
  DW_CUDA_CHECK(cudaEventCreateWithFlags(&storage->ready, cudaEventDisableTiming));
  DW_CUDA_CHECK(cudaEventCreateWithFlags(&storage->released, cudaEventDisableTiming));
  d.memory = std::shared_ptr<void>(storage, storage->pixels);
  d.capacity_bytes = bytes;
  d.ready_event = storage->ready;
  d.released_event = storage->released;
}

void FrameWriter::write_one(const DecodedImages& images, int index, Frame& frame) {
  const Nhwc s = images.shape;
  std::size_t pitch = 0;
  ensure_storage(frame, frame_bytes(s.w, s.h, pitch));
  // The display may still be reading this slot's previous frame: the GPU waits, not the host.
  DW_CUDA_CHECK(
      cudaStreamWaitEvent(stream_, static_cast<cudaEvent_t>(frame.device.released_event), 0));
  const std::size_t item_bytes = s.elements() / s.n * dtype_size(images.type);
  const char* image = static_cast<const char*>(images.pixels) + index * item_bytes;
  if (format_ == DevicePixelFormat::Rgba8)
    ops::nhwc_to_rgba8(images.type, image, s.cp, s.h, s.w, images.scale, images.shift,
                       static_cast<std::uint8_t*>(frame.device.memory.get()), pitch, stream_);
  else
    ops::nhwc_to_planar_f16(images.type, image, s.cp, s.h, s.w, images.scale, images.shift,
                            frame.device.memory.get(), pitch, stream_);
  frame.width = s.w;
  frame.height = s.h;
  frame.location = PixelLocation::Device;
  frame.device.format = format_;
  frame.device.pitch_bytes = pitch;
}

void FrameWriter::write_device(const DecodedImages& images, Check check,
                               const unsigned* nonfinite_flag, std::span<Frame* const> out) {
  const Nhwc s = images.shape;
  DW_CHECK(out.size() == static_cast<std::size_t>(s.n), "FrameWriter: one frame per image");
  DW_CHECK(check != Check::Deferred || (nonfinite_flag && can_replace(s.w, s.h)),
           "FrameWriter: a deferred check needs the flag and a last good frame of this size");
  std::size_t pitch = 0;
  const std::size_t bytes = frame_bytes(s.w, s.h, pitch);
  const bool replace_all = check == Check::Bad && can_replace(s.w, s.h);
  for (int i = 0; i < s.n; ++i) {
    Frame& frame = *out[i];
    write_one(images, i, frame);
    void* pixels = frame.device.memory.get();
    if (check == Check::Deferred)
      ops::copy_if_flag(nonfinite_flag, true, pixels, last_good_.get(), bytes, stream_);
    else if (replace_all)
      DW_CUDA_CHECK(
          cudaMemcpyAsync(pixels, last_good_.get(), bytes, cudaMemcpyDeviceToDevice, stream_));
    DW_CUDA_CHECK(cudaEventRecord(static_cast<cudaEvent_t>(frame.device.ready_event), stream_));
  }
  counters_.device_frames += static_cast<std::uint64_t>(s.n);
  // The batch's last frame is the next replacement, unless the batch was (or may be) bad.
  const void* last = out.back()->device.memory.get();
  if (check == Check::Good) {
    if (!can_replace(s.w, s.h)) last_good_ = DeviceBuffer(bytes);
    last_good_width_ = s.w;
    last_good_height_ = s.h;
    DW_CUDA_CHECK(
        cudaMemcpyAsync(last_good_.get(), last, bytes, cudaMemcpyDeviceToDevice, stream_));
  } else if (check == Check::Deferred) {
    ops::copy_if_flag(nonfinite_flag, false, last_good_.get(), last, bytes, stream_);
  }
}

void FrameWriter::write_host(const DecodedImages& images, std::span<Frame* const> out) {
  const Nhwc s = images.shape;
  DW_CHECK(out.size() == static_cast<std::size_t>(s.n), "FrameWriter: one frame per image");
  const std::size_t item_bytes = s.elements() / s.n * dtype_size(images.type);
  const std::size_t pitch = static_cast<std::size_t>(s.w) * 4;
  staging_.reserve(pitch * s.h * out.size());
  for (int i = 0; i < s.n; ++i) {
    Frame& frame = *out[i];
    frame.resize_host(s.w, s.h);
    std::uint8_t* staging = staging_.as<std::uint8_t>() + i * pitch * s.h;
    ops::nhwc_to_rgba8(images.type, static_cast<const char*>(images.pixels) + i * item_bytes, s.cp,
                       s.h, s.w, images.scale, images.shift, staging, pitch, stream_);
    DW_CUDA_CHECK(cudaMemcpyAsync(frame.host_rgba.data(), staging, pitch * s.h,
                                  cudaMemcpyDeviceToHost, stream_));
  }
  DW_CUDA_CHECK(cudaStreamSynchronize(stream_));
  counters_.host_frames += static_cast<std::uint64_t>(s.n);
}

Image FrameWriter::preview(const Frame& frame, int max_side) {
  DW_CHECK(frame.location == PixelLocation::Device && frame.device.memory,
           "cuda backend: frame_preview of a frame with no GPU pixels");
  const ImageSize size = shrunk_size(frame.width, frame.height, max_side);
  Image image(size.width, size.height);
  staging_.reserve(image.rgba.size());
  // Written on this stream: stream order is the wait for its pixels.
  ops::shrink_frame(frame.device.memory.get(), frame.device.format, frame.device.pitch_bytes,
                    frame.width, frame.height, staging_.as<std::uint8_t>(), size.width, size.height,
                    stream_);
  DW_CUDA_CHECK(cudaMemcpyAsync(image.rgba.data(), staging_.get(), image.rgba.size(),
                                cudaMemcpyDeviceToHost, stream_));
  DW_CUDA_CHECK(cudaStreamSynchronize(stream_));
  ++counters_.previews;
  return image;
}

}  // namespace dw::vae::cuda
