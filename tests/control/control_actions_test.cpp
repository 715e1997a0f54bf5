// The app's control actions (app/actions_wiring.h) as every way in runs them: through the one
// ActionTable, on the one Commands and ParamEditor.
#include <gtest/gtest.h>

#include <fstream>

#include "app/actions_wiring.h"
#include "support/test_support.h"

namespace dw {
namespace {

class ControlActions : public ::testing::Test {
 protected:
  void SetUp() override { register_control_actions(actions_, commands_, editor_, on_reload_); }

  test::ScratchDir dir_;
  std::string path_ = dir_ / "dreamwindow.toml";
  ConfigStore store_{default_config()};
  ParamEditor editor_{store_, path_};
  Commands commands_;
  ActionTable actions_;
  std::vector<ActionResult> reloads_;
  std::function<void(const ActionResult&)> on_reload_ = [this](const ActionResult& r) {
    reloads_.push_back(r);
  };
};

TEST_F(ControlActions, AllAreRegisteredWithHelp) {
  for (const char* name : {"pause", "resume", "toggle_pause", "next_theme", "inject_now", "freeze",
                           "unfreeze", "toggle_freeze", "save_config", "reload_config", "quit"})
    EXPECT_TRUE(actions_.contains(name)) << name;
  for (const ActionInfo& info : actions_.list()) EXPECT_FALSE(info.help.empty()) << info.name;
}

TEST_F(ControlActions, PauseIsTheOperatorsAndLeavesTheSchedulesAlone) {
  EXPECT_EQ(actions_.run("pause").message, "generation paused");
  EXPECT_EQ(commands_.pause_reasons.load(), kPauseOperator);
  commands_.set_pause(kPauseSchedule, true);
  const ActionResult resumed = actions_.run("resume");
  EXPECT_TRUE(resumed.ok);
  EXPECT_NE(resumed.message.find("stays paused by the schedule"), std::string::npos);
  EXPECT_EQ(commands_.pause_reasons.load(), kPauseSchedule);
  actions_.run("toggle_pause");
  EXPECT_EQ(commands_.pause_reasons.load(), kPauseSchedule | kPauseOperator);
  actions_.run("toggle_pause");
  EXPECT_EQ(commands_.pause_reasons.load(), kPauseSchedule);
}

TEST_F(ControlActions, FreezeCountersAndQuitSetTheirCommands) {
  actions_.run("toggle_freeze");
  EXPECT_TRUE(commands_.frozen.load());
  actions_.run("toggle_freeze");
  EXPECT_FALSE(commands_.frozen.load());
  actions_.run("freeze");
  actions_.run("freeze");
  EXPECT_TRUE(commands_.frozen.load());
  actions_.run("unfreeze");
  EXPECT_FALSE(commands_.frozen.load());
  actions_.run("next_theme");
  actions_.run("inject_now");
  actions_.run("inject_now");
  EXPECT_EQ(commands_.next_theme.load(), 1u);
  EXPECT_EQ(commands_.inject_now.load(), 2u);
  EXPECT_EQ(commands_.quit.load(), 0u);
  EXPECT_EQ(actions_.run("quit").message, "quitting");
  EXPECT_EQ(commands_.quit.load(), 1u);
}

TEST_F(ControlActions, SaveThenReloadAppliesLiveRowsAndReportsRestartRows) {
  ASSERT_TRUE(editor_.edit("display.gamma", "1.4").ok);
  const ActionResult saved = actions_.run("save_config");
  ASSERT_TRUE(saved.ok) << saved.message;
  EXPECT_NE(saved.message.find(path_), std::string::npos);
  std::ofstream(path_) << "[display]\ngamma = 1.8\nwidth = 800\n";
  const ActionResult reloaded = actions_.run("reload_config");
  ASSERT_TRUE(reloaded.ok) << reloaded.message;
  EXPECT_DOUBLE_EQ(store_.get()->display.gamma, 1.8);
  EXPECT_NE(reloaded.message.find("applied display.gamma"), std::string::npos) << reloaded.message;
  EXPECT_NE(reloaded.message.find("after a restart: display.width"), std::string::npos)
      << reloaded.message;
  EXPECT_EQ(editor_.pending_restart(), (std::set<std::string>{"display.width"}));
  ASSERT_EQ(reloads_.size(), 1u);
}

TEST_F(ControlActions, ABrokenFileIsAClearErrorAndChangesNothing) {
  std::ofstream(path_) << "[display]\ngamma = 9\n";
  const ActionResult r = actions_.run("reload_config");
  EXPECT_FALSE(r.ok);
  EXPECT_NE(r.message.find("nothing changed"), std::string::npos) << r.message;
  EXPECT_NE(r.message.find("display.gamma"), std::string::npos) << r.message;
  EXPECT_DOUBLE_EQ(store_.get()->display.gamma, default_config().display.gamma);
  ASSERT_EQ(reloads_.size(), 1u);
  EXPECT_FALSE(reloads_[0].ok);
}

}  // namespace
}  // namespace dw
