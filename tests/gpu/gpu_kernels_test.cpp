// Each CUDA kernel (and each fusion the plan makes) against the CPU ops, on fresh random inputs,
// through one-op graphs: fp32 must agree to float rounding, fp16 to fp16 rounding.
// Kernels covered here: kernels/vae/group_norm.cu (GroupNorm, +SiLU, conv bias folded in),
// kernels/vae/elementwise.cu (activations, add, conv epilogue, upsample, padding, layout and frame
// conversions, non-finite check), kernels/vae/attention.cu (softmax of the attention), and
// kernels/vae/slerp.cu (batched slerp); kernels/render/cuda_frame_kernels.cu is tested by
// tests/render/cuda_interop_test.cpp.
#include <gtest/gtest.h>

#include "core/frame.h"
#include "gpu_test_support.h"
#include "vae/pixels.h"
#include "vae/slerp.h"
#include "vae_test_support.h"

namespace dw::vae {
namespace {

using cuda::DType;
using gpu_test::random_tensor;
using gpu_test::TinyGraph;
using test::relative_error;

struct Tolerance {
  double f32, f16;
};

void expect_matches_cpu(const Graph& graph, const HostTensor& input, Tolerance tolerance) {
  const HostTensor reference = gpu_test::run_on_cpu(graph, input);
  for (DType type : {DType::F32, DType::F16}) {
    const HostTensor out = gpu_test::run_on_gpu(graph, input, type);
    ASSERT_TRUE(gpu_test::all_finite(out)) << cuda::dtype_name(type) << ": unwritten or bad output";
    EXPECT_LT(relative_error(out, reference), type == DType::F32 ? tolerance.f32 : tolerance.f16)
        << cuda::dtype_name(type);
  }
}

class GpuKernels : public ::testing::Test {
 protected:
  void SetUp() override { DW_SKIP_WITHOUT_CUDA(); }
};

TEST_F(GpuKernels, GroupNormWithFusedSiluMatchesCpu) {
  // 4 channels per group (a group inside one 8-channel vector), odd sizes, a mean far from 0.
  TinyGraph g(128);
  const int out = g.unary(OpKind::SiLU, g.group_norm(0, 32));
  expect_matches_cpu(g.finish(out), random_tensor(2, 128, 13, 11, 1, 2.0f, 5.0f), {1e-5, 3e-3});
}

TEST_F(GpuKernels, GroupNormAloneAndAcrossManyChunksMatchesCpu) {
  TinyGraph g(24);  // padded to 24 in memory; groups of 3 channels
  const int out = g.group_norm(0, 8);
  expect_matches_cpu(g.finish(out), random_tensor(3, 24, 67, 45, 2, 1.0f, -3.0f), {1e-5, 3e-3});
}

TEST_F(GpuKernels, ConvBiasAddedByTheGroupNormThatReadsItMatchesCpu) {
  // The KL ResNet's conv1 -> norm2 -> SiLU: the conv's bias moves into the GroupNorm's reads.
  TinyGraph g(32);
  const int out = g.unary(OpKind::SiLU, g.group_norm(g.conv(0, 64, 3), 32));
  expect_matches_cpu(g.finish(out), random_tensor(2, 32, 11, 9, 11), {1e-5, 3e-3});
}

TEST_F(GpuKernels, AttentionMatchesCpu) {
  TinyGraph g(3 * 64);
  const int q = g.slice(0, 0, 64), k = g.slice(0, 64, 64), v = g.slice(0, 128, 64);
  const int out = g.attention(q, k, v);
  expect_matches_cpu(g.finish(out), random_tensor(2, 192, 9, 7, 3, 1.5f), {1e-5, 1e-2});
}

TEST_F(GpuKernels, UpsampleAndThreeChannelConvMatchCpu) {
  TinyGraph g(3);  // padded from 3 to 8 channels
  const int out = g.conv(g.upsample(0), 5, 3);
  expect_matches_cpu(g.finish(out), random_tensor(2, 3, 5, 7, 4), {1e-5, 3e-3});
}

TEST_F(GpuKernels, ConvWithFusedResidualAndReluMatchesCpu) {
  // The TAE block's tail: relu(conv(h) + skip), fused into one convolution epilogue.
  TinyGraph g(16);
  const int h = g.unary(OpKind::ReLU, g.conv(0, 16, 3));
  const int out = g.unary(OpKind::ReLU, g.add(g.conv(h, 16, 3), 0));
  expect_matches_cpu(g.finish(out), random_tensor(2, 16, 10, 6, 5), {1e-5, 3e-3});
}

TEST_F(GpuKernels, StrideTwoConvWithAsymmetricPaddingMatchesCpu) {
  TinyGraph g(8);  // the KL encoder's downsample: nothing before, one row/column after
  const int a = g.conv(0, 16, 3, 2, Padding{0, 0, 1, 1});
  const int out = g.conv(a, 8, 3, 2);  // and the TAE's symmetric one
  expect_matches_cpu(g.finish(out), random_tensor(3, 8, 24, 40, 6), {1e-5, 3e-3});
}

TEST_F(GpuKernels, TanhClampSiluAndAddMatchCpu) {
  TinyGraph g(4);
  const int t = g.unary(OpKind::TanhClamp, 0);
  const int s = g.unary(OpKind::SiLU, 0);
  const int out = g.slice(g.add(t, s), 1, 3);
  expect_matches_cpu(g.finish(out), random_tensor(2, 4, 24, 40, 7, 4.0f), {1e-6, 2e-3});
}

TEST_F(GpuKernels, LayoutConversionsRoundTripAndRgbaMatchesCpuFrames) {
  using namespace cuda;
  const HostTensor images = random_tensor(2, 3, 7, 9, 8, 0.4f, 0.5f);  // some outside [0, 1]
  GpuContext context;
  const int cp = padded_channels(3);
  DeviceBuffer nchw(images.size() * sizeof(float)), nhwc(images.size() / 3 * cp * sizeof(float));
  DeviceBuffer back(images.size() * sizeof(float));
  DW_CUDA_CHECK(cudaMemcpy(nchw.get(), images.data.data(), images.size() * sizeof(float),
                           cudaMemcpyHostToDevice));
  DW_CUDA_CHECK(cudaMemset(back.get(), 0xFF, back.bytes()));
  DW_CUDA_CHECK(cudaDeviceSynchronize());  // plain memset/memcpy: not ordered before our stream
  launch_nchw_to_nhwc(DType::F32, nchw.as<float>(), nhwc.get(), 2, 3, cp, images.plane(), 1.0f,
                      0.0f, context.stream());
  launch_nhwc_to_nchw(DType::F32, nhwc.get(), back.as<float>(), 2, 3, cp, images.plane(), 1.0f,
                      0.0f, false, context.stream());
  HostTensor round_trip(2, 3, 7, 9);
  DW_CUDA_CHECK(cudaStreamSynchronize(context.stream()));
  DW_CUDA_CHECK(
      cudaMemcpy(round_trip.data.data(), back.get(), back.bytes(), cudaMemcpyDeviceToHost));
  EXPECT_EQ(round_trip.data, images.data);

  // RGBA8 of item 1, with a pitch wider than the row, against the CPU's tensor_to_frame.
  const std::size_t pitch = 9 * 4 + 12;
  DeviceBuffer rgba(pitch * 7);
  DW_CUDA_CHECK(cudaMemset(rgba.get(), 0x7F, rgba.bytes()));
  DW_CUDA_CHECK(cudaDeviceSynchronize());
  launch_nhwc_to_rgba8(DType::F32, nhwc.as<char>() + images.item() / 3 * cp * sizeof(float), cp, 7,
                       9, 1.0f, 0.0f, rgba.as<std::uint8_t>(), pitch, context.stream());
  std::vector<std::uint8_t> pixels(rgba.bytes());
  DW_CUDA_CHECK(cudaStreamSynchronize(context.stream()));
  DW_CUDA_CHECK(cudaMemcpy(pixels.data(), rgba.get(), rgba.bytes(), cudaMemcpyDeviceToHost));
  Frame expected;
  tensor_to_frame(images, 1, expected);
  for (int y = 0; y < 7; ++y)
    for (int x = 0; x < 9 * 4; ++x)
      ASSERT_EQ(pixels[y * pitch + x], expected.host_rgba[(y * 9) * 4 + x]) << y << "," << x;
}

TEST_F(GpuKernels, NonFiniteCheckFindsOneBadElement) {
  using namespace cuda;
  GpuContext context;
  std::vector<float> values(1000, 1.0f);
  DeviceBuffer data(values.size() * sizeof(float)), flag(sizeof(unsigned));
  unsigned host_flag = 7;
  for (float bad : {0.0f, INFINITY, NAN}) {
    values[613] = bad;
    DW_CUDA_CHECK(cudaMemcpy(data.get(), values.data(), data.bytes(), cudaMemcpyHostToDevice));
    DW_CUDA_CHECK(cudaMemset(flag.get(), 0, sizeof(unsigned)));
    DW_CUDA_CHECK(cudaDeviceSynchronize());
    launch_find_nonfinite(DType::F32, data.get(), values.size(), flag.as<unsigned>(),
                          context.stream());
    DW_CUDA_CHECK(cudaStreamSynchronize(context.stream()));
    DW_CUDA_CHECK(cudaMemcpy(&host_flag, flag.get(), sizeof(unsigned), cudaMemcpyDeviceToHost));
    EXPECT_EQ(host_flag != 0, !std::isfinite(bad)) << bad;
  }
}

TEST_F(GpuKernels, BatchedSlerpMatchesCpuForEveryT) {
  using namespace cuda;
  GpuContext context;
  const HostTensor a = random_tensor(1, 16, 24, 40, 9, 1.0f, 0.3f);
  const HostTensor b = random_tensor(1, 16, 24, 40, 10, 1.2f, -0.2f);
  HostTensor nearly_a = a;  // sin(omega) below the threshold: the linear branch
  for (float& v : nearly_a.data) v *= 1.0000001f;
  const std::vector<float> t = {0.0f, 0.1f, 0.37f, 0.5f, 0.9f, 1.0f};
  for (const HostTensor* other : {&b, static_cast<const HostTensor*>(&nearly_a)})
    for (bool mean_center : {true, false}) {
      const SlerpOptions options{mean_center, 1e-4f};
      const HostTensor reference = slerp_host(a, *other, t, options);
      DeviceBuffer da(a.size() * 4), db(a.size() * 4), dt(t.size() * 4), out(reference.size() * 4);
      DeviceBuffer scratch(slerp_scratch_doubles(a.c, static_cast<int>(t.size())) * 8);
      DW_CUDA_CHECK(cudaMemcpy(da.get(), a.data.data(), da.bytes(), cudaMemcpyHostToDevice));
      DW_CUDA_CHECK(cudaMemcpy(db.get(), other->data.data(), db.bytes(), cudaMemcpyHostToDevice));
      DW_CUDA_CHECK(cudaMemcpy(dt.get(), t.data(), dt.bytes(), cudaMemcpyHostToDevice));
      DW_CUDA_CHECK(cudaMemset(out.get(), 0xFF, out.bytes()));
      DW_CUDA_CHECK(cudaDeviceSynchronize());
      launch_slerp(da.as<float>(), db.as<float>(), dt.as<float>(), static_cast<int>(t.size()), a.c,
                   a.plane(), mean_center, 1e-4f, scratch.as<double>(), out.as<float>(),
                   context.stream());
      HostTensor result(reference.n, reference.c, reference.h, reference.w);
      DW_CUDA_CHECK(cudaStreamSynchronize(context.stream()));
      DW_CUDA_CHECK(cudaMemcpy(result.data.data(), out.get(), out.bytes(), cudaMemcpyDeviceToHost));
      ASSERT_TRUE(gpu_test::all_finite(result));
      EXPECT_LT(relative_error(result, reference), 1e-6) << "mean_center " << mean_center;
    }
}

}  // namespace
}  // namespace dw::vae
