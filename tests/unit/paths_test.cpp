// A relative path in the config that names a shipped file (assets/...) is found by every reader
// as the config check finds it, whatever the working directory (a service starts in /).
#include "core/paths.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "comfy/workflow.h"
#include "core/params.h"
#include "pipeline/vae_choice.h"
#include "support/test_support.h"

namespace dw {
namespace {

namespace fs = std::filesystem;

class ElsewhereTest : public ::testing::Test {
 protected:
  void SetUp() override { fs::current_path(scratch_.path()); }
  void TearDown() override { fs::current_path(before_); }

  const fs::path before_ = fs::current_path();
  test::ScratchDir scratch_;
};

TEST_F(ElsewhereTest, AShippedRelativePathIsReadWhereTheCheckFoundIt) {
  Config config = default_config();
  config.source.folder = "assets/seeds";
  config.vae.decoder_path = "assets/models/taef2_decoder.safetensors";
  config.vae.encoder_path = "assets/models/taef2_encoder.safetensors";
  config.comfy.workflow = "assets/workflows/sd15_img2img.json";
  ASSERT_FALSE(check_paths(config)) << check_paths(config)->message;

  const fs::path seeds = resolve_input_path(config.source.folder);
  EXPECT_TRUE(seeds.is_absolute() && fs::is_directory(seeds)) << seeds;
  const pipeline::VaeChoice vae = pipeline::choose_vae(config);
  EXPECT_TRUE(fs::is_regular_file(vae.decoder)) << vae.decoder;
  EXPECT_TRUE(fs::is_regular_file(vae.encoder)) << vae.encoder;
  EXPECT_NO_THROW(comfy::Workflow::load(config.comfy.workflow, {}));
}

TEST_F(ElsewhereTest, APathThatExistsHereOrIsAbsoluteOrIsFoundNowhereIsKeptAsGiven) {
  fs::create_directories("assets/seeds");  // here wins over the shipped one
  EXPECT_EQ(resolve_input_path("assets/seeds"), "assets/seeds");
  EXPECT_EQ(resolve_input_path("/no/such/folder"), "/no/such/folder");
  EXPECT_EQ(resolve_input_path("not/mounted/yet"), "not/mounted/yet");
  EXPECT_EQ(resolve_input_path(""), "");
}

}  // namespace
}  // namespace dw
