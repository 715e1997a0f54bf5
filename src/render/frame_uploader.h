// Moves a content frame's pixels into a GL texture. Host frames go up with glTexSubImage2D;
// GPU-resident frames (from the CUDA backend) go through CUDA-GL interop without touching host
// memory (src/render/cuda_frame_uploader.*, built only with CUDA). The presenter does not care
// which kind of frame it got. Main thread only.
#pragma once

#include <memory>

#include "core/frame.h"

namespace dw::render {

class FrameUploader {
 public:
  virtual ~FrameUploader() = default;
  // Copies `frame` into `texture`, whose storage is RGBA8 of exactly the frame's size.
  virtual void upload(const Frame& frame, unsigned texture) = 0;
  // The texture's storage is about to be re-specified (or the texture deleted): release anything
  // held on it (a CUDA registration, say). Call before glTexImage2D; the next upload renews it.
  virtual void release_storage(unsigned texture) { (void)texture; }
  // True when GPU-resident frames can be uploaded (CUDA-GL interop works here).
  virtual bool accepts_device_frames() const { return false; }
};

// Host frames only.
std::unique_ptr<FrameUploader> make_host_frame_uploader();
// Host frames through the host path, device frames through CUDA-GL interop when this build and
// machine have it (else a device frame is an error that names why).
std::unique_ptr<FrameUploader> make_frame_uploader();

}  // namespace dw::render
