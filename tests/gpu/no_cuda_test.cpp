// Built only where the CUDA backend is not (the cpu preset), so that `ctest -L gpu` finds this
// instead of nothing: asking for the CUDA backend must say how to get it.
#include <gtest/gtest.h>

#include <string>

#include "core/error.h"
#include "vae/backend.h"
#include "vae/model.h"
#include "vae_test_support.h"

namespace dw::vae {
namespace {

TEST(CudaBackendAbsent, AskingForItNamesTheCudaPreset) {
  const auto model = load_vae((test::fixtures_dir() / "tae4_decoder.safetensors").string());
  try {
    make_backend(VaeBackendKind::Cuda, model, VaeConfig{});
    FAIL() << "a build without CUDA made a CUDA backend";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("cuda preset"), std::string::npos) << e.what();
  }
  EXPECT_EQ(make_backend(VaeBackendKind::Auto, model, VaeConfig{})->name(), "cpu");
}

}  // namespace
}  // namespace dw::vae
