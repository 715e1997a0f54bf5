#include "render/cuda_frame_uploader.h"

#include <map>
#include <string>

// clang-format off
// epoxy first: it provides the GL declarations cuda_gl_interop.h expects.
#include "render/gl.h"
#include <cuda_gl_interop.h>
// clang-format on

#include "core/cuda_error.h"
#include "render/cuda_frame_kernels.h"

namespace dw::render {
namespace {

class CudaFrameUploader final : public FrameUploader {
 public:
  explicit CudaFrameUploader(bool dither) : dither_(dither) {
    int devices = 0;
    if (cudaGetDeviceCount(&devices) != cudaSuccess || devices == 0) {
      cudaGetLastError();
      throw Error("no CUDA device for CUDA-GL interop");
    }
    probe_interop();
    DW_CUDA_CHECK(cudaStreamCreateWithFlags(&stream_, cudaStreamNonBlocking));
  }

  ~CudaFrameUploader() override {
    for (auto& [texture, resource] : resources_) cudaGraphicsUnregisterResource(resource);
    if (stream_) {
      cudaStreamSynchronize(stream_);
      cudaStreamDestroy(stream_);
    }
  }

  void upload(const Frame& frame, unsigned texture) override {
    DW_CHECK(frame.location == PixelLocation::Device && frame.device.memory,
             "CUDA frame uploader: the frame has no GPU pixels");
    cudaGraphicsResource_t resource = registered(texture);
    if (frame.device.ready_event)
      DW_CUDA_CHECK(
          cudaStreamWaitEvent(stream_, static_cast<cudaEvent_t>(frame.device.ready_event), 0));
    DW_CUDA_CHECK(cudaGraphicsMapResources(1, &resource, stream_));
    cudaSurfaceObject_t surface = 0;
    try {
      cudaArray_t array = nullptr;
      DW_CUDA_CHECK(cudaGraphicsSubResourceGetMappedArray(&array, resource, 0, 0));
      cudaResourceDesc desc{};
      desc.resType = cudaResourceTypeArray;
      desc.res.array.array = array;
      DW_CUDA_CHECK(cudaCreateSurfaceObject(&surface, &desc));
      launch_frame_to_surface(frame.device.memory.get(), frame.device.format,
                              frame.device.pitch_bytes, frame.width, frame.height, dither_, surface,
                              stream_);
    } catch (...) {
      if (surface) cudaDestroySurfaceObject(surface);
      cudaGraphicsUnmapResources(1, &resource, stream_);
      throw;
    }
    DW_CUDA_CHECK(cudaDestroySurfaceObject(surface));
    // Unmapping orders the write before any GL call that follows. Waiting for the stream keeps
    // the frame's memory ours until the copy has read it: the slot goes back to the decoder as
    // soon as this returns (a copy of one frame: tens of microseconds).
    DW_CUDA_CHECK(cudaGraphicsUnmapResources(1, &resource, stream_));
    DW_CUDA_CHECK(cudaStreamSynchronize(stream_));
  }

  bool accepts_device_frames() const override { return true; }

  void release_storage(unsigned texture) override {
    const auto it = resources_.find(texture);
    if (it == resources_.end()) return;
    DW_CUDA_CHECK(cudaGraphicsUnregisterResource(it->second));
    resources_.erase(it);
  }

 private:
  // A CUDA device is not enough: the current GL context must be on the same driver (Mesa under
  // Xvfb on a GPU machine is not). Registering a 1x1 texture once tells; when it fails the app
  // keeps host frames instead of finding out at the first frame.
  static void probe_interop() {
    GLuint texture = 0;
    glGenTextures(1, &texture);
    glBindTexture(GL_TEXTURE_2D, texture);
    glTexImage2D(GL_TEXTURE_2D, 0, GL_RGBA8, 1, 1, 0, GL_RGBA, GL_UNSIGNED_BYTE, nullptr);
    cudaGraphicsResource_t resource = nullptr;
    const cudaError_t status = cudaGraphicsGLRegisterImage(
        &resource, texture, GL_TEXTURE_2D,
        cudaGraphicsRegisterFlagsWriteDiscard | cudaGraphicsRegisterFlagsSurfaceLoadStore);
    if (status == cudaSuccess) cudaGraphicsUnregisterResource(resource);
    glBindTexture(GL_TEXTURE_2D, 0);
    glDeleteTextures(1, &texture);
    if (status != cudaSuccess) {
      cudaGetLastError();
      const char* vendor = reinterpret_cast<const char*>(glGetString(GL_VENDOR));
      throw Error(std::string("CUDA cannot register this GL context's textures (") +
                  cudaGetErrorString(status) + ", GL vendor " + (vendor ? vendor : "?") + ")");
    }
  }

  cudaGraphicsResource_t registered(unsigned texture) {
    auto& resource = resources_[texture];
    if (!resource) {
      const cudaError_t status = cudaGraphicsGLRegisterImage(
          &resource, texture, GL_TEXTURE_2D,
          cudaGraphicsRegisterFlagsWriteDiscard | cudaGraphicsRegisterFlagsSurfaceLoadStore);
      if (status != cudaSuccess) {
        resources_.erase(texture);
        DW_CUDA_CHECK(status);
      }
    }
    return resource;
  }

  bool dither_;
  cudaStream_t stream_ = nullptr;
  std::map<unsigned, cudaGraphicsResource_t> resources_;
};

}  // namespace

std::unique_ptr<FrameUploader> make_cuda_frame_uploader(bool dither) {
  return std::make_unique<CudaFrameUploader>(dither);
}

}  // namespace dw::render
