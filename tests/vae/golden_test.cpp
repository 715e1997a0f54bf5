// The CPU backend against PyTorch: fixtures made by tools/make_vae_fixtures.py (diffusers'
// AutoencoderKL and TAE modules with seeded random weights, and the real taef2 weights), compared
// by relative L2 error. fp32 on both sides: what remains is summation order, far below 1e-4.
#include <gtest/gtest.h>

#include "core/error.h"
#include "core/image.h"
#include "safetensors_writer.h"
#include "vae/backend.h"
#include "vae/cpu_executor.h"
#include "vae/model.h"
#include "vae/pixels.h"
#include "vae_test_support.h"

namespace dw::vae {
namespace {

using test::fixtures_dir;
using test::read_tensor;
using test::relative_error;

constexpr double kTolerance = 1e-4;  // relative L2 error allowed against PyTorch fp32

std::string fixture(const std::string& name) {
  return (fixtures_dir() / name).string();
}

HostTensor to_signed(HostTensor t) {
  for (float& v : t.data) v = v * 2.0f - 1.0f;
  return t;
}

struct Golden {
  const char* name;
  const char* decoder_file;
  const char* encoder_file;  // "" when the decoder file holds both halves
  const char* io_file;
  Family family;
  int latent_channels;
};

void PrintTo(const Golden& golden, std::ostream* os) {
  *os << golden.name;
}

class GoldenModels : public ::testing::TestWithParam<Golden> {};

TEST_P(GoldenModels, DecoderAndEncoderMatchPyTorch) {
  const Golden& g = GetParam();
  const auto model =
      load_vae(fixture(g.decoder_file), *g.encoder_file ? fixture(g.encoder_file) : std::string());
  EXPECT_EQ(model->info.family, g.family);
  EXPECT_EQ(model->info.latent_channels, g.latent_channels);
  ASSERT_TRUE(model->encoder && model->decoder);
  const auto io = SafetensorsFile::open(fixture(g.io_file));
  ThreadPool pool(2);
  CpuGraphRunner runner(pool);
  const bool kl = g.family == Family::AutoencoderKL;

  const HostTensor decoded = runner.run(*model->decoder, read_tensor(io, "decode_in"));
  const double decode_error = relative_error(decoded, read_tensor(io, "decode_out"));
  EXPECT_LT(decode_error, kTolerance) << g.name << " decoder";

  const HostTensor images = read_tensor(io, "encode_in");  // [0, 1]
  const HostTensor encoded = runner.run(*model->encoder, kl ? to_signed(images) : images);
  const double encode_error = relative_error(encoded, read_tensor(io, "encode_out"));
  EXPECT_LT(encode_error, kTolerance) << g.name << " encoder";
  RecordProperty("decode_relative_error", std::to_string(decode_error));
  RecordProperty("encode_relative_error", std::to_string(encode_error));
}

INSTANTIATE_TEST_SUITE_P(
    Fixtures, GoldenModels,
    ::testing::Values(Golden{"kl4_ldm", "kl4_ldm.safetensors", "", "kl4_io.safetensors",
                             Family::AutoencoderKL, 4},
                      Golden{"kl4_diffusers", "kl4_diffusers.safetensors", "", "kl4_io.safetensors",
                             Family::AutoencoderKL, 4},
                      Golden{"kl16_diffusers_legacy", "kl16_diffusers-legacy.safetensors", "",
                             "kl16_io.safetensors", Family::AutoencoderKL, 16},
                      Golden{"tae4", "tae4_decoder.safetensors", "tae4_encoder.safetensors",
                             "tae4_io.safetensors", Family::Tae, 4},
                      Golden{"tae32_pool_combined", "tae32.safetensors", "", "tae32_io.safetensors",
                             Family::Tae, 32}),
    [](const ::testing::TestParamInfo<Golden>& param_info) {
      return std::string(param_info.param.name);
    });

TEST(GoldenModels, BothKlLayoutsLoadToTheSameModel) {
  const auto ldm = load_vae(fixture("kl4_ldm.safetensors"));
  const auto diffusers = load_vae(fixture("kl4_diffusers.safetensors"));
  EXPECT_EQ(ldm->info.layout, KeyLayout::Ldm);
  EXPECT_EQ(diffusers->info.layout, KeyLayout::Diffusers);
  for (const auto& [a, b] : {std::pair{&*ldm->decoder, &*diffusers->decoder},
                             std::pair{&*ldm->encoder, &*diffusers->encoder}}) {
    ASSERT_EQ(a->ops.size(), b->ops.size());
    for (std::size_t i = 0; i < a->ops.size(); ++i) {
      EXPECT_EQ(a->ops[i].kind, b->ops[i].kind) << i;
      EXPECT_EQ(a->values[a->ops[i].output].channels, b->values[b->ops[i].output].channels) << i;
    }
    ASSERT_EQ(a->weights.size(), b->weights.size());
    for (std::size_t i = 0; i < a->weights.size(); ++i) {
      EXPECT_EQ(a->weights[i].shape, b->weights[i].shape) << a->weights[i].name;
      EXPECT_EQ(a->weights[i].data, b->weights[i].data)
          << a->weights[i].name << " vs " << b->weights[i].name;
    }
  }
}

TEST(GoldenModels, VaeInsideAFullCheckpointLoadsUnderItsPrefix) {
  const auto file = SafetensorsFile::open(fixture("kl4_ldm.safetensors"));
  auto tensors =
      test::copy_tensors(file, [](const std::string& n) { return "first_stage_model." + n; });
  // The rest of a checkpoint: a UNet weight and a text encoder's int64 position ids.
  tensors.push_back(
      test::f32_tensor("model.diffusion_model.input_blocks.0.0.weight", {8, 4, 3, 3}));
  test::TensorSpec ids{"cond_stage_model.transformer.text_model.embeddings.position_ids",
                       "I64",
                       {1, 77},
                       std::vector<std::uint8_t>(77 * 8, 0)};
  tensors.push_back(ids);
  dw::test::ScratchDir dir;
  test::write_safetensors(dir / "checkpoint.safetensors", tensors);
  const auto model = load_vae(dir / "checkpoint.safetensors");
  EXPECT_EQ(model->info.key_prefix, "first_stage_model.");
  EXPECT_EQ(model->info.layout, KeyLayout::Ldm);
  const auto io = SafetensorsFile::open(fixture("kl4_io.safetensors"));
  ThreadPool pool(1);
  CpuGraphRunner runner(pool);
  EXPECT_LT(relative_error(runner.run(*model->decoder, read_tensor(io, "decode_in")),
                           read_tensor(io, "decode_out")),
            kTolerance);
}

TEST(GoldenModels, BackendAppliesTheImageRangeOfEachFamily) {
  // KL graphs work in [-1, 1]; the backend interface is [0, 1] images and raw latents.
  const auto model = load_vae(fixture("kl4_ldm.safetensors"));
  auto backend = make_cpu_backend(model, 2);
  const auto io = SafetensorsFile::open(fixture("kl4_io.safetensors"));
  const HostTensor latents = backend->encode(read_tensor(io, "encode_in"));
  EXPECT_LT(relative_error(latents, read_tensor(io, "encode_out")), kTolerance);
  const HostTensor images = backend->decode(read_tensor(io, "decode_in"));
  const HostTensor reference = read_tensor(io, "decode_out");
  ASSERT_EQ(images.size(), reference.size());
  double worst = 0;
  for (std::size_t i = 0; i < images.size(); ++i) {
    const float expected = std::clamp((reference.data[i] + 1.0f) * 0.5f, 0.0f, 1.0f);
    worst = std::max(worst, static_cast<double>(std::abs(images.data[i] - expected)));
  }
  EXPECT_LT(worst, 1e-4);
}

TEST(GoldenModels, ResultsAreIdenticalForAnyThreadCountAndBatchPosition) {
  const auto model = load_vae(fixture("kl4_ldm.safetensors"));
  const auto io = SafetensorsFile::open(fixture("kl4_io.safetensors"));
  const HostTensor batch = read_tensor(io, "decode_in");  // [2, 4, 16, 16]
  ThreadPool one(1), three(3);
  CpuGraphRunner serial(one), parallel(three);
  const HostTensor a = serial.run(*model->decoder, batch);
  const HostTensor b = parallel.run(*model->decoder, batch);
  EXPECT_EQ(a.data, b.data);
  EXPECT_EQ(parallel.run(*model->decoder, batch).data, b.data);  // warm buffers, same result
  HostTensor second(1, batch.c, batch.h, batch.w);
  std::copy(batch.at(1, 0), batch.at(1, 0) + batch.item(), second.data.begin());
  const HostTensor alone = parallel.run(*model->decoder, second);
  EXPECT_TRUE(std::equal(alone.data.begin(), alone.data.end(), b.at(1, 0)));
  // Tiny chunks (one item at a time) give the same batch result.
  parallel.max_value_bytes = 1;
  EXPECT_EQ(parallel.run(*model->decoder, batch).data, b.data);
}

TEST(GoldenModels, InputThatDoesNotFitTheGraphIsRefused) {
  const auto model =
      load_vae(fixture("tae4_decoder.safetensors"), fixture("tae4_encoder.safetensors"));
  auto backend = make_cpu_backend(model, 1);
  EXPECT_THROW(backend->decode(HostTensor(1, 16, 8, 8)), Error);   // 16 channels, model has 4
  EXPECT_THROW(backend->encode(HostTensor(1, 3, 60, 64)), Error);  // 60 is no multiple of 8
  EXPECT_THROW(backend->encode(HostTensor(1, 4, 64, 64)), Error);
}

TEST(Taef2Real, EncoderAndDecoderMatchPyTorch) {
  const auto models = dw::test::shared_models_dir();
  if (models.empty()) GTEST_SKIP() << "../shared/models is absent: real taef2 weights not tested";
  const auto model = load_vae((models / "taef2_decoder.safetensors").string(),
                              (models / "taef2_encoder.safetensors").string());
  const auto io = SafetensorsFile::open(fixture("taef2_real_io.safetensors"));
  const HostTensor image = image_to_tensor(load_image(fixture("test_image.png")));
  ThreadPool pool(2);
  CpuGraphRunner runner(pool);
  const HostTensor reference_latent = read_tensor(io, "encode_out");
  EXPECT_LT(relative_error(runner.run(*model->encoder, image), reference_latent), kTolerance);
  EXPECT_LT(
      relative_error(runner.run(*model->decoder, reference_latent), read_tensor(io, "decode_out")),
      kTolerance);
}

}  // namespace
}  // namespace dw::vae
