// What the CUDA backend does without the host waiting for the GPU, against what it must still
// guarantee: GPU frames are enqueued without a host wait, an fp16 overflow in such a batch is
// never shown (the batch is replaced on the GPU and the model switches to fp32 at the next run),
// the cache's preview of a GPU frame is the box-filtered frame, and CUDA graphs are captured
// safely and updated in place. Also whether the device query tells the truth and the backend
// choice follows it.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <future>
#include <thread>

#include "gpu_test_support.h"
#include "vae/cuda/cuda_graph.h"
#include "vae/cuda/cuda_vae.h"
#include "vae/model.h"
#include "vae/pixels.h"
#include "vae/slerp.h"
#include "vae_test_support.h"

namespace dw::vae {
namespace {

using cuda::CudaBackendOptions;
using cuda::DType;
using gpu_test::random_tensor;

std::string fixture(const std::string& name) {
  return (test::fixtures_dir() / name).string();
}

// Frames a backend can write into, and the pointers interpolate_to_frames takes.
struct FrameBatch {
  explicit FrameBatch(std::size_t n) : frames(n) {
    for (Frame& f : frames) pointers.push_back(&f);
  }
  std::vector<Frame> frames;
  std::vector<Frame*> pointers;
};

// A device frame's pixels on the host (waits for its ready event), RGBA8 rows packed.
std::vector<std::uint8_t> frame_pixels(const Frame& f) {
  DW_CUDA_CHECK(cudaEventSynchronize(static_cast<cudaEvent_t>(f.device.ready_event)));
  std::vector<std::uint8_t> pixels(static_cast<std::size_t>(f.width) * f.height * 4);
  DW_CUDA_CHECK(cudaMemcpy2D(pixels.data(), f.width * 4, f.device.memory.get(),
                             f.device.pitch_bytes, f.width * 4, f.height, cudaMemcpyDeviceToHost));
  return pixels;
}

// Holds a stream's later work back until opened: a host function on the stream spins on a flag.
class StreamGate {
 public:
  explicit StreamGate(cudaStream_t stream) {
    DW_CUDA_CHECK(cudaLaunchHostFunc(
        stream,
        [](void* open) {
          while (!static_cast<std::atomic<bool>*>(open)->load()) std::this_thread::yield();
        },
        &open_));
  }
  ~StreamGate() { open(); }
  void open() { open_.store(true); }

 private:
  std::atomic<bool> open_{false};
};

class GpuAsync : public ::testing::Test {
 protected:
  void SetUp() override { DW_SKIP_WITHOUT_CUDA(); }
};

TEST_F(GpuAsync, GpuFramesAreEnqueuedWithoutWaitingForTheGpu) {
  const auto model = load_vae(fixture("tae4_decoder.safetensors"));
  auto gpu = cuda::make_cuda_vae_backend(model, CudaBackendOptions{});
  const HostTensor a = random_tensor(1, 4, 8, 12, 100), b = random_tensor(1, 4, 8, 12, 101);
  const std::vector<float> t = {0.0f, 0.3f, 0.6f};
  FrameBatch first(t.size()), second(t.size());
  // Warm: the plan exists, its graph is captured, a last good frame of this size exists.
  gpu->interpolate_to_frames(a, b, t, SlerpOptions{}, first.pointers);
  gpu->interpolate_to_frames(a, b, t, SlerpOptions{}, second.pointers);
  gpu->synchronize();
  const std::vector<std::uint8_t> expected = frame_pixels(second.frames[1]);

  std::future<void> call;
  bool returned_while_held = false;
  {
    StreamGate gate(gpu->stream());
    call = std::async(std::launch::async,
                      [&] { gpu->interpolate_to_frames(a, b, t, SlerpOptions{}, first.pointers); });
    returned_while_held = call.wait_for(std::chrono::seconds(20)) == std::future_status::ready;
  }  // the gate opens here whatever happened, so a waiting call can finish
  call.get();
  EXPECT_TRUE(returned_while_held) << "interpolate_to_frames waited for the GPU to finish";
  EXPECT_EQ(frame_pixels(first.frames[1]), expected);
}

TEST_F(GpuAsync, AnFp16OverflowInGpuFramesIsNeverShownAndSwitchesToFp32) {
  const auto model = load_vae(fixture("kl4_ldm.safetensors"));
  auto gpu = cuda::make_cuda_vae_backend(model, CudaBackendOptions{});
  auto cpu = make_cpu_backend(model, 2);
  const HostTensor a = random_tensor(1, 4, 8, 10, 110), b = random_tensor(1, 4, 8, 10, 111);
  const std::vector<float> t = {0.25f, 0.5f, 0.75f};
  FrameBatch good(t.size()), bad(t.size()), after(t.size());
  gpu->interpolate_to_frames(a, b, t, SlerpOptions{}, good.pointers);
  ASSERT_EQ(gpu->precision(), DType::F16);
  const std::vector<std::uint8_t> last_good = frame_pixels(good.frames.back());

  // Beyond fp16's range (65504): this batch's output is not finite; its check is read only at
  // the next run, so the GPU must have replaced every frame by the last good one.
  HostTensor huge_a = a, huge_b = b;
  for (float& v : huge_a.data) v *= 2e5f;
  for (float& v : huge_b.data) v *= 2e5f;
  gpu->interpolate_to_frames(huge_a, huge_b, t, SlerpOptions{}, bad.pointers);
  for (std::size_t i = 0; i < t.size(); ++i)
    EXPECT_EQ(frame_pixels(bad.frames[i]), last_good) << "frame " << i << " was shown as decoded";

  // The next run reads the check: the model is fp32 from then on and its frames are right.
  gpu->interpolate_to_frames(huge_a, huge_b, t, SlerpOptions{}, after.pointers);
  EXPECT_EQ(gpu->precision(), DType::F32);
  EXPECT_EQ(gpu->counters().replaced_batches, 1u);
  FrameBatch reference(t.size());
  cpu->interpolate_to_frames(huge_a, huge_b, t, SlerpOptions{}, reference.pointers);
  for (std::size_t i = 0; i < t.size(); ++i) {
    const std::vector<std::uint8_t> got = frame_pixels(after.frames[i]);
    int worst = 0;
    for (std::size_t p = 0; p < got.size(); ++p)
      worst = std::max(worst, std::abs(int(got[p]) - int(reference.frames[i].host_rgba[p])));
    EXPECT_LE(worst, 2) << "fp32 frame " << i << " differs from the CPU backend's";
  }
}

TEST_F(GpuAsync, PreviewOfAGpuFrameIsTheBoxFilteredFrame) {
  const auto model = load_vae(fixture("tae4_decoder.safetensors"));
  auto gpu = cuda::make_cuda_vae_backend(model, CudaBackendOptions{});
  const HostTensor a = random_tensor(1, 4, 13, 9, 120), b = random_tensor(1, 4, 13, 9, 121);
  const std::vector<float> t = {0.0f, 0.5f};
  FrameBatch batch(t.size());
  gpu->interpolate_to_frames(a, b, t, SlerpOptions{}, batch.pointers);
  const std::uint64_t copies_before = gpu->counters().host_frames;
  const Image small = gpu->frame_preview(batch.frames[1], 40);
  const Frame& frame = batch.frames[1];
  Image full(frame.width, frame.height);
  full.rgba = frame_pixels(frame);
  const Image expected = shrink_to_fit(full, 40);
  EXPECT_EQ(small.width, expected.width);
  EXPECT_EQ(small.height, expected.height);
  EXPECT_EQ(small.rgba, expected.rgba);
  EXPECT_EQ(gpu->counters().host_frames, copies_before) << "a preview is not a frame copy";
  EXPECT_EQ(gpu->counters().previews, 1u);
}

TEST_F(GpuAsync, GraphCaptureUpdatesInPlaceAndSurvivesAFailingRecord) {
  using namespace cuda;
  GpuContext context;
  DeviceBuffer buffer(4096);
  std::vector<std::uint8_t> host(4096);
  auto fill = [&](int value) {
    return [&, value] {
      DW_CUDA_CHECK(cudaMemsetAsync(buffer.get(), value, buffer.bytes(), context.stream()));
    };
  };
  auto launched = [&](const CudaGraph& graph) {
    graph.launch(context.stream());
    DW_CUDA_CHECK(cudaStreamSynchronize(context.stream()));
    DW_CUDA_CHECK(cudaMemcpy(host.data(), buffer.get(), host.size(), cudaMemcpyDeviceToHost));
    return host[0] == host[4095] ? int(host[0]) : -1;
  };
  CudaGraph graph;
  ASSERT_EQ(graph.capture(context.stream(), fill(3)), "");
  EXPECT_FALSE(graph.last_capture_updated());
  EXPECT_EQ(launched(graph), 3);
  ASSERT_EQ(graph.capture(context.stream(), fill(9)), "");  // same topology, new value
  EXPECT_TRUE(graph.last_capture_updated());
  EXPECT_EQ(launched(graph), 9);
  // A record that throws: the capture ends, the stream works eagerly, the graph is unchanged.
  const std::string failure =
      graph.capture(context.stream(), [] { throw Error("planned failure inside the capture"); });
  EXPECT_NE(failure.find("planned failure"), std::string::npos) << failure;
  cudaStreamCaptureStatus status = cudaStreamCaptureStatusActive;
  DW_CUDA_CHECK(cudaStreamIsCapturing(context.stream(), &status));
  EXPECT_EQ(status, cudaStreamCaptureStatusNone);
  EXPECT_EQ(launched(graph), 9);
}

TEST(GpuAvailability, AgreesWithTheRuntimeAndTheBackendChoice) {
  int count = 0;
  const cudaError_t status = cudaGetDeviceCount(&count);
  const bool available = cuda_device_available();
  EXPECT_EQ(available, status == cudaSuccess && count > 0) << cudaGetErrorString(status);
  EXPECT_EQ(cuda_device_available(), available) << "the answer changed between two queries";
  // With a device, the query leaves nothing for the next CUDA call to trip over. (Without a
  // driver the runtime's initialisation error is permanent: every call reports it.)
  if (available) {
    EXPECT_EQ(cudaGetLastError(), cudaSuccess);
  }
  // tools/gpu_check.sh sets DW_EXPECT_GPU on the GPU machine: there, no device is a failure, not
  // a reason for every other GPU test to skip.
  if (std::getenv("DW_EXPECT_GPU")) {
    EXPECT_TRUE(available) << "DW_EXPECT_GPU is set but the CUDA runtime sees no device ("
                           << gpu_test::cuda_unavailable_reason() << ")";
  }
  const auto model = load_vae(fixture("tae4_decoder.safetensors"));
  EXPECT_EQ(make_backend(VaeBackendKind::Auto, model, VaeConfig{})->name(),
            available ? "cuda" : "cpu");
  if (!available) {
    EXPECT_THROW(make_backend(VaeBackendKind::Cuda, model, VaeConfig{}), Error);
  }
}

}  // namespace
}  // namespace dw::vae
