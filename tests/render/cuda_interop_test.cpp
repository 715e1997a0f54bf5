// CUDA-GL interop under a real GL context on the NVIDIA driver (EGL, no window): GPU-resident
// frames written into a GL texture through make_frame_uploader(), read back and compared with
// what the host path would show (the kernel: kernels/render/frame_to_surface.cu), without the
// host waiting for the GPU. Skipped with
// the reason when there is no CUDA device, no EGL library, or no EGL OpenGL context on the NVIDIA
// driver.
#include <cuda_fp16.h>
#include <dlfcn.h>
#include <epoxy/egl.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <optional>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "core/cuda_error.h"
#include "render/frame_uploader.h"
#include "render/gl.h"
#include "support/test_support.h"
#include "vae/cuda_backend.h"
#include "vae/model.h"
#include "vae/pixels.h"
#include "vae/slerp.h"

namespace dw::render {
namespace {

// An OpenGL context with a 1x1 pbuffer, on an EGL device when the platform extension exists.
class EglContext {
 public:
  // Empty string: ready; else why not.
  std::string open() {
    // epoxy aborts the process when it cannot load libEGL: look first.
    if (void* lib = dlopen("libEGL.so.1", RTLD_LAZY | RTLD_LOCAL)) {
      dlclose(lib);
    } else {
      return "libEGL.so.1 cannot be loaded";
    }
    if (epoxy_has_egl_extension(EGL_NO_DISPLAY, "EGL_EXT_platform_device")) {
      EGLDeviceEXT devices[8];
      EGLint count = 0;
      if (eglQueryDevicesEXT(8, devices, &count) && count > 0)
        display_ = eglGetPlatformDisplayEXT(EGL_PLATFORM_DEVICE_EXT, devices[0], nullptr);
    }
    if (display_ == EGL_NO_DISPLAY) display_ = eglGetDisplay(EGL_DEFAULT_DISPLAY);
    if (display_ == EGL_NO_DISPLAY || !eglInitialize(display_, nullptr, nullptr))
      return "no EGL display";
    const EGLint config_attributes[] = {EGL_SURFACE_TYPE,
                                        EGL_PBUFFER_BIT,
                                        EGL_RENDERABLE_TYPE,
                                        EGL_OPENGL_BIT,
                                        EGL_RED_SIZE,
                                        8,
                                        EGL_GREEN_SIZE,
                                        8,
                                        EGL_BLUE_SIZE,
                                        8,
                                        EGL_ALPHA_SIZE,
                                        8,
                                        EGL_NONE};
    EGLConfig config;
    EGLint configs = 0;
    if (!eglChooseConfig(display_, config_attributes, &config, 1, &configs) || configs == 0)
      return "no EGL pbuffer config for OpenGL";
    const EGLint pbuffer_attributes[] = {EGL_WIDTH, 1, EGL_HEIGHT, 1, EGL_NONE};
    surface_ = eglCreatePbufferSurface(display_, config, pbuffer_attributes);
    if (!eglBindAPI(EGL_OPENGL_API)) return "EGL cannot bind the OpenGL API";
    context_ = eglCreateContext(display_, config, EGL_NO_CONTEXT, nullptr);
    if (context_ == EGL_NO_CONTEXT || !eglMakeCurrent(display_, surface_, surface_, context_))
      return "no EGL OpenGL context";
    const char* vendor = reinterpret_cast<const char*>(glGetString(GL_VENDOR));
    if (!vendor || std::strstr(vendor, "NVIDIA") == nullptr)
      return std::string("the GL context is not on the NVIDIA driver (vendor ") +
             (vendor ? vendor : "?") + "): CUDA-GL interop needs it";
    return "";
  }
  ~EglContext() {
    if (display_ == EGL_NO_DISPLAY) return;
    eglMakeCurrent(display_, EGL_NO_SURFACE, EGL_NO_SURFACE, EGL_NO_CONTEXT);
    if (context_ != EGL_NO_CONTEXT) eglDestroyContext(display_, context_);
    if (surface_ != EGL_NO_SURFACE) eglDestroySurface(display_, surface_);
    eglTerminate(display_);
  }

 private:
  EGLDisplay display_ = EGL_NO_DISPLAY;
  EGLSurface surface_ = EGL_NO_SURFACE;
  EGLContext context_ = EGL_NO_CONTEXT;
};

constexpr int kWidth = 37, kHeight = 21;  // odd sizes: partial blocks in both directions

class CudaInterop : public ::testing::Test {
 protected:
  void SetUp() override {
    int devices = 0;
    if (cudaGetDeviceCount(&devices) != cudaSuccess || devices == 0) {
      cudaGetLastError();
      GTEST_SKIP() << "no CUDA device: the interop test runs on a GPU machine";
    }
    const std::string why = egl_.open();
    if (!why.empty()) GTEST_SKIP() << why;
    DW_GL_CHECK(glGenTextures(1, &texture_));
    DW_GL_CHECK(glBindTexture(GL_TEXTURE_2D, texture_));
    DW_GL_CHECK(glTexImage2D(GL_TEXTURE_2D, 0, GL_RGBA8, kWidth, kHeight, 0, GL_RGBA,
                             GL_UNSIGNED_BYTE, nullptr));
    DW_CUDA_CHECK(cudaEventCreateWithFlags(&event_, cudaEventDisableTiming));
    DW_CUDA_CHECK(cudaEventCreateWithFlags(&released_, cudaEventDisableTiming));
  }
  void TearDown() override {
    if (released_) cudaEventDestroy(released_);
    if (event_) cudaEventDestroy(event_);
    if (texture_) glDeleteTextures(1, &texture_);
  }

  // A device frame holding `bytes` at `pitch`, copied from the host, with its ready event.
  Frame device_frame(const std::vector<std::uint8_t>& bytes, DevicePixelFormat format,
                     std::size_t pitch) {
    void* memory = nullptr;
    DW_CUDA_CHECK(cudaMalloc(&memory, bytes.size()));
    DW_CUDA_CHECK(cudaMemcpy(memory, bytes.data(), bytes.size(), cudaMemcpyHostToDevice));
    DW_CUDA_CHECK(cudaDeviceSynchronize());
    DW_CUDA_CHECK(cudaEventRecord(event_, 0));
    Frame f;
    f.width = kWidth;
    f.height = kHeight;
    f.location = PixelLocation::Device;
    f.device.memory = std::shared_ptr<void>(memory, [](void* p) { cudaFree(p); });
    f.device.capacity_bytes = bytes.size();
    f.device.format = format;
    f.device.pitch_bytes = pitch;
    f.device.ready_event = event_;
    f.device.released_event = released_;
    return f;
  }

  static std::vector<std::uint8_t> expected_rgba(const std::vector<std::uint8_t>& bytes,
                                                 std::size_t pitch) {
    std::vector<std::uint8_t> rows(kWidth * kHeight * 4);
    for (int y = 0; y < kHeight; ++y)
      std::memcpy(&rows[y * kWidth * 4], &bytes[y * pitch], kWidth * 4);
    return rows;
  }

  std::vector<std::uint8_t> read_texture() {
    std::vector<std::uint8_t> pixels(kWidth * kHeight * 4, 0);
    DW_GL_CHECK(glBindTexture(GL_TEXTURE_2D, texture_));
    DW_GL_CHECK(glPixelStorei(GL_PACK_ALIGNMENT, 4));
    DW_GL_CHECK(glGetTexImage(GL_TEXTURE_2D, 0, GL_RGBA, GL_UNSIGNED_BYTE, pixels.data()));
    return pixels;
  }

  EglContext egl_;
  GLuint texture_ = 0;
  cudaEvent_t event_ = nullptr;
  cudaEvent_t released_ = nullptr;
};

TEST_F(CudaInterop, Rgba8FramesArriveInTheTextureExactly) {
  const std::size_t pitch = kWidth * 4 + 20;
  std::vector<std::uint8_t> bytes(pitch * kHeight, 0xEE);
  std::vector<std::uint8_t> expected(kWidth * kHeight * 4);
  std::mt19937 rng(5);
  for (int y = 0; y < kHeight; ++y)
    for (int x = 0; x < kWidth * 4; ++x)
      expected[y * kWidth * 4 + x] = bytes[y * pitch + x] = static_cast<std::uint8_t>(rng());
  const Frame frame = device_frame(bytes, DevicePixelFormat::Rgba8, pitch);
  auto uploader = make_frame_uploader();
  uploader->upload(frame, texture_);
  EXPECT_EQ(read_texture(), expected);
  // New storage (as the presenter does on a size change): the registration is released first,
  // renewed by the next upload, and that upload still arrives.
  uploader->release_storage(texture_);
  DW_GL_CHECK(glTexImage2D(GL_TEXTURE_2D, 0, GL_RGBA8, kWidth, kHeight, 0, GL_RGBA,
                           GL_UNSIGNED_BYTE, nullptr));
  uploader->upload(frame, texture_);
  EXPECT_EQ(read_texture(), expected);
}

// The frame is still being "decoded" (its ready event sits behind a held stream) when the
// presenter uploads it: upload() must return without waiting, GL must still show the frame once
// the GPU gets there, and the released event must follow the read.
TEST_F(CudaInterop, UploadReturnsBeforeTheFrameIsReadyAndGlWaitsOnTheGpu) {
  const std::size_t pitch = kWidth * 4;
  std::vector<std::uint8_t> bytes(pitch * kHeight);
  std::mt19937 rng(8);
  for (auto& b : bytes) b = static_cast<std::uint8_t>(rng());
  const Frame frame = device_frame(bytes, DevicePixelFormat::Rgba8, pitch);
  auto uploader = make_frame_uploader();
  uploader->upload(frame, texture_);  // registers the texture
  DW_CUDA_CHECK(cudaDeviceSynchronize());

  cudaStream_t decoder = nullptr;
  DW_CUDA_CHECK(cudaStreamCreateWithFlags(&decoder, cudaStreamNonBlocking));
  std::atomic<bool> open{false};
  DW_CUDA_CHECK(cudaLaunchHostFunc(
      decoder,
      [](void* flag) {
        while (!static_cast<std::atomic<bool>*>(flag)->load()) std::this_thread::yield();
      },
      &open));
  DW_CUDA_CHECK(cudaEventRecord(event_, decoder));
  // A watchdog opens the gate after a deadline, so an upload that waits cannot hang the test (5 s:
  // the device check runs this binary under a 30 s limit, compute-sanitizer included).
  std::mutex mutex;
  std::condition_variable changed;
  bool returned = false, watchdog_fired = false;
  std::thread watchdog([&] {
    std::unique_lock lock(mutex);
    watchdog_fired = !changed.wait_for(lock, std::chrono::seconds(5), [&] { return returned; });
    open.store(true);
  });
  const auto start = std::chrono::steady_clock::now();
  uploader->upload(frame, texture_);
  // How long the host spent in upload() (the driver's map/unmap included), for the device log.
  RecordProperty("upload_ms", std::to_string(std::chrono::duration<double, std::milli>(
                                                 std::chrono::steady_clock::now() - start)
                                                 .count()));
  {
    std::lock_guard lock(mutex);
    returned = true;
  }
  changed.notify_all();
  watchdog.join();
  EXPECT_FALSE(watchdog_fired) << "upload() waited on the host for the frame to be ready";
  EXPECT_EQ(read_texture(), expected_rgba(bytes, pitch));
  EXPECT_EQ(cudaEventSynchronize(released_), cudaSuccess);
  DW_CUDA_CHECK(cudaStreamDestroy(decoder));
}

TEST_F(CudaInterop, PlanarFp16FramesAreQuantisedLikeTheHostPath) {
  const std::size_t pitch = kWidth * 2 + 6;
  std::vector<std::uint8_t> bytes(pitch * kHeight * 3, 0);
  std::vector<std::uint8_t> expected(kWidth * kHeight * 4);
  std::mt19937 rng(6);
  std::uniform_real_distribution<float> unit(-0.1f, 1.1f);  // out of range clamps
  for (int c = 0; c < 3; ++c)
    for (int y = 0; y < kHeight; ++y)
      for (int x = 0; x < kWidth; ++x) {
        const __half h = __float2half_rn(unit(rng));
        std::memcpy(&bytes[(c * kHeight + y) * pitch + x * 2], &h, 2);
        expected[(y * kWidth + x) * 4 + c] = vae::unit_to_byte(__half2float(h));
        expected[(y * kWidth + x) * 4 + 3] = 255;
      }
  const Frame frame = device_frame(bytes, DevicePixelFormat::PlanarF16Unit, pitch);
  auto uploader = make_frame_uploader();
  uploader->upload(frame, texture_);
  EXPECT_EQ(read_texture(), expected);
}

// The display path end to end: the CUDA backend leaves decoded frames on the GPU, the uploader
// turns them into the texture, and the texture shows what the host-frame path would have shown.
TEST_F(CudaInterop, DecodedGpuFramesReachTheTextureAsTheHostPathWouldShowThem) {
  const auto model = vae::load_vae(
      (test::source_dir() / "tests" / "fixtures" / "vae" / "tae4_decoder.safetensors").string());
  VaeConfig config;
  auto on_gpu = vae::make_cuda_backend(model, config, PixelLocation::Device);
  auto on_host = vae::make_cuda_backend(model, config, PixelLocation::Host);
  vae::HostTensor a(1, model->info.latent_channels, 3, 5), b = a;
  std::mt19937 rng(7);
  std::normal_distribution<float> normal;
  for (float& v : a.data) v = normal(rng);
  for (float& v : b.data) v = normal(rng);
  const std::vector<float> t = {0.25f, 0.6f};
  Frame gpu[2], host[2];
  Frame* gpu_out[2] = {&gpu[0], &gpu[1]};
  Frame* host_out[2] = {&host[0], &host[1]};
  on_gpu->interpolate_to_frames(a, b, t, {}, gpu_out);
  on_host->interpolate_to_frames(a, b, t, {}, host_out);
  auto uploader = make_frame_uploader();
  ASSERT_TRUE(uploader->accepts_device_frames());
  for (int i = 0; i < 2; ++i) {
    ASSERT_EQ(gpu[i].location, PixelLocation::Device);
    ASSERT_EQ(host[i].location, PixelLocation::Host);
    ASSERT_EQ(gpu[i].width, 40);
    ASSERT_EQ(gpu[i].height, 24);
    GLuint texture = 0;
    DW_GL_CHECK(glGenTextures(1, &texture));
    DW_GL_CHECK(glBindTexture(GL_TEXTURE_2D, texture));
    DW_GL_CHECK(glTexImage2D(GL_TEXTURE_2D, 0, GL_RGBA8, gpu[i].width, gpu[i].height, 0, GL_RGBA,
                             GL_UNSIGNED_BYTE, nullptr));
    uploader->upload(gpu[i], texture);
    std::vector<std::uint8_t> shown(host[i].host_rgba.size(), 0);
    DW_GL_CHECK(glPixelStorei(GL_PACK_ALIGNMENT, 4));
    DW_GL_CHECK(glGetTexImage(GL_TEXTURE_2D, 0, GL_RGBA, GL_UNSIGNED_BYTE, shown.data()));
    uploader->release_storage(texture);
    glDeleteTextures(1, &texture);
    int worst = 0;
    for (std::size_t p = 0; p < shown.size(); ++p)
      worst = std::max(worst, std::abs(int(shown[p]) - int(host[i].host_rgba[p])));
    EXPECT_LE(worst, 1) << "frame " << i << ": the GPU path differs from the host path";
  }
}

}  // namespace
}  // namespace dw::render
