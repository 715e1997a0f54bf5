// Model detection and graph building from keys and shapes: the real taef2 weights, both
// AutoencoderKL key layouts, key prefixes, and files that are no VAE at all.
#include "vae/model.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "core/error.h"
#include "safetensors_writer.h"
#include "support/test_support.h"
#include "vae/safetensors.h"

namespace dw::vae {
namespace {

using test::TensorSpec;

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const InputError& e) {
    return e.what();
  }
  return "";
}

TEST(TaeModel, RealTaef2DecoderAndEncoderBuildWithPoolBranch) {
  const auto models = dw::test::shared_models_dir();
  if (models.empty()) GTEST_SKIP() << "../shared/models is absent: real taef2 weights not tested";
  const auto model = load_vae((models / "taef2_decoder.safetensors").string(),
                              (models / "taef2_encoder.safetensors").string());
  EXPECT_EQ(model->info.family, Family::Tae);
  EXPECT_EQ(model->info.variant, "taef2");
  EXPECT_EQ(model->info.latent_channels, 32);
  EXPECT_EQ(model->info.downscale, 8);
  EXPECT_EQ(model->info.image_range, ImageRange::ZeroOne);
  ASSERT_TRUE(model->decoder && model->encoder);
  EXPECT_EQ(model->decoder->input_channels(), 32);
  EXPECT_EQ(model->decoder->output_channels(), 3);
  EXPECT_EQ(model->encoder->input_channels(), 3);
  EXPECT_EQ(model->encoder->output_channels(), 32);
  // All 79 tensors of each file are used, none twice.
  EXPECT_EQ(model->decoder->weights.size(), 79u);
  EXPECT_EQ(model->encoder->weights.size(), 79u);
  int group_norms = 0;
  for (const Op& op : model->decoder->ops) group_norms += op.kind == OpKind::GroupNorm;
  EXPECT_EQ(group_norms, 3);  // one per pool branch of the innermost stage
  // The decoder upsamples three times; the encoder halves three times.
  const ValueInfo& out = model->decoder->values[model->decoder->output];
  EXPECT_EQ(out.scale_num, 8);
  const ValueInfo& latent = model->encoder->values[model->encoder->output];
  EXPECT_EQ(latent.scale_den, 8);
}

TEST(TaeModel, DecoderUnderDiffusersPrefixIsDetected) {
  const auto models = dw::test::shared_models_dir();
  if (models.empty()) GTEST_SKIP() << "../shared/models is absent: real taef2 weights not tested";
  const auto file = SafetensorsFile::open((models / "taef2_decoder.safetensors").string());
  dw::test::ScratchDir dir;
  test::write_safetensors(
      dir / "tiny.safetensors",
      test::copy_tensors(file, [](const std::string& n) { return "decoder.layers." + n; }));
  const auto model = load_vae(dir / "tiny.safetensors");
  EXPECT_EQ(model->info.key_prefix, "decoder.layers.");
  EXPECT_EQ(model->info.variant, "taef2");
  EXPECT_FALSE(model->encoder.has_value());
}

TEST(TaeModel, EncoderGivenAsDecoderIsRefusedWithAHint) {
  const auto models = dw::test::shared_models_dir();
  if (models.empty()) GTEST_SKIP() << "../shared/models is absent: real taef2 weights not tested";
  const std::string message =
      error_of([&] { load_vae((models / "taef2_encoder.safetensors").string()); });
  EXPECT_NE(message.find("encoder but no decoder"), std::string::npos) << message;
}

TEST(TaeModel, ExtraLayerMeansUnsupportedVariant) {
  const auto models = dw::test::shared_models_dir();
  if (models.empty()) GTEST_SKIP() << "../shared/models is absent: real taef2 weights not tested";
  const auto file = SafetensorsFile::open((models / "taef2_decoder.safetensors").string());
  auto tensors = test::copy_tensors(file, [](const std::string& n) { return n; });
  tensors.push_back(test::f32_tensor("20.weight", {3, 3, 3, 3}));
  dw::test::ScratchDir dir;
  test::write_safetensors(dir / "more.safetensors", tensors);
  const std::string message = error_of([&] { load_vae(dir / "more.safetensors"); });
  EXPECT_NE(message.find("'20.weight' is layer 20"), std::string::npos) << message;
}

TEST(ModelDetection, UnknownFileSaysWhatWasFound) {
  dw::test::ScratchDir dir;
  test::write_safetensors(dir / "clip.safetensors",
                          {test::f32_tensor("text_model.embeddings.weight", {8, 4}),
                           test::f32_tensor("text_model.final_layer_norm.weight", {4})});
  const std::string message = error_of([&] { load_vae(dir / "clip.safetensors"); });
  EXPECT_NE(message.find("clip.safetensors"), std::string::npos) << message;
  EXPECT_NE(message.find("found 2 tensors"), std::string::npos) << message;
  EXPECT_NE(message.find("'text_model.embeddings.weight' [8, 4]"), std::string::npos) << message;
  EXPECT_NE(message.find("decoder.conv_in.weight"), std::string::npos) << message;
}

TEST(ModelDetection, KlKeysWithoutAKnownMidBlockAreNamed) {
  dw::test::ScratchDir dir;
  test::write_safetensors(dir / "odd.safetensors",
                          {test::f32_tensor("decoder.conv_in.weight", {32, 4, 3, 3})});
  const std::string message = error_of([&] { load_vae(dir / "odd.safetensors"); });
  EXPECT_NE(message.find("neither an LDM mid block"), std::string::npos) << message;
}

TEST(ModelDetection, MissingFileIsAnInputError) {
  const std::string message = error_of([] { load_vae("/nonexistent/vae.safetensors"); });
  EXPECT_NE(message.find("/nonexistent/vae.safetensors"), std::string::npos) << message;
}

}  // namespace
}  // namespace dw::vae
