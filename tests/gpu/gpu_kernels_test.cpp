// Each CUDA kernel (and each fusion the plan makes) against the CPU ops, on fresh random inputs,
// through one-op graphs: fp32 must agree to float rounding, fp16 to fp16 rounding.
// Kernels covered here: kernels/vae/group_norm.cu (GroupNorm, +SiLU, conv bias folded in),
// kernels/vae/elementwise.cu (activations, add, conv epilogue), kernels/vae/layout.cu (upsample,
// padding, channel slices, NCHW <-> NHWC), kernels/vae/frames.cu (RGBA8 frames, the box-filtered
// small copy), kernels/vae/nonfinite.cu (the non-finite check and the copy it gates),
// kernels/vae/attention.cu (softmax of the attention) and kernels/vae/slerp.cu (batched slerp);
// kernels/render/frame_to_surface.cu is tested by tests/render/cuda_interop_test.cpp.
#include <cuda_fp16.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <numeric>
#include <tuple>

#include "core/frame.h"
#include "gpu_test_support.h"
#include "kernels/vae/frames.h"
#include "kernels/vae/nonfinite.h"
#include "kernels/vae/slerp.h"
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

void expect_matches_cpu(const Graph& graph, const HostTensor& input, Tolerance tolerance,
                        const cuda::PlanOptions& options = {},
                        std::vector<std::string>* labels = nullptr) {
  const HostTensor reference = gpu_test::run_on_cpu(graph, input);
  for (DType type : {DType::F32, DType::F16}) {
    const HostTensor out = gpu_test::run_on_gpu(graph, input, type, options, labels);
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

TEST_F(GpuKernels, UpsampleFusedIntoTheNextConvMatchesCpu) {
  // The experimental sub-pixel path (PlanOptions::fuse_upsample, layout.cu's phases_to_space):
  // one 2x2 phase convolution of the low-resolution input plus the interleaving pass, against
  // the CPU's upsample then 3x3 convolution; odd sizes, padded channels, with and without bias.
  // The last upsample has two readers and must stay a step of its own.
  TinyGraph g(12);
  const int a = g.conv(g.upsample(0), 20, 3);
  const int b = g.conv(g.upsample(a), 8, 3, 1, {}, /*bias=*/false);
  const int up = g.upsample(b);
  const int out = g.add(g.conv(up, 8, 3), up);
  cuda::PlanOptions fused;
  fused.fuse_upsample = true;
  std::vector<std::string> labels;
  expect_matches_cpu(g.finish(out), random_tensor(2, 12, 5, 7, 14), {1e-5, 3e-3}, fused, &labels);
  const auto count = [&](const std::string& prefix) {
    return std::count_if(labels.begin(), labels.end(),
                         [&](const std::string& l) { return l.rfind(prefix, 0) == 0; });
  };
  EXPECT_EQ(count("upsample+conv "), 2);
  EXPECT_EQ(count("upsample n"), 1);
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
  ops::nchw_to_nhwc(DType::F32, nchw.as<float>(), nhwc.get(), 2, 3, cp, images.plane(), 1.0f, 0.0f,
                    context.stream());
  ops::nhwc_to_nchw(DType::F32, nhwc.get(), back.as<float>(), 2, 3, cp, images.plane(), 1.0f, 0.0f,
                    false, context.stream());
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
  ops::nhwc_to_rgba8(DType::F32, nhwc.as<char>() + images.item() / 3 * cp * sizeof(float), cp, 7, 9,
                     1.0f, 0.0f, rgba.as<std::uint8_t>(), pitch, context.stream());
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
    ops::find_nonfinite(DType::F32, data.get(), values.size(), flag.as<unsigned>(),
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
      DeviceBuffer scratch(ops::slerp_scratch_doubles(a.c, static_cast<int>(t.size())) * 8);
      DW_CUDA_CHECK(cudaMemcpy(da.get(), a.data.data(), da.bytes(), cudaMemcpyHostToDevice));
      DW_CUDA_CHECK(cudaMemcpy(db.get(), other->data.data(), db.bytes(), cudaMemcpyHostToDevice));
      DW_CUDA_CHECK(cudaMemcpy(dt.get(), t.data(), dt.bytes(), cudaMemcpyHostToDevice));
      DW_CUDA_CHECK(cudaMemset(out.get(), 0xFF, out.bytes()));
      DW_CUDA_CHECK(cudaDeviceSynchronize());
      ops::slerp(da.as<float>(), db.as<float>(), dt.as<float>(), static_cast<int>(t.size()), a.c,
                 a.plane(), mean_center, 1e-4f, scratch.as<double>(), out.as<float>(),
                 context.stream());
      HostTensor result(reference.n, reference.c, reference.h, reference.w);
      DW_CUDA_CHECK(cudaStreamSynchronize(context.stream()));
      DW_CUDA_CHECK(cudaMemcpy(result.data.data(), out.get(), out.bytes(), cudaMemcpyDeviceToHost));
      ASSERT_TRUE(gpu_test::all_finite(result));
      EXPECT_LT(relative_error(result, reference), 1e-6) << "mean_center " << mean_center;
    }
}

// Copies host bytes to a fresh device buffer (synchronised: plain copies are not ordered before
// work on a non-blocking stream).
cuda::DeviceBuffer to_device(const void* bytes, std::size_t size) {
  cuda::DeviceBuffer buffer(size);
  DW_CUDA_CHECK(cudaMemcpy(buffer.get(), bytes, size, cudaMemcpyHostToDevice));
  DW_CUDA_CHECK(cudaDeviceSynchronize());
  return buffer;
}

std::vector<std::uint8_t> to_host(const cuda::DeviceBuffer& buffer, cudaStream_t stream) {
  std::vector<std::uint8_t> bytes(buffer.bytes());
  DW_CUDA_CHECK(cudaStreamSynchronize(stream));
  DW_CUDA_CHECK(cudaMemcpy(bytes.data(), buffer.get(), bytes.size(), cudaMemcpyDeviceToHost));
  return bytes;
}

TEST_F(GpuKernels, ShrunkRgbaFramesMatchTheCpuBoxFilterExactly) {
  using namespace cuda;
  GpuContext context;
  std::mt19937 rng(12);
  // Odd sizes and ratios: cells of 2 and 3 pixels in both directions, and a frame small enough
  // to keep its size.
  for (const auto& [w, h, max_side] :
       {std::tuple{203, 131, 80}, std::tuple{64, 96, 40}, std::tuple{30, 20, 64}}) {
    Image image(w, h);
    for (auto& b : image.rgba) b = static_cast<std::uint8_t>(rng());
    const std::size_t pitch = w * 4 + 12;  // rows wider than the image, as frames may have
    std::vector<std::uint8_t> frame(pitch * h, 0xEE);
    for (int y = 0; y < h; ++y) std::memcpy(&frame[y * pitch], image.pixel(0, y), w * 4);
    const Image expected = shrink_to_fit(image, max_side);
    DeviceBuffer pixels = to_device(frame.data(), frame.size());
    DeviceBuffer small(expected.rgba.size());
    DW_CUDA_CHECK(cudaMemset(small.get(), 0x5A, small.bytes()));
    DW_CUDA_CHECK(cudaDeviceSynchronize());
    ops::shrink_frame(pixels.get(), DevicePixelFormat::Rgba8, pitch, w, h, small.as<std::uint8_t>(),
                      expected.width, expected.height, context.stream());
    EXPECT_EQ(to_host(small, context.stream()), expected.rgba) << w << "x" << h;
  }
}

TEST_F(GpuKernels, ShrunkFp16PlanesMatchTheMeanOfTheirCells) {
  using namespace cuda;
  GpuContext context;
  const int w = 77, h = 45, max_side = 32;
  const ImageSize size = shrunk_size(w, h, max_side);
  const std::size_t pitch = w * 2 + 6;
  std::vector<std::uint8_t> planes(pitch * h * 3, 0);
  std::vector<float> values(static_cast<std::size_t>(w) * h * 3);
  std::mt19937 rng(13);
  std::uniform_real_distribution<float> unit(-0.05f, 1.05f);  // some clamp
  for (int c = 0; c < 3; ++c)
    for (int y = 0; y < h; ++y)
      for (int x = 0; x < w; ++x) {
        const __half v = __float2half_rn(unit(rng));
        values[(c * h + y) * w + x] = __half2float(v);
        std::memcpy(&planes[(c * h + y) * pitch + x * 2], &v, 2);
      }
  DeviceBuffer pixels = to_device(planes.data(), planes.size());
  DeviceBuffer small(static_cast<std::size_t>(size.width) * size.height * 4);
  ops::shrink_frame(pixels.get(), DevicePixelFormat::PlanarF16Unit, pitch, w, h,
                    small.as<std::uint8_t>(), size.width, size.height, context.stream());
  const std::vector<std::uint8_t> got = to_host(small, context.stream());
  for (int oy = 0; oy < size.height; ++oy)
    for (int ox = 0; ox < size.width; ++ox)
      for (int c = 0; c < 3; ++c) {
        double sum = 0;
        int count = 0;
        for (int y = oy * h / size.height; y < (oy + 1) * h / size.height; ++y)
          for (int x = ox * w / size.width; x < (ox + 1) * w / size.width; ++x, ++count)
            sum += values[(c * h + y) * w + x];
        const int want = unit_to_byte(static_cast<float>(sum / count));
        const int have = got[(oy * size.width + ox) * 4 + c];
        ASSERT_LE(std::abs(have - want), 1) << ox << "," << oy << " channel " << c;
      }
}

TEST_F(GpuKernels, CopyIfFlagCopiesOnlyInTheFlagsState) {
  using namespace cuda;
  GpuContext context;
  std::vector<std::uint32_t> source(1001), target(1001, 7);
  std::iota(source.begin(), source.end(), 100u);
  for (const unsigned flag_value : {0u, 1u})
    for (const bool when_set : {false, true}) {
      DeviceBuffer src = to_device(source.data(), source.size() * 4);
      DeviceBuffer dst = to_device(target.data(), target.size() * 4);
      DeviceBuffer flag = to_device(&flag_value, sizeof(unsigned));
      ops::copy_if_flag(flag.as<unsigned>(), when_set, dst.get(), src.get(), dst.bytes(),
                        context.stream());
      const std::vector<std::uint8_t> bytes = to_host(dst, context.stream());
      std::vector<std::uint32_t> got(target.size());
      std::memcpy(got.data(), bytes.data(), bytes.size());
      EXPECT_EQ(got, (flag_value != 0) == when_set ? source : target)
          << "flag " << flag_value << ", copy when set " << when_set;
    }
}

}  // namespace
}  // namespace dw::vae
