// Which VAE the pipeline loads when vae.decoder is empty, "none" or a file.
#include "pipeline/vae_choice.h"

#include <gtest/gtest.h>

#include <filesystem>

namespace dw::pipeline {
namespace {

TEST(VaeChoice, TheDefaultIsTheBundledTaef2ForTheOfflineSource) {
  const Config c;  // offline (no ComfyUI URL), vae.decoder empty
  const VaeChoice v = choose_vae(c);
  ASSERT_FALSE(v.decoder.empty()) << v.why;
  EXPECT_TRUE(std::filesystem::exists(v.decoder)) << v.decoder;
  EXPECT_TRUE(std::filesystem::exists(v.encoder)) << v.encoder;
  EXPECT_NE(v.decoder.find("taef2_decoder"), std::string::npos);
  // The license travels with the weights.
  EXPECT_TRUE(std::filesystem::exists(std::filesystem::path(v.decoder).parent_path() /
                                      "LICENSE-taesd.txt"));
}

TEST(VaeChoice, Flux2WorkflowsGetTaef2OtherWorkflowsNoDefault) {
  Config c;
  c.comfy.urls = {"http://gpu1:8188"};
  c.comfy.workflow = "sd15_img2img";
  EXPECT_TRUE(choose_vae(c).decoder.empty()) << "SD1.5 latents need the checkpoint's VAE";
  EXPECT_NE(choose_vae(c).why.find("vae.decoder"), std::string::npos) << "says what to set";
  c.comfy.workflow = "/home/me/Flux.2-dev_img2img.json";
  EXPECT_FALSE(choose_vae(c).decoder.empty());
  EXPECT_TRUE(is_flux2_workflow("flux_2_klein"));
  EXPECT_FALSE(is_flux2_workflow("flux1_dev"));
}

TEST(VaeChoice, NoneMeansCrossfadesAndAFileIsTakenAsGiven) {
  Config c;
  c.vae.decoder_path = "none";
  EXPECT_TRUE(choose_vae(c).decoder.empty());
  c.vae.decoder_path = "/models/sdxl_vae.safetensors";
  c.vae.encoder_path = "";
  const VaeChoice v = choose_vae(c);
  EXPECT_EQ(v.decoder, "/models/sdxl_vae.safetensors");
  EXPECT_TRUE(v.encoder.empty());
}

}  // namespace
}  // namespace dw::pipeline
