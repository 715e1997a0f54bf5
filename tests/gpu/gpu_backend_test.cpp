// The whole CUDA backend against the CPU backend and the PyTorch fixtures: decoders and encoders
// of both families, batch 1 and N, odd latent sizes, the real taef2 weights, GPU-resident frames,
// the fp32 fallback and shutdown.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>

#include "core/error.h"
#include "core/image.h"
#include "gpu_test_support.h"
#include "vae/cuda/cuda_vae.h"
#include "vae/model.h"
#include "vae/safetensors.h"
#include "vae/slerp.h"
#include "vae_test_support.h"

namespace dw::vae {
namespace {

using cuda::CudaBackendOptions;
using cuda::DType;
using gpu_test::kImagePsnr;
using gpu_test::kImageRelativeError;
using gpu_test::random_tensor;
using test::fixtures_dir;
using test::read_tensor;
using test::relative_error;

std::string fixture(const std::string& name) {
  return (fixtures_dir() / name).string();
}

// fp16 against fp32 on [0, 1] images: both measures, with the numbers in the failure message.
void expect_close_images(const HostTensor& images, const HostTensor& reference,
                         const std::string& what) {
  ASSERT_TRUE(gpu_test::all_finite(images)) << what;
  const double error = relative_error(images, reference);
  const double quality = psnr(images, reference);
  EXPECT_LE(error, kImageRelativeError) << what;
  EXPECT_GE(quality, kImagePsnr) << what;
  ::testing::Test::RecordProperty(what + "_relative_error", std::to_string(error));
  ::testing::Test::RecordProperty(what + "_psnr", std::to_string(quality));
}

HostTensor to_unit_range(HostTensor t, bool signed_range) {
  for (float& v : t.data) {
    if (signed_range) v = (v + 1.0f) * 0.5f;
    v = std::clamp(v, 0.0f, 1.0f);
  }
  return t;
}

struct Golden {
  const char* name;
  const char* decoder_file;
  const char* encoder_file;
  const char* io_file;
};

void PrintTo(const Golden& golden, std::ostream* os) {
  *os << golden.name;
}

class GpuBackendGolden : public ::testing::TestWithParam<Golden> {
 protected:
  void SetUp() override { DW_SKIP_WITHOUT_CUDA(); }
};

TEST_P(GpuBackendGolden, DecoderAndEncoderMatchPyTorchAndTheCpuBackend) {
  const Golden& g = GetParam();
  const auto model =
      load_vae(fixture(g.decoder_file), *g.encoder_file ? fixture(g.encoder_file) : std::string());
  const bool kl = model->info.family == Family::AutoencoderKL;
  auto gpu = cuda::make_cuda_vae_backend(model, CudaBackendOptions{});
  auto cpu = make_cpu_backend(model, 2);
  const auto io = SafetensorsFile::open(fixture(g.io_file));

  const HostTensor latents = read_tensor(io, "decode_in");  // batch 2
  const HostTensor decoded = gpu->decode(latents);
  EXPECT_EQ(gpu->precision(), DType::F16);
  expect_close_images(decoded, to_unit_range(read_tensor(io, "decode_out"), kl),
                      std::string(g.name) + "_decode_vs_pytorch");
  expect_close_images(decoded, cpu->decode(latents), std::string(g.name) + "_decode_vs_cpu");

  const HostTensor images = read_tensor(io, "encode_in");
  const HostTensor encoded = gpu->encode(images);
  ASSERT_TRUE(gpu_test::all_finite(encoded));
  EXPECT_LE(relative_error(encoded, read_tensor(io, "encode_out")), kImageRelativeError)
      << g.name << " encoder vs PyTorch";
  EXPECT_LE(relative_error(encoded, cpu->encode(images)), kImageRelativeError)
      << g.name << " encoder vs CPU";
}

TEST_P(GpuBackendGolden, OddLatentSizesAndBatchPositionsMatchTheCpuBackend) {
  const Golden& g = GetParam();
  const auto model =
      load_vae(fixture(g.decoder_file), *g.encoder_file ? fixture(g.encoder_file) : std::string());
  auto gpu = cuda::make_cuda_vae_backend(model, CudaBackendOptions{});
  auto cpu = make_cpu_backend(model, 2);
  const int c = model->info.latent_channels;
  for (int n : {1, 3}) {
    const HostTensor latents = random_tensor(n, c, 24, 40, 20 + n);
    expect_close_images(gpu->decode(latents), cpu->decode(latents),
                        std::string(g.name) + "_24x40_batch" + std::to_string(n));
  }
  const HostTensor images = random_tensor(3, 3, 8 * 5, 8 * 3, 30, 0.25f, 0.5f);
  EXPECT_LE(relative_error(gpu->encode(images), cpu->encode(images)), kImageRelativeError)
      << g.name << " encoder 40x24 batch 3";
}

TEST_P(GpuBackendGolden, FusedUpsamplePathMatchesTheCpuBackend) {
  // The experimental path (CudaBackendOptions::fuse_upsample), off by default until a GPU run
  // proves it faster: the same images as the CPU backend, to the same fp16 tolerances.
  const Golden& g = GetParam();
  const auto model = load_vae(fixture(g.decoder_file));
  CudaBackendOptions options;
  options.fuse_upsample = true;
  auto gpu = cuda::make_cuda_vae_backend(model, options);
  auto cpu = make_cpu_backend(model, 2);
  const HostTensor latents = random_tensor(2, model->info.latent_channels, 24, 40, 25);
  expect_close_images(gpu->decode(latents), cpu->decode(latents),
                      std::string(g.name) + "_fused_upsample");
  // And the fused path is what ran: every one of the decoder's upsamples feeds a 3x3
  // convolution alone, so each is one "upsample+conv" step (the images above would match on the
  // unfused path as well).
  const Graph& decoder = *model->decoder;
  const auto upsamples = std::count_if(decoder.ops.begin(), decoder.ops.end(),
                                       [](const Op& op) { return op.kind == OpKind::Upsample2x; });
  ASSERT_GT(upsamples, 0) << g.name;
  cuda::PlanOptions fused;
  fused.fuse_upsample = true;
  std::vector<std::string> labels;
  gpu_test::run_on_gpu(decoder, random_tensor(1, decoder.input_channels(), 6, 10, 26), DType::F16,
                       fused, &labels);
  EXPECT_EQ(std::count_if(labels.begin(), labels.end(),
                          [](const std::string& l) { return l.rfind("upsample+conv ", 0) == 0; }),
            upsamples)
      << g.name;
}

INSTANTIATE_TEST_SUITE_P(
    Fixtures, GpuBackendGolden,
    ::testing::Values(Golden{"kl4_ldm", "kl4_ldm.safetensors", "", "kl4_io.safetensors"},
                      Golden{"kl16_diffusers_legacy", "kl16_diffusers-legacy.safetensors", "",
                             "kl16_io.safetensors"},
                      Golden{"tae4", "tae4_decoder.safetensors", "tae4_encoder.safetensors",
                             "tae4_io.safetensors"},
                      Golden{"tae32_pool_combined", "tae32.safetensors", "",
                             "tae32_io.safetensors"}),
    [](const ::testing::TestParamInfo<Golden>& param_info) {
      return std::string(param_info.param.name);
    });

class GpuBackend : public ::testing::Test {
 protected:
  void SetUp() override { DW_SKIP_WITHOUT_CUDA(); }
};

TEST_F(GpuBackend, RealTaef2WeightsMatchPyTorch) {
  const auto models = dw::test::shared_models_dir();
  if (models.empty())
    GTEST_SKIP() << "DW_SHARED_MODELS / ../shared/models absent: no taef2 weights";
  const auto model = load_vae((models / "taef2_decoder.safetensors").string(),
                              (models / "taef2_encoder.safetensors").string());
  auto gpu = cuda::make_cuda_vae_backend(model, CudaBackendOptions{});
  auto cpu = make_cpu_backend(model, 2);
  const auto io = SafetensorsFile::open(fixture("taef2_real_io.safetensors"));
  const HostTensor image = image_to_tensor(load_image(fixture("test_image.png")));
  EXPECT_LE(relative_error(gpu->encode(image), read_tensor(io, "encode_out")), kImageRelativeError);
  expect_close_images(gpu->decode(read_tensor(io, "encode_out")),
                      to_unit_range(read_tensor(io, "decode_out"), false), "taef2_vs_pytorch");
  const HostTensor latents = random_tensor(2, model->info.latent_channels, 24, 40, 40);
  expect_close_images(gpu->decode(latents), cpu->decode(latents), "taef2_24x40_batch2_vs_cpu");
}

TEST_F(GpuBackend, FramesAreWrittenOnTheGpuLikeTheCpuBackendsFrames) {
  const auto model = load_vae(fixture("kl4_ldm.safetensors"));
  auto gpu = cuda::make_cuda_vae_backend(model, CudaBackendOptions{});
  auto cpu = make_cpu_backend(model, 2);
  const HostTensor a = random_tensor(1, 4, 12, 10, 50), b = random_tensor(1, 4, 12, 10, 51);
  const std::vector<float> t = {0.2f, 0.5f, 0.8f};
  const SlerpOptions options;
  std::vector<Frame> gpu_frames(t.size()), cpu_frames(t.size());
  std::vector<Frame*> gpu_out, cpu_out;
  for (std::size_t i = 0; i < t.size(); ++i) {
    gpu_out.push_back(&gpu_frames[i]);
    cpu_out.push_back(&cpu_frames[i]);
  }
  // Slot 1 already holds GPU memory (poisoned): the backend must reuse and fully overwrite it.
  gpu->interpolate_to_frames(a, b, t, options, gpu_out);
  void* reused = gpu_frames[1].device.memory.get();
  gpu->synchronize();
  DW_CUDA_CHECK(cudaMemset(reused, 0xA5, gpu_frames[1].device.capacity_bytes));
  DW_CUDA_CHECK(cudaDeviceSynchronize());  // the backend's stream is not ordered after memset
  gpu->interpolate_to_frames(a, b, t, options, gpu_out);
  EXPECT_EQ(gpu_frames[1].device.memory.get(), reused);
  cpu->interpolate_to_frames(a, b, t, options, cpu_out);
  for (std::size_t i = 0; i < t.size(); ++i) {
    const Frame& f = gpu_frames[i];
    ASSERT_EQ(f.location, PixelLocation::Device);
    ASSERT_EQ(f.device.format, DevicePixelFormat::Rgba8);
    ASSERT_EQ(f.width, cpu_frames[i].width);
    ASSERT_EQ(f.height, cpu_frames[i].height);
    ASSERT_NE(f.device.ready_event, nullptr);
    DW_CUDA_CHECK(cudaEventSynchronize(static_cast<cudaEvent_t>(f.device.ready_event)));
    std::vector<std::uint8_t> pixels(static_cast<std::size_t>(f.width) * f.height * 4);
    DW_CUDA_CHECK(cudaMemcpy2D(pixels.data(), f.width * 4, f.device.memory.get(),
                               f.device.pitch_bytes, f.width * 4, f.height,
                               cudaMemcpyDeviceToHost));
    // As [0, 1] images: the fp16 tolerances apply to 8-bit frames as well.
    HostTensor got(1, 4, f.height, f.width), want(1, 4, f.height, f.width);
    for (std::size_t p = 0; p < pixels.size(); ++p) {
      got.data[p] = pixels[p] / 255.0f;
      want.data[p] = cpu_frames[i].host_rgba[p] / 255.0f;
    }
    EXPECT_GE(psnr(got, want), 40.0) << "frame " << i;  // 8-bit rounding on both sides
    EXPECT_LE(relative_error(got, want), kImageRelativeError) << "frame " << i;
  }
}

// The planar fp16 frame format (three [0, 1] planes, `pitch_bytes` per plane row): two batches,
// so that the second is written under the deferred non-finite check with the first batch's last
// frame as its replacement; every frame against the CPU backend's, and its preview against the
// CPU box filter of the same pixels.
TEST_F(GpuBackend, PlanarFp16FramesAreWrittenOnTheGpuLikeTheCpuBackendsFrames) {
  const auto model = load_vae(fixture("tae4_decoder.safetensors"));
  CudaBackendOptions options;
  options.frame_format = DevicePixelFormat::PlanarF16Unit;
  auto gpu = cuda::make_cuda_vae_backend(model, options);
  auto cpu = make_cpu_backend(model, 2);
  const std::vector<float> t = {0.2f, 0.6f, 1.0f};
  for (int batch = 0; batch < 2; ++batch) {
    const HostTensor a = random_tensor(1, 4, 9, 13, 54 + 2 * batch);
    const HostTensor b = random_tensor(1, 4, 9, 13, 55 + 2 * batch);
    std::vector<Frame> gpu_frames(t.size()), cpu_frames(t.size());
    std::vector<Frame*> gpu_out, cpu_out;
    for (std::size_t i = 0; i < t.size(); ++i) {
      gpu_out.push_back(&gpu_frames[i]);
      cpu_out.push_back(&cpu_frames[i]);
    }
    gpu->interpolate_to_frames(a, b, t, SlerpOptions{}, gpu_out);
    cpu->interpolate_to_frames(a, b, t, SlerpOptions{}, cpu_out);
    for (std::size_t i = 0; i < t.size(); ++i) {
      const Frame& f = gpu_frames[i];
      const std::string what = "batch " + std::to_string(batch) + " frame " + std::to_string(i);
      ASSERT_EQ(f.location, PixelLocation::Device) << what;
      ASSERT_EQ(f.device.format, DevicePixelFormat::PlanarF16Unit) << what;
      ASSERT_EQ(f.width, cpu_frames[i].width) << what;
      ASSERT_EQ(f.height, cpu_frames[i].height) << what;
      ASSERT_GE(f.device.pitch_bytes, static_cast<std::size_t>(f.width) * 2) << what;
      DW_CUDA_CHECK(cudaEventSynchronize(static_cast<cudaEvent_t>(f.device.ready_event)));
      const std::size_t row = static_cast<std::size_t>(f.width) * 2;
      std::vector<std::uint16_t> planes(static_cast<std::size_t>(f.width) * f.height * 3);
      DW_CUDA_CHECK(cudaMemcpy2D(planes.data(), row, f.device.memory.get(), f.device.pitch_bytes,
                                 row, static_cast<std::size_t>(f.height) * 3,
                                 cudaMemcpyDeviceToHost));
      // As [0, 1] RGB images; the CPU frame is 8-bit, so its rounding bounds the match.
      HostTensor got(1, 3, f.height, f.width), want(1, 3, f.height, f.width);
      const std::size_t plane = static_cast<std::size_t>(f.width) * f.height;
      for (int c = 0; c < 3; ++c)
        for (std::size_t p = 0; p < plane; ++p) {
          got.data[c * plane + p] = half_to_float(planes[c * plane + p]);
          want.data[c * plane + p] = cpu_frames[i].host_rgba[p * 4 + c] / 255.0f;
        }
      ASSERT_TRUE(gpu_test::all_finite(got)) << what;
      EXPECT_GE(*std::min_element(got.data.begin(), got.data.end()), 0.0f) << what;
      EXPECT_LE(*std::max_element(got.data.begin(), got.data.end()), 1.0f) << what;
      EXPECT_GE(psnr(got, want), 40.0) << what;
      EXPECT_LE(relative_error(got, want), kImageRelativeError) << what;
      // The cache's small copy of a planar frame: the box filter of these very pixels.
      Image full(f.width, f.height);
      for (std::size_t p = 0; p < plane; ++p) {
        for (int c = 0; c < 3; ++c)
          full.rgba[p * 4 + c] = static_cast<std::uint8_t>(
              std::lround(std::clamp(got.data[c * plane + p], 0.0f, 1.0f) * 255.0f));
        full.rgba[p * 4 + 3] = 255;
      }
      const Image expected = shrink_to_fit(full, 40);
      const Image small = gpu->frame_preview(f, 40);
      ASSERT_EQ(small.width, expected.width) << what;
      ASSERT_EQ(small.height, expected.height) << what;
      int worst = 0;
      for (std::size_t p = 0; p < small.rgba.size(); ++p)
        worst = std::max(worst, std::abs(int(small.rgba[p]) - int(expected.rgba[p])));
      EXPECT_LE(worst, 1) << what << ": preview vs the box filter of its planes";
    }
  }
  EXPECT_EQ(gpu->counters().host_frames, 0u) << "planar frames stay on the GPU";
  EXPECT_EQ(gpu->counters().device_frames, 2 * t.size());
}

TEST_F(GpuBackend, HostFramesMatchTheCpuBackendsFrames) {
  const auto model = load_vae(fixture("tae4_decoder.safetensors"));
  CudaBackendOptions options;
  options.host_frames = true;
  auto gpu = cuda::make_cuda_vae_backend(model, options);
  auto cpu = make_cpu_backend(model, 2);
  const HostTensor a = random_tensor(1, 4, 9, 13, 52), b = random_tensor(1, 4, 9, 13, 53);
  const std::vector<float> t = {0.25f, 0.75f};
  Frame gpu_frames[2], cpu_frames[2];
  Frame* gpu_out[] = {&gpu_frames[0], &gpu_frames[1]};
  Frame* cpu_out[] = {&cpu_frames[0], &cpu_frames[1]};
  for (Frame& f : gpu_frames) f.host_rgba.assign(13 * 8 * 9 * 8 * 4, 0x5A);  // poisoned
  gpu->interpolate_to_frames(a, b, t, SlerpOptions{}, gpu_out);
  cpu->interpolate_to_frames(a, b, t, SlerpOptions{}, cpu_out);
  for (int i = 0; i < 2; ++i) {
    ASSERT_EQ(gpu_frames[i].location, PixelLocation::Host);
    ASSERT_EQ(gpu_frames[i].host_rgba.size(), cpu_frames[i].host_rgba.size());
    HostTensor got(1, 1, 1, static_cast<int>(gpu_frames[i].host_rgba.size()));
    HostTensor want = got;
    for (std::size_t p = 0; p < got.data.size(); ++p) {
      got.data[p] = gpu_frames[i].host_rgba[p] / 255.0f;
      want.data[p] = cpu_frames[i].host_rgba[p] / 255.0f;
    }
    EXPECT_GE(psnr(got, want), 40.0) << "frame " << i;
  }
}

TEST_F(GpuBackend, SlerpMatchesTheHostSlerp) {
  const auto model = load_vae(fixture("tae4_decoder.safetensors"));
  auto gpu = cuda::make_cuda_vae_backend(model, CudaBackendOptions{});
  const HostTensor a = random_tensor(1, 4, 24, 40, 60), b = random_tensor(1, 4, 24, 40, 61);
  const std::vector<float> t = {0.1f, 0.3f, 0.6f, 0.95f};
  const HostTensor result = gpu->slerp(a, b, t, SlerpOptions{});
  EXPECT_LT(relative_error(result, slerp_host(a, b, t, SlerpOptions{})), 1e-6);
  EXPECT_THROW(gpu->slerp(a, random_tensor(1, 4, 24, 8, 62), t, SlerpOptions{}), Error);
}

TEST_F(GpuBackend, CudaGraphReplaysGiveTheEagerResultBitForBit) {
  // From a plan's second run on, its steps replay as one CUDA graph; the numbers must not change.
  const auto model = load_vae(fixture("kl4_ldm.safetensors"));
  CudaBackendOptions eager_options;
  eager_options.cuda_graphs = false;
  auto graphs = cuda::make_cuda_vae_backend(model, CudaBackendOptions{});
  auto eager = cuda::make_cuda_vae_backend(model, eager_options);
  const HostTensor latents = random_tensor(2, 4, 24, 40, 75);
  const HostTensor reference = eager->decode(latents);
  for (int run = 0; run < 3; ++run) EXPECT_EQ(graphs->decode(latents).data, reference.data) << run;
  EXPECT_EQ(eager->decode(latents).data, reference.data);
}

TEST_F(GpuBackend, Fp32PathMatchesTheCpuBackendClosely) {
  const auto model = load_vae(fixture("kl4_ldm.safetensors"));
  CudaBackendOptions options;
  options.fp16 = false;
  auto gpu = cuda::make_cuda_vae_backend(model, options);
  auto cpu = make_cpu_backend(model, 2);
  const HostTensor latents = random_tensor(2, 4, 24, 40, 70);
  const HostTensor images = gpu->decode(latents);
  EXPECT_EQ(gpu->precision(), DType::F32);
  EXPECT_LE(relative_error(images, cpu->decode(latents)), 1e-4);
}

TEST_F(GpuBackend, Fp16OverflowSwitchesTheModelToFp32) {
  // 2e5 is beyond fp16's range (65504): the fp16 decode turns non-finite, the backend reruns in
  // fp32 and stays there; the result then matches the fp32 CPU backend.
  const auto model = load_vae(fixture("kl4_ldm.safetensors"));
  auto gpu = cuda::make_cuda_vae_backend(model, CudaBackendOptions{});
  auto cpu = make_cpu_backend(model, 2);
  HostTensor latents = random_tensor(1, 4, 16, 16, 80);
  EXPECT_GT(psnr(gpu->decode(latents), cpu->decode(latents)), kImagePsnr);
  EXPECT_EQ(gpu->precision(), DType::F16);
  for (float& v : latents.data) v *= 2e5f;
  const HostTensor images = gpu->decode(latents);
  EXPECT_EQ(gpu->precision(), DType::F32);
  ASSERT_TRUE(gpu_test::all_finite(images));
  EXPECT_GE(psnr(images, cpu->decode(latents)), kImagePsnr);
}

TEST_F(GpuBackend, ShutdownMakesEveryLaterCallThrowCancelled) {
  const auto model =
      load_vae(fixture("tae4_decoder.safetensors"), fixture("tae4_encoder.safetensors"));
  auto gpu = cuda::make_cuda_vae_backend(model, CudaBackendOptions{});
  const HostTensor latent = random_tensor(1, 4, 8, 8, 90);
  EXPECT_NO_THROW(gpu->decode(latent));
  gpu->shutdown();
  const std::vector<float> t = {0.5f};
  Frame frame;
  Frame* out[] = {&frame};
  EXPECT_THROW(gpu->decode(latent), Cancelled);
  EXPECT_THROW(gpu->encode(HostTensor(1, 3, 64, 64)), Cancelled);
  EXPECT_THROW(gpu->slerp(latent, latent, t, SlerpOptions{}), Cancelled);
  EXPECT_THROW(gpu->interpolate_to_frames(latent, latent, t, SlerpOptions{}, out), Cancelled);
}

TEST_F(GpuBackend, BadInputIsRefusedWithAClearError) {
  const auto model =
      load_vae(fixture("tae4_decoder.safetensors"), fixture("tae4_encoder.safetensors"));
  auto gpu = cuda::make_cuda_vae_backend(model, CudaBackendOptions{});
  EXPECT_THROW(gpu->decode(HostTensor(1, 16, 8, 8)), Error);
  EXPECT_THROW(gpu->encode(HostTensor(1, 3, 60, 64)), Error);
  const HostTensor latent = random_tensor(1, 4, 8, 8, 91);
  Frame frame;
  Frame* out[] = {&frame};
  const std::vector<float> two_t = {0.3f, 0.6f};
  EXPECT_THROW(gpu->interpolate_to_frames(latent, latent, two_t, SlerpOptions{}, out), Error);
}

TEST_F(GpuBackend, AutoPicksCudaWhenADeviceIsPresent) {
  const auto model = load_vae(fixture("tae4_decoder.safetensors"));
  EXPECT_EQ(make_backend(VaeBackendKind::Auto, model, VaeConfig{})->name(), "cuda");
  EXPECT_EQ(make_backend(VaeBackendKind::Cuda, model, VaeConfig{})->name(), "cuda");
}

}  // namespace
}  // namespace dw::vae
