#include "render/cuda_frame_uploader.h"

#include <deque>
#include <map>
#include <string>
#include <utility>
#include <vector>

// clang-format off
// epoxy first: it provides the GL declarations cuda_gl_interop.h expects.
#include "render/gl.h"
#include <cuda_gl_interop.h>
// clang-format on

#include <spdlog/spdlog.h>

#include "core/cuda_error.h"
#include "kernels/render/frame_to_surface.h"

namespace dw::render {
namespace {

// Surface objects whose kernel may still be running: a surface object must outlive every launch
// that uses it, so each is destroyed only once the event recorded behind its launch has passed
// (checked without waiting at the next upload).
class RetiredSurfaces {
 public:
  ~RetiredSurfaces() {
    for (const Retired& r : retired_) {
      cudaEventSynchronize(r.done);
      cudaDestroySurfaceObject(r.surface);
      cudaEventDestroy(r.done);
    }
    for (cudaEvent_t e : spare_) cudaEventDestroy(e);
  }
  void retire(cudaSurfaceObject_t surface, cudaStream_t stream) {
    cudaEvent_t done = nullptr;
    if (!spare_.empty()) {
      done = spare_.back();
      spare_.pop_back();
    } else if (cudaEventCreateWithFlags(&done, cudaEventDisableTiming) != cudaSuccess) {
      cudaStreamSynchronize(stream);  // no event to wait on: wait here instead, this once
      cudaDestroySurfaceObject(surface);
      DW_CUDA_CHECK(cudaGetLastError());
      return;
    }
    retired_.push_back({surface, done});
    DW_CUDA_CHECK(cudaEventRecord(done, stream));
  }
  void reap() {
    while (!retired_.empty() && cudaEventQuery(retired_.front().done) == cudaSuccess) {
      cudaDestroySurfaceObject(retired_.front().surface);
      spare_.push_back(retired_.front().done);
      retired_.pop_front();
    }
    cudaGetLastError();  // a not-ready query is not an error
  }

 private:
  struct Retired {
    cudaSurfaceObject_t surface;
    cudaEvent_t done;
  };
  std::deque<Retired> retired_;
  std::vector<cudaEvent_t> spare_;
};

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
    const char* renderer = reinterpret_cast<const char*>(glGetString(GL_RENDERER));
    spdlog::info("render: CUDA-GL interop on ({}): GPU frames go straight into GL textures",
                 renderer ? renderer : "?");
  }

  ~CudaFrameUploader() override {
    if (stream_) cudaStreamSynchronize(stream_);
    retired_.reap();
    for (auto& [texture, resource] : resources_) cudaGraphicsUnregisterResource(resource);
    if (stream_) cudaStreamDestroy(stream_);
  }

  // Nothing here waits on the host: the write waits for the frame on the GPU (its ready event),
  // GL waits for the write on the GPU (the unmap is ordered after it on our stream), and the
  // decoder waits for our read on the GPU (the frame's released event, recorded after the
  // write) before it reuses the slot's memory.
  void upload(const Frame& frame, unsigned texture) override {
    DW_CHECK(frame.location == PixelLocation::Device && frame.device.memory,
             "CUDA frame uploader: the frame has no GPU pixels");
    retired_.reap();
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
      ops::frame_to_surface(frame.device.memory.get(), frame.device.format,
                            frame.device.pitch_bytes, frame.width, frame.height, dither_, surface,
                            stream_);
      if (frame.device.released_event)
        DW_CUDA_CHECK(
            cudaEventRecord(static_cast<cudaEvent_t>(frame.device.released_event), stream_));
      retired_.retire(std::exchange(surface, 0), stream_);
    } catch (...) {
      if (surface) cudaDestroySurfaceObject(surface);
      cudaGraphicsUnmapResources(1, &resource, stream_);
      throw;
    }
    DW_CUDA_CHECK(cudaGraphicsUnmapResources(1, &resource, stream_));
  }

  bool accepts_device_frames() const override { return true; }

  void release_storage(unsigned texture) override {
    const auto it = resources_.find(texture);
    if (it == resources_.end()) return;
    // Rare (a size change): let writes into the old storage finish before CUDA lets go of it.
    DW_CUDA_CHECK(cudaStreamSynchronize(stream_));
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
  RetiredSurfaces retired_;
};

}  // namespace

std::unique_ptr<FrameUploader> make_cuda_frame_uploader(bool dither) {
  return std::make_unique<CudaFrameUploader>(dither);
}

}  // namespace dw::render
