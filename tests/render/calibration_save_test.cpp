// Saving a calibration into the config file: the corners and meshes go into the [[output]]
// tables, everything else the file sets stays; a file that cannot be read back is left alone.
#include <gtest/gtest.h>

#include <chrono>
#include <condition_variable>
#include <fstream>
#include <mutex>
#include <sstream>

#include "app/calibration_wiring.h"
#include "core/params.h"
#include "support/test_support.h"

namespace dw {
namespace {

void write(const std::string& path, const std::string& text) {
  std::ofstream(path) << text;
}

std::string read(const std::string& path) {
  std::stringstream s;
  s << std::ifstream(path).rdbuf();
  return s.str();
}

OutputConfig pinned(double inset) {
  OutputConfig o;
  o.corners = {{{inset, inset}, {1 - inset, 0}, {1, 1}, {0, 1 - inset}}};
  return o;
}

TEST(CalibrationSave, TheOneWindowGetsAnOutputTableWithItsCorners) {
  test::ScratchDir dir;
  const std::string path = dir / "sub/config.toml";  // the folder is made too
  Config fullscreen = default_config();
  fullscreen.display.mode = DisplayMode::Fullscreen;
  std::vector<OutputConfig> outputs = outputs_to_calibrate(fullscreen);
  ASSERT_EQ(outputs.size(), 1u);
  EXPECT_EQ(outputs[0].mode, OutputMode::Fullscreen) << "the one window as display.* opens it";
  outputs[0].corners = pinned(0.1).corners;
  outputs[0].mesh = identity_mesh(3, 3);
  outputs[0].mesh.points[4] = {0.55, 0.5};
  ASSERT_EQ(save_calibration(path, outputs), std::nullopt);
  Config back = default_config();
  ASSERT_EQ(load_config_file(path, back), std::nullopt) << read(path);
  ASSERT_EQ(back.outputs.outputs.size(), 1u);
  EXPECT_EQ(back.outputs.outputs[0].corners, outputs[0].corners);
  EXPECT_EQ(back.outputs.outputs[0].mesh, outputs[0].mesh);
  EXPECT_EQ(back.outputs.outputs[0].mode, OutputMode::Fullscreen);
}

TEST(CalibrationSave, KeepsWhatTheFileSetsAndChangesOnlyCornersAndMeshes) {
  test::ScratchDir dir;
  const std::string path = dir / "c.toml";
  write(path, R"([display]
brightness = 1.25

[[output]]
region = [0.0, 0.0, 0.55, 1.0]
blend_right = 0.18

[[output]]
display = 1
region = [0.45, 0.0, 0.55, 1.0]
blend_left = 0.18
)");
  Config file = default_config();
  ASSERT_EQ(load_config_file(path, file), std::nullopt);
  std::vector<OutputConfig> outputs = outputs_to_calibrate(file);
  ASSERT_EQ(outputs.size(), 2u);
  outputs[1].corners = pinned(0.05).corners;
  outputs[0].blend.right = 0.5;  // not calibration's to save
  ASSERT_EQ(save_calibration(path, outputs), std::nullopt);
  Config back = default_config();
  ASSERT_EQ(load_config_file(path, back), std::nullopt) << read(path);
  EXPECT_DOUBLE_EQ(back.display.brightness, 1.25);
  ASSERT_EQ(back.outputs.outputs.size(), 2u);
  EXPECT_EQ(back.outputs.outputs[1].corners, pinned(0.05).corners);
  EXPECT_EQ(back.outputs.outputs[1].display, 1);
  EXPECT_DOUBLE_EQ(back.outputs.outputs[1].region.x, 0.45);
  EXPECT_DOUBLE_EQ(back.outputs.outputs[0].blend.right, 0.18);
}

TEST(CalibrationSave, AFileThatDoesNotReadBackOrDoesNotMatchIsLeftAlone) {
  test::ScratchDir dir;
  const std::string broken = dir / "broken.toml";
  write(broken, "[display\nbrightness = 2\n");
  const auto err = save_calibration(broken, {pinned(0.1)});
  ASSERT_TRUE(err.has_value());
  EXPECT_NE(err->find("not saved"), std::string::npos) << *err;
  EXPECT_EQ(read(broken), "[display\nbrightness = 2\n");

  const std::string two = dir / "two.toml";
  write(two,
        "[[output]]\nregion = [0.0, 0.0, 0.5, 1.0]\n[[output]]\nregion = [0.5, 0.0, 0.5, "
        "1.0]\n");
  const std::string before = read(two);
  const auto mismatch = save_calibration(two, {pinned(0.1)});
  ASSERT_TRUE(mismatch.has_value());
  EXPECT_NE(mismatch->find("2 [[output]] tables"), std::string::npos) << *mismatch;
  EXPECT_EQ(read(two), before);
}

// Leaving calibration saves on the render thread's turn: a config file on a disk that is slow to
// answer must not hold the picture. The save goes to a thread of its own and is done all the same.
TEST(CalibrationSave, LeavingHandsTheSaveOffAndItIsStillDone) {
  std::mutex mutex;
  std::condition_variable cv;
  bool answer = false;
  std::vector<std::vector<OutputConfig>> saved;
  auto on_save = save_in_background(
      [&](const std::vector<OutputConfig>& outputs) -> std::optional<std::string> {
        std::unique_lock lock(mutex);
        cv.wait_for(lock, std::chrono::seconds(30), [&] { return answer; });
        saved.push_back(outputs);
        return std::nullopt;
      },
      "config.toml");
  const auto start = std::chrono::steady_clock::now();
  on_save({pinned(0.1)});
  on_save({pinned(0.2)});
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(20))
      << "the caller waited for the disk";
  {
    std::lock_guard lock(mutex);
    EXPECT_TRUE(saved.empty());
    answer = true;
  }
  cv.notify_all();
  on_save = nullptr;  // the last copy: what is queued is saved before it goes
  std::lock_guard lock(mutex);
  ASSERT_EQ(saved.size(), 2u);
  EXPECT_DOUBLE_EQ(saved[1][0].corners[0].x, 0.2) << "in order";
}

}  // namespace
}  // namespace dw
