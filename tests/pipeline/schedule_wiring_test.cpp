// The schedule's thread (app/schedule_wiring.h) on the test clock: it writes the light and the
// schedule's pause bit into Commands, follows live edits of schedule.*, and leaves an operator's
// pause alone. Waits are for events with generous deadlines.
#include "app/schedule_wiring.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>

#include "core/error.h"
#include "core/param_editor.h"
#include "support/test_support.h"

namespace dw::app {
namespace {

using namespace std::chrono_literals;

class TestClock {
 public:
  explicit TestClock(const char* value) { setenv("DREAMWINDOW_TEST_CLOCK", value, 1); }
  ~TestClock() { unsetenv("DREAMWINDOW_TEST_CLOCK"); }
};

Config office_hours() {
  Config c;
  c.schedule.enabled = true;
  c.schedule.fade_s = 60;  // one second of real time at 60x
  c.schedule.mon = c.schedule.tue = "09:00-18:00";
  return c;
}

TEST(ScheduleWiring, ClosingFadesTheLightAndPausesThenALiveEditReopens) {
  const TestClock clock("2026-12-07T17:59:58*60");  // a Monday, just before closing
  ConfigStore config(office_hours());
  Commands commands;
  commands.set_pause(kPauseOperator, true);
  pipeline::PipelineHooks hooks;
  auto runner = start_schedule(config, commands, hooks);
  ASSERT_TRUE(hooks.schedule_state);
  ASSERT_TRUE(test::wait_until(
      [&] { return commands.light.load() == 0.0 && !hooks.schedule_state().open; }, 60s));
  EXPECT_EQ(commands.pause_reasons.load(), kPauseOperator | kPauseSchedule);
  EXPECT_EQ(hooks.schedule_state().next.kind, pipeline::ChangeKind::Opens);

  Config edited = *config.get();
  edited.schedule.mon = "all day";
  config.publish(edited);
  ASSERT_TRUE(test::wait_until(
      [&] { return commands.light.load() == 1.0 && hooks.schedule_state().open; }, 60s));
  EXPECT_EQ(commands.pause_reasons.load(), kPauseOperator) << "the operator's pause stays";

  edited.schedule.enabled = false;
  edited.schedule.mon = "closed";
  config.publish(edited);
  ASSERT_TRUE(test::wait_until([&] { return !hooks.schedule_state().enabled; }, 60s));
  EXPECT_EQ(commands.light.load(), 1.0);
  EXPECT_EQ(commands.pause_reasons.load(), kPauseOperator);
}

// The wall clock jumps past closing time (NTP correcting a clock that booted wrong, the autumn
// daylight-saving change, an edit of the hours): the light fades out at the fade's pace instead
// of cutting to black in one frame; generation pauses at once.
TEST(ScheduleWiring, AWallClockJumpFadesInsteadOfCutting) {
  test::ScratchDir dir;
  const std::string path = (dir.path() / "clock").string();
  std::ofstream(path) << "2026-12-07T17:00:00\n";  // a Monday, open
  const TestClock clock(("file:" + path).c_str());
  Config c = office_hours();
  c.schedule.fade_s = 2;
  ConfigStore config(c);
  Commands commands;
  pipeline::PipelineHooks hooks;
  auto runner = start_schedule(config, commands, hooks);
  EXPECT_EQ(commands.light.load(), 1.0);
  std::ofstream(path, std::ios::trunc) << "2026-12-07T18:10:00\n";  // long after closing
  bool between = false;
  ASSERT_TRUE(test::wait_until(
      [&] {
        const double light = commands.light.load();
        between = between || (light > 0.0 && light < 1.0);
        return light == 0.0;
      },
      60s));
  EXPECT_TRUE(between) << "the light went from 1 to 0 in one step";
  EXPECT_TRUE(commands.generation_paused());
}

TEST(ScheduleWiring, StartingWhileClosedIsDarkAndPausedAtOnce) {
  const TestClock clock("2026-12-07T22:00:00");
  ConfigStore config(office_hours());
  Commands commands;
  pipeline::PipelineHooks hooks;
  auto runner = start_schedule(config, commands, hooks);
  EXPECT_EQ(commands.light.load(), 0.0);
  EXPECT_TRUE(commands.generation_paused());
  EXPECT_EQ(hooks.schedule_state().next.text, "opens tomorrow at 09:00");
}

TEST(ScheduleWiring, TheTestClockIsCheckedAndAThemeWindowNeedsKnownThemes) {
  EXPECT_NO_THROW(parse_test_clock("2026-12-07T17:59:58"));
  EXPECT_DOUBLE_EQ(parse_test_clock("2026-12-07T17:59:58*6000").scale, 6000);
  for (const char* bad :
       {"", "17:59", "2026-12-07 17:59:58", "2026-02-30T10:00:00", "2026-12-07T25:00:00",
        "2026-12-07T10:00:00*", "2026-12-07T10:00:00*-1", "2026-12-07T10:00:00x60"})
    EXPECT_THROW(parse_test_clock(bad), InputError) << bad;

  const TestClock clock("2026-12-07T12:00:00");
  Config c = office_hours();
  c.schedule.themes = {"22:00-06:00=no such theme"};
  ConfigStore config(c);
  Commands commands;
  pipeline::PipelineHooks hooks;
  try {
    start_schedule(config, commands, hooks);
    ADD_FAILURE() << "an unknown theme name was accepted";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("'no such theme'"), std::string::npos) << e.what();
  }
}

// What a start refuses (a theme window naming a theme the themes file lacks) is refused live too,
// from any way in and by a reload, so that a saved edit never stops the next start.
TEST(ScheduleWiring, AnUnknownThemeIsRefusedLiveAndOnReloadAsAtStart) {
  test::ScratchDir dir;
  ConfigStore config(office_hours());
  ParamEditor editor(config, dir / "config.toml");
  editor.add_check({"schedule.themes", "prompts.themes_file"}, check_schedule_themes);
  const EditOutcome typo = editor.edit("schedule.themes", "22:00-06:00=aurora valey");
  EXPECT_FALSE(typo.ok);
  EXPECT_NE(typo.error.find("'aurora valey'"), std::string::npos) << typo.error;
  EXPECT_NE(typo.error.find("aurora valley"), std::string::npos) << "names the file's themes";
  EXPECT_TRUE(config.get()->schedule.themes.empty());
  const EditOutcome known = editor.edit("schedule.themes", "22:00-06:00=aurora valley");
  ASSERT_TRUE(known.ok) << known.error;
  ASSERT_EQ(editor.save(), std::nullopt);
  // The saved file starts.
  const TestClock clock("2026-12-07T12:00:00");
  Commands commands;
  pipeline::PipelineHooks hooks;
  EXPECT_NO_THROW(start_schedule(config, commands, hooks));
  // A hand edit of the file with the typo: the reload is refused and changes nothing.
  {
    std::ofstream(dir / "config.toml") << "[schedule]\nenabled = true\nthemes = "
                                          "[\"22:00-06:00=aurora valey\"]\n";
  }
  const ReloadOutcome reload = editor.reload();
  EXPECT_FALSE(reload.ok);
  EXPECT_NE(reload.error.find("'aurora valey'"), std::string::npos) << reload.error;
  EXPECT_EQ(config.get()->schedule.themes, std::vector<std::string>{"22:00-06:00=aurora valley"});
}

}  // namespace
}  // namespace dw::app
