// The app's recording actions (src/app/record_wiring): what the keys, the remote and OSC run.
#include "app/record_wiring.h"

#include <gtest/gtest.h>

#include <fstream>

#include "core/error.h"
#include "support/test_support.h"

namespace dw {
namespace {

struct Rig {
  explicit Rig(Config c) : initial(std::move(c)), store(initial) {}
  Config initial;
  ConfigStore store;
  Commands commands;
  ActionTable actions;
};

TEST(RecordWiring, ActionsStartStopToggleAndScreenshot) {
  test::ScratchDir dir;
  Config c;
  c.record.dir = dir.path().string();
  c.record.min_free_mb = 0;
  Rig rig(c);
  RecordWiring wiring(rig.initial, rig.store, rig.commands, rig.actions);
  for (const char* name : {"start_recording", "stop_recording", "toggle_recording", "screenshot"})
    EXPECT_TRUE(rig.actions.contains(name)) << name;
  EXPECT_FALSE(rig.commands.recording.load());
  ActionResult r = rig.actions.run("start_recording");
  EXPECT_TRUE(r.ok) << r.message;
  EXPECT_TRUE(rig.commands.recording.load());
  r = rig.actions.run("toggle_recording");
  EXPECT_TRUE(r.ok) << r.message;
  EXPECT_FALSE(rig.commands.recording.load());
  r = rig.actions.run("toggle_recording");
  EXPECT_TRUE(rig.commands.recording.load());
  r = rig.actions.run("stop_recording");
  EXPECT_FALSE(rig.commands.recording.load());
  const auto shots = rig.commands.screenshot.load();
  r = rig.actions.run("screenshot");
  EXPECT_TRUE(r.ok) << r.message;
  EXPECT_EQ(rig.commands.screenshot.load(), shots + 1);
  EXPECT_NE(wiring.sink(), nullptr);
  EXPECT_FALSE(wiring.status().on);
}

TEST(RecordWiring, UnwritableFolderIsRefusedWithItsName) {
  test::ScratchDir scratch;
  const std::string blocker = scratch / "a-file";
  std::ofstream(blocker) << "x";
  Config c;
  c.record.dir = blocker + "/videos";
  Rig rig(c);
  RecordWiring wiring(rig.initial, rig.store, rig.commands, rig.actions);
  const ActionResult r = rig.actions.run("start_recording");
  EXPECT_FALSE(r.ok);
  EXPECT_NE(r.message.find(blocker), std::string::npos) << r.message;
  EXPECT_FALSE(rig.commands.recording.load());
  EXPECT_FALSE(rig.actions.run("screenshot").ok);

  Config enabled = c;
  enabled.record.enabled = true;
  Rig at_start(enabled);
  EXPECT_THROW(RecordWiring(at_start.initial, at_start.store, at_start.commands, at_start.actions),
               InputError);
}

TEST(RecordWiring, DiskBelowTheFloorAtStartIsAnInputError) {
  test::ScratchDir dir;
  Config c;
  c.record.dir = dir.path().string();
  c.record.enabled = true;
  c.record.min_free_mb = 10000000;  // 10 TB: no test machine has that free
  Rig rig(c);
  try {
    RecordWiring wiring(rig.initial, rig.store, rig.commands, rig.actions);
    FAIL() << "no error";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("record.min_free_mb"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace dw
