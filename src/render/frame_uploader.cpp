#include "render/frame_uploader.h"

#include <spdlog/spdlog.h>

#include "core/error.h"
#include "render/gl.h"

#if DW_HAVE_CUDA_INTEROP
#include "render/cuda_frame_uploader.h"
#endif

namespace dw::render {
namespace {

class HostFrameUploader final : public FrameUploader {
 public:
  void upload(const Frame& frame, unsigned texture) override {
    DW_CHECK(frame.location == PixelLocation::Host,
             "this build cannot show GPU-resident frames (no CUDA-GL interop)");
    DW_CHECK(frame.host_rgba.size() == static_cast<std::size_t>(frame.width) * frame.height * 4,
             "host frame size does not match its pixel buffer");
    DW_GL_CHECK(glBindTexture(GL_TEXTURE_2D, texture));
    DW_GL_CHECK(glPixelStorei(GL_UNPACK_ALIGNMENT, 4));
    DW_GL_CHECK(glTexSubImage2D(GL_TEXTURE_2D, 0, 0, 0, frame.width, frame.height, GL_RGBA,
                                GL_UNSIGNED_BYTE, frame.host_rgba.data()));
  }
};

class DispatchingUploader final : public FrameUploader {
 public:
  DispatchingUploader(std::unique_ptr<FrameUploader> host, std::unique_ptr<FrameUploader> device)
      : host_(std::move(host)), device_(std::move(device)) {}
  void upload(const Frame& frame, unsigned texture) override {
    if (frame.location == PixelLocation::Host || !device_) {
      host_->upload(frame, texture);
    } else {
      device_->upload(frame, texture);
    }
  }
  void release_storage(unsigned texture) override {
    if (device_) device_->release_storage(texture);
  }
  bool accepts_device_frames() const override { return device_ != nullptr; }

 private:
  std::unique_ptr<FrameUploader> host_;
  std::unique_ptr<FrameUploader> device_;
};

}  // namespace

std::unique_ptr<FrameUploader> make_host_frame_uploader() {
  return std::make_unique<HostFrameUploader>();
}

std::unique_ptr<FrameUploader> make_frame_uploader() {
  std::unique_ptr<FrameUploader> device;
#if DW_HAVE_CUDA_INTEROP
  try {
    device = make_cuda_frame_uploader();
  } catch (const std::exception& e) {
    spdlog::warn("render: CUDA-GL interop unavailable ({}); GPU frames cannot be shown", e.what());
  }
#endif
  return std::make_unique<DispatchingUploader>(make_host_frame_uploader(), std::move(device));
}

}  // namespace dw::render
