// The one editor every way in shares (overlay, remote, OSC, SIGHUP) and the action table: what a
// person changing a value from a phone or a SIGHUP after editing the file gets.
#include "core/param_editor.h"

#include <gtest/gtest.h>

#include <fstream>
#include <thread>

#include "core/actions.h"
#include "core/commands.h"
#include "support/test_support.h"

namespace dw {
namespace {

TEST(ParamEditor, LiveEditsApplyAtOnceRestartEditsArePending) {
  ConfigStore store(default_config());
  ParamEditor editor(store, "unused.toml");
  EditOutcome live = editor.edit("display.gamma", "1.5");
  ASSERT_TRUE(live.ok) << live.error;
  EXPECT_FALSE(live.pending_restart);
  EXPECT_DOUBLE_EQ(store.get()->display.gamma, 1.5);
  EditOutcome restart = editor.edit("display.width", "640");
  ASSERT_TRUE(restart.ok) << restart.error;
  EXPECT_TRUE(restart.pending_restart);
  EXPECT_EQ(store.get()->display.width, default_config().display.width);
  EXPECT_EQ(editor.view().display.width, 640);
  EXPECT_EQ(editor.pending_restart(), (std::set<std::string>{"display.width"}));
}

// What the overlay's panel sends when a list widget changes: the list's own text.
TEST(ParamEditor, AListEditedAsTheOverlaySendsItKeepsItsItems) {
  ConfigStore store(default_config());
  ParamEditor editor(store, "unused.toml");
  Config edited = editor.view();
  const ParamSpec* urls = find_param("comfy.urls");
  urls->as_list(edited) = {"http://a:8188", "http://b:8188"};
  const EditOutcome restart = editor.edit("comfy.urls", urls->value_text(edited));
  ASSERT_TRUE(restart.ok) << restart.error;
  EXPECT_EQ(editor.view().comfy.urls, (std::vector<std::string>{"http://a:8188", "http://b:8188"}));
  const ParamSpec* light = find_param("schedule.brightness");
  light->as_list(edited) = {"00:00=0.3", "20:00=0.6"};
  const EditOutcome live = editor.edit("schedule.brightness", light->value_text(edited));
  ASSERT_TRUE(live.ok) << live.error;
  EXPECT_EQ(store.get()->schedule.brightness, (std::vector<std::string>{"00:00=0.3", "20:00=0.6"}));
}

TEST(ParamEditor, RefusalsUseTheConfigFilesWording) {
  ConfigStore store(default_config());
  ParamEditor editor(store, "unused.toml");
  EditOutcome range = editor.edit("display.gamma", "9");
  EXPECT_FALSE(range.ok);
  EXPECT_NE(range.error.find("display.gamma"), std::string::npos) << range.error;
  EXPECT_NE(range.error.find("[0.2, 5]"), std::string::npos) << range.error;
  EditOutcome unknown = editor.edit("display.gama", "1");
  EXPECT_FALSE(unknown.ok);
  EXPECT_NE(unknown.error.find("display.gama"), std::string::npos);
  EXPECT_EQ(editor.edits(), 0u);
}

// A prompt sent with a CR (a control surface's text field) is refused as the HTTP API refuses
// it; and whatever a string holds, the saved file reads back (TOML takes no raw control
// character), so the next start is never refused over it.
TEST(ParamEditor, ControlCharactersAreRefusedAndNeverMakeAnUnreadableFile) {
  test::ScratchDir dir;
  ConfigStore store(default_config());
  ParamEditor editor(store, dir / "config.toml");
  const EditOutcome cr = editor.edit("comfy.positive", "dusk\r\n");
  EXPECT_FALSE(cr.ok);
  EXPECT_NE(cr.error.find("control characters"), std::string::npos) << cr.error;
  EXPECT_FALSE(editor.edit("comfy.positive", std::string("a\x01") + "b").ok);
  EXPECT_EQ(store.get()->comfy.positive, default_config().comfy.positive);
  ASSERT_TRUE(editor.edit("comfy.positive", "dusk, \"fog\" \\ rain").ok);
  ASSERT_EQ(editor.save(), std::nullopt);
  Config back = default_config();
  ASSERT_EQ(load_config_file(dir / "config.toml", back), std::nullopt);
  EXPECT_EQ(back.comfy.positive, "dusk, \"fog\" \\ rain");
  // A string that holds them anyway (a file written by hand with \u escapes) is written back
  // escaped and reads back the same.
  Config odd = default_config();
  odd.comfy.negative = std::string("a\rb\x01") + "c\x7f\x1f";
  std::ofstream(dir / "odd.toml") << config_to_toml(odd);
  Config odd_back = default_config();
  ASSERT_EQ(load_config_file(dir / "odd.toml", odd_back), std::nullopt);
  EXPECT_EQ(odd_back.comfy.negative, odd.comfy.negative);
}

TEST(ParamEditor, OffersTheServersChoicesAndRefusesOthers) {
  ConfigStore store(default_config());
  ParamEditor editor(store, "unused.toml");
  EXPECT_TRUE(editor.edit("comfy.sampler", "anything").ok) << "free text until a server offers";
  editor.set_choices("comfy.sampler", {"euler", "dpmpp_2m"});
  EXPECT_EQ(editor.choices("comfy.sampler"), (std::vector<std::string>{"euler", "dpmpp_2m"}));
  EXPECT_TRUE(editor.edit("comfy.sampler", "dpmpp_2m").ok);
  EXPECT_EQ(store.get()->comfy.sampler, "dpmpp_2m");
  const EditOutcome refused = editor.edit("comfy.sampler", "ddim");
  EXPECT_FALSE(refused.ok);
  EXPECT_NE(refused.error.find("'ddim' is not offered by the server (offered: euler, dpmpp_2m)"),
            std::string::npos)
      << refused.error;
  EXPECT_EQ(store.get()->comfy.sampler, "dpmpp_2m");
}

TEST(ParamEditor, ReloadAppliesLiveRowsAndReportsRestartRows) {
  test::ScratchDir dir;
  const std::string path = dir / "config.toml";
  std::ofstream(path) << "[display]\ngamma = 1.25\n";
  Config start = default_config();
  ASSERT_FALSE(load_config_file(path, start));
  ConfigStore store(start);
  ParamEditor editor(store, path, {{"display.brightness", "2"}});
  std::ofstream(path) << "[display]\ngamma = 1.75\nwidth = 800\nbrightness = 0.5\n";
  ReloadOutcome out = editor.reload();
  ASSERT_TRUE(out.ok) << out.error;
  EXPECT_DOUBLE_EQ(store.get()->display.gamma, 1.75) << "a live row applies at once";
  EXPECT_EQ(store.get()->display.width, default_config().display.width);
  EXPECT_EQ(out.pending, (std::vector<std::string>{"display.width"}));
  EXPECT_DOUBLE_EQ(store.get()->display.brightness, 2.0) << "the command line still wins";

  std::ofstream(path) << "[display\n";
  ReloadOutcome bad = editor.reload();
  EXPECT_FALSE(bad.ok);
  EXPECT_NE(bad.error.find("config.toml"), std::string::npos) << bad.error;
  EXPECT_DOUBLE_EQ(store.get()->display.gamma, 1.75) << "a broken file changes nothing";
}

// An installer tunes a projector in the file and sends SIGHUP: the picture settings of each
// [[output]] apply at once (they used to be ignored, with "applied nothing"); what makes a window
// is named as waiting for a restart.
TEST(ParamEditor, ReloadAppliesAnOutputsPictureLiveAndReportsItsWindow) {
  test::ScratchDir dir;
  const std::string path = dir / "config.toml";
  const auto two = [&](const std::string& second) {
    std::ofstream(path) << "[[output]]\ndisplay = 0\nregion = [0.0, 0.0, 0.5, 1.0]\n"
                        << "[[output]]\ndisplay = 1\nregion = [0.5, 0.0, 0.5, 1.0]\n"
                        << second;
  };
  two("");
  Config start = default_config();
  ASSERT_FALSE(load_config_file(path, start));
  ConfigStore store(start);
  ParamEditor editor(store, path);
  two("brightness = 0.25\nblend_left = 0.1\n");
  ReloadOutcome out = editor.reload();
  ASSERT_TRUE(out.ok) << out.error;
  EXPECT_EQ(out.applied, (std::vector<std::string>{"output 2"}));
  EXPECT_TRUE(out.pending.empty());
  EXPECT_DOUBLE_EQ(store.get()->outputs.outputs.at(1).brightness, 0.25);
  EXPECT_DOUBLE_EQ(store.get()->outputs.outputs.at(1).blend.left, 0.1);

  two("brightness = 0.5\nmode = \"fullscreen\"\n");
  out = editor.reload();
  ASSERT_TRUE(out.ok) << out.error;
  EXPECT_DOUBLE_EQ(store.get()->outputs.outputs.at(1).brightness, 0.5) << "the picture applies";
  EXPECT_EQ(store.get()->outputs.outputs.at(1).mode, OutputMode::Windowed) << "the window waits";
  EXPECT_EQ(out.pending, (std::vector<std::string>{"output 2's window (display, mode, size)"}));

  std::ofstream(path) << "[[output]]\ndisplay = 0\nbrightness = 0.1\n";
  out = editor.reload();
  ASSERT_TRUE(out.ok) << out.error;
  EXPECT_EQ(out.pending, (std::vector<std::string>{"[[output]] count (2 running, 1 in the file)"}));
  EXPECT_DOUBLE_EQ(store.get()->outputs.outputs.at(0).brightness, 1.0)
      << "which output a table means is not known when the count changed";
}

// version() is what the web remote compares to know its parameter list is out of date: it moves
// on with every change the list would show, wherever it came from, and stays put otherwise (a
// page would fetch the whole list again for nothing).
TEST(ParamEditor, VersionMovesOnWithEveryChangeTheParameterListShows) {
  test::ScratchDir dir;
  const std::string path = dir / "config.toml";
  ConfigStore store(default_config());
  ParamEditor editor(store, path);
  std::uint64_t seen = editor.version();
  const auto moved = [&] {
    const std::uint64_t now = editor.version();
    const bool more = now > seen;
    seen = now;
    return more;
  };
  ASSERT_TRUE(editor.edit("display.gamma", "1.5").ok);
  EXPECT_TRUE(moved()) << "a live edit";
  ASSERT_TRUE(editor.edit("display.width", "640").ok);
  EXPECT_TRUE(moved()) << "a restart edit (nothing is published, but the row is now pending)";
  EXPECT_FALSE(editor.edit("display.gamma", "9").ok);
  EXPECT_FALSE(moved()) << "a refused edit";
  ASSERT_EQ(editor.save(), std::nullopt);
  EXPECT_FALSE(moved()) << "a save changes no value";

  std::ofstream(path) << "[display]\ngamma = 1.5\nwidth = 800\n";
  ASSERT_TRUE(editor.reload().ok);
  EXPECT_EQ(editor.view().display.width, 800);
  EXPECT_TRUE(moved()) << "a reload that changes only a restart row's pending value";
  std::ofstream(path) << "[display]\ngamma = 1.5\n";
  ASSERT_TRUE(editor.reload().ok);
  EXPECT_TRUE(editor.pending_restart().empty());
  EXPECT_TRUE(moved()) << "a reload that takes a restart row back to what runs";
  ASSERT_TRUE(editor.reload().ok);
  EXPECT_FALSE(moved()) << "a reload that changes nothing";
  store.update([](Config& c) { c.interpolation.frames_between = 3; });
  EXPECT_TRUE(moved()) << "another writer's publish (a calibration drag)";
}

TEST(ParamEditor, ConcurrentEditorsNeverLoseAnEdit) {
  ConfigStore store(default_config());
  ParamEditor editor(store, "unused.toml");
  std::jthread a([&] {
    for (int i = 0; i < 200; ++i) editor.edit("display.gamma", i % 2 ? "1.5" : "2");
  });
  std::jthread b([&] {
    for (int i = 0; i < 200; ++i) editor.edit("display.brightness", i % 2 ? "0.5" : "1.5");
  });
  a.join();
  b.join();
  EXPECT_EQ(editor.edits(), 400u);
  EXPECT_DOUBLE_EQ(store.get()->display.gamma, 1.5);
  EXPECT_DOUBLE_EQ(store.get()->display.brightness, 0.5) << "one writer never undid the other";
}

// The editor and a writer of another part (a calibration drag publishing the outputs' corners)
// change the same store: neither undoes the other, however the two interleave.
TEST(ParamEditor, AnEditAndAnotherWritersUpdateNeverUndoEachOther) {
  ConfigStore store(default_config());
  ParamEditor editor(store, "unused.toml");
  std::jthread edits([&] {
    for (int i = 0; i < 300; ++i) editor.edit("display.gamma", i % 2 ? "1.5" : "2");
  });
  std::jthread drags([&] {
    for (int i = 1; i <= 300; ++i)
      store.update([i](Config& c) { c.interpolation.frames_between = i; });
  });
  edits.join();
  drags.join();
  EXPECT_DOUBLE_EQ(store.get()->display.gamma, 1.5);
  EXPECT_EQ(store.get()->interpolation.frames_between, 300) << "an edit undid a drag";
  // Increments through update() from two threads all count.
  std::jthread a([&] {
    for (int i = 0; i < 500; ++i) store.update([](Config& c) { ++c.comfy.width; });
  });
  std::jthread b([&] {
    for (int i = 0; i < 500; ++i) store.update([](Config& c) { ++c.comfy.width; });
  });
  a.join();
  b.join();
  EXPECT_EQ(store.get()->comfy.width, default_config().comfy.width + 1000);
}

TEST(ActionTable, RunsByNameAndNamesTheKnownOnesOtherwise) {
  Commands commands;
  ActionTable actions;
  actions.add("pause", "pause generation", [&] {
    commands.set_pause(kPauseOperator, true);
    return ActionResult{true, "generation paused"};
  });
  actions.add("fail", "always fails", []() -> ActionResult { throw std::runtime_error("disk"); });
  EXPECT_TRUE(actions.run("pause").ok);
  EXPECT_TRUE(commands.generation_paused());
  const ActionResult unknown = actions.run("paus");
  EXPECT_FALSE(unknown.ok);
  EXPECT_NE(unknown.message.find("'paus'"), std::string::npos) << unknown.message;
  EXPECT_NE(unknown.message.find("pause"), std::string::npos) << unknown.message;
  const ActionResult failed = actions.run("fail");
  EXPECT_FALSE(failed.ok);
  EXPECT_NE(failed.message.find("disk"), std::string::npos);
  ASSERT_EQ(actions.list().size(), 2u);
  EXPECT_EQ(actions.list().front().name, "fail");
}

TEST(Commands, PauseReasonsAreIndependent) {
  Commands c;
  c.set_pause(kPauseSchedule, true);
  c.set_pause(kPauseOperator, true);
  c.set_pause(kPauseSchedule, false);
  EXPECT_TRUE(c.generation_paused()) << "the schedule opening does not undo the operator's pause";
  c.set_pause(kPauseOperator, false);
  EXPECT_FALSE(c.generation_paused());
}

}  // namespace
}  // namespace dw
