// The schedule as a pure function of (config, local time): an injected clock walks days and weeks
// in milliseconds. Config text goes through the same parsers and parameter rows the app uses.
#include "pipeline/schedule.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <ctime>

#include "core/params.h"
#include "core/schedule_spec.h"
#include "pipeline/prompt_source.h"

namespace dw::pipeline {
namespace {

// 2026-12-07 is a Monday.
constexpr int kYear = 2026, kMonth = 12, kMonday = 7;

ScheduleSpec spec_of(const ScheduleConfig& config) {
  ScheduleSpec spec;
  const auto err = parse_schedule(config, spec);
  EXPECT_FALSE(err) << *err;
  return spec;
}

// Mon-Fri 09:00-18:00, weekend closed, 30 s fades.
ScheduleConfig office_hours() {
  ScheduleConfig c;
  c.enabled = true;
  c.fade_s = 30;
  for (std::string* day : {&c.mon, &c.tue, &c.wed, &c.thu, &c.fri}) *day = "09:00-18:00";
  c.sat = c.sun = "closed";
  return c;
}

ScheduleState at(const ScheduleSpec& spec, int day_of_december, int h, int m, double s = 0) {
  return evaluate_schedule(spec, local_time(kYear, kMonth, day_of_december, h, m, s));
}

TEST(ScheduleSpec, ReadsEveryDocumentedForm) {
  std::vector<ClockRange> r;
  ASSERT_FALSE(parse_hours("k", "09:00-18:00", r));
  EXPECT_EQ(r, (std::vector<ClockRange>{{540, 1080}}));
  ASSERT_FALSE(parse_hours("k", "10:00 - 12:00, 14:00-18:00", r));
  EXPECT_EQ(r, (std::vector<ClockRange>{{600, 720}, {840, 1080}}));
  ASSERT_FALSE(parse_hours("k", "Closed", r));
  EXPECT_TRUE(r.empty());
  ASSERT_FALSE(parse_hours("k", "all day", r));
  EXPECT_EQ(r, (std::vector<ClockRange>{{0, 1440}}));
  ASSERT_FALSE(parse_hours("k", "20:00-02:00", r));
  EXPECT_TRUE(r.at(0).crosses_midnight());
  ASSERT_FALSE(parse_hours("k", "18:00-24:00", r));
  EXPECT_EQ(r.at(0).end, 1440);

  std::vector<ThemeWindow> w;
  ASSERT_FALSE(parse_theme_windows("k", {"22:00-06:00=night", "12:00-13:00=noon|sun, rain"}, w));
  EXPECT_EQ(w.at(1).themes, (std::vector<std::string>{"noon", "sun", "rain"}));
  EXPECT_EQ(w.at(0).text, "22:00-06:00");
  // A window for the whole day (it was refused as "not ... two different times").
  ASSERT_FALSE(parse_theme_windows("k", {"00:00-24:00=forest"}, w));
  EXPECT_EQ(w.at(0).range, (ClockRange{0, 24 * 60}));
  std::vector<BrightnessPoint> b;
  ASSERT_FALSE(parse_brightness("k", {"20:00=0.6", "0:00=0.3"}, b));
  EXPECT_EQ(b.at(0).minute, 0);  // sorted
  EXPECT_DOUBLE_EQ(b.at(1).factor, 0.6);
}

TEST(ScheduleSpec, MalformedEntriesNameKeyEntryAndExpectation) {
  std::vector<ClockRange> r;
  for (const char* bad : {"9-18", "09:00", "25:00-26:00", "09:60-10:00", "10:00-10:00", "",
                          "24:00-02:00", "09:00-18:00, x"}) {
    const auto err = parse_hours("schedule.mon", bad, r);
    ASSERT_TRUE(err) << bad;
    EXPECT_NE(err->find("schedule.mon"), std::string::npos) << *err;
    EXPECT_NE(err->find("HH:MM-HH:MM"), std::string::npos) << *err;
  }
  std::vector<DateHours> d;
  for (const char* bad : {"2026-12-24", "2026-13-01=closed", "2026-02-29=closed",
                          "2026--12-24=closed", "2026-12-24=9-5", "2026-12-24=closed=x"}) {
    const auto err = parse_dates("schedule.dates", {bad}, d);
    ASSERT_TRUE(err) << bad;
    EXPECT_NE(err->find(std::string("\"") + bad + "\""), std::string::npos) << *err;
    EXPECT_NE(err->find("YYYY-MM-DD=HOURS"), std::string::npos) << *err;
  }
  EXPECT_FALSE(parse_dates("k", {"2028-02-29=closed"}, d));  // a leap day
  EXPECT_TRUE(parse_dates("k", {"2026-12-24=closed", "2026-12-24=10:00-12:00"}, d));
  std::vector<ThemeWindow> w;
  EXPECT_TRUE(parse_theme_windows("schedule.themes", {"22:00-06:00="}, w));
  EXPECT_TRUE(parse_theme_windows("schedule.themes", {"night"}, w));
  std::vector<BrightnessPoint> b;
  for (const char* bad : {"08:00=1.5", "08:00=-0.1", "08:00=bright", "8=1", "24:00=1"}) {
    const auto err = parse_brightness("schedule.brightness", {bad}, b);
    ASSERT_TRUE(err) << bad;
    EXPECT_NE(err->find("schedule.brightness"), std::string::npos) << *err;
    EXPECT_NE(err->find("HH:MM=FACTOR"), std::string::npos) << *err;
  }
}

TEST(ScheduleSpec, ParameterRowsRefuseMalformedEntriesEverywhere) {
  Config c = default_config();
  EXPECT_FALSE(validate_config(c)) << "the defaults are valid";
  const auto err = apply_override(c, "schedule.tue", "9 to 5");
  ASSERT_FALSE(err);  // a string is stored as given; the check runs with the others
  const auto invalid = validate_config(c);
  ASSERT_TRUE(invalid);
  EXPECT_NE(invalid->message.find("schedule.tue = \"9 to 5\""), std::string::npos)
      << invalid->message;
  Config d = default_config();
  ASSERT_FALSE(apply_override(d, "schedule.dates", "2026-12-24=closed,2026-12-31=10:00-16:00"));
  EXPECT_FALSE(validate_config(d));
  ASSERT_FALSE(apply_override(d, "schedule.brightness", "noon=1"));
  ASSERT_TRUE(validate_config(d));
  EXPECT_NE(validate_config(d)->message.find("\"noon=1\""), std::string::npos);
}

TEST(Schedule, DisabledIsAlwaysOpenAtFullLight) {
  ScheduleConfig c = office_hours();
  c.enabled = false;
  c.brightness = {"00:00=0.2"};
  const ScheduleState s = at(spec_of(c), 13, 3, 0);  // a Sunday night
  EXPECT_TRUE(s.open);
  EXPECT_EQ(s.output_light(), 1.0);
  EXPECT_EQ(s.next.kind, ChangeKind::None);
}

TEST(Schedule, FadesOutAfterClosingAndInAfterOpening) {
  const ScheduleSpec spec = spec_of(office_hours());
  EXPECT_FALSE(at(spec, kMonday, 8, 59, 59).open);
  EXPECT_EQ(at(spec, kMonday, 8, 59, 59).light, 0.0);
  EXPECT_TRUE(at(spec, kMonday, 9, 0).open);
  EXPECT_NEAR(at(spec, kMonday, 9, 0, 0).light, 0.0, 1e-9);
  EXPECT_NEAR(at(spec, kMonday, 9, 0, 15).light, 0.5, 1e-9);
  EXPECT_NEAR(at(spec, kMonday, 9, 0, 30).light, 1.0, 1e-9);
  EXPECT_NEAR(at(spec, kMonday, 17, 59, 59).light, 1.0, 1e-9);
  EXPECT_FALSE(at(spec, kMonday, 18, 0).open);
  EXPECT_NEAR(at(spec, kMonday, 18, 0, 0).light, 1.0, 1e-9);
  EXPECT_NEAR(at(spec, kMonday, 18, 0, 10).light, 2.0 / 3.0, 1e-9);
  EXPECT_NEAR(at(spec, kMonday, 18, 0, 30).light, 0.0, 1e-9);
  EXPECT_EQ(at(spec, kMonday, 23, 0).light, 0.0);
}

TEST(Schedule, AWeekAtTwoSecondStepsHasTheRightHoursAndAContinuousLight) {
  const ScheduleSpec spec = spec_of(office_hours());
  const double step = 2.0;
  LocalTime t = local_time(kYear, kMonth, kMonday);
  double open_seconds = 0, previous = at(spec, kMonday - 1, 23, 59, 59).light;
  int openings = 0;
  bool was_open = false;
  for (int i = 0; i < 7 * 86400 / 2; ++i, t = advanced(t, step)) {
    const ScheduleState s = evaluate_schedule(spec, t);
    if (s.open) open_seconds += step;
    if (s.open && !was_open) ++openings;
    was_open = s.open;
    ASSERT_LE(std::abs(s.light - previous), step / spec.fade_s + 1e-9) << local_time_text(t);
    ASSERT_GE(s.light, 0.0);
    ASSERT_LE(s.light, 1.0);
    previous = s.light;
  }
  EXPECT_EQ(open_seconds, 5 * 9 * 3600.0);
  EXPECT_EQ(openings, 5);
}

TEST(Schedule, RangesPastMidnightAndAllDayJoinWithoutAFade) {
  ScheduleConfig c = office_hours();
  c.fri = "20:00-02:00";
  c.mon = c.tue = "all day";
  c.wed = "20:00-24:00";
  c.thu = "00:00-02:00";
  const ScheduleSpec spec = spec_of(c);
  EXPECT_TRUE(at(spec, 12, 1, 59).open);  // Saturday, by Friday's range
  EXPECT_FALSE(at(spec, 12, 2, 0).open);
  EXPECT_EQ(at(spec, 8, 0, 0, 10).light, 1.0);   // Monday into Tuesday: one open spell
  EXPECT_EQ(at(spec, 10, 0, 0, 10).light, 1.0);  // Wednesday 24:00 meets Thursday 00:00
  EXPECT_EQ(at(spec, 7, 12, 0).next.text, "closes on Wed at 00:00");
  EXPECT_EQ(at(spec, 8, 12, 0).next.text, "closes tomorrow at 00:00");
  EXPECT_EQ(at(spec, 9, 22, 0).next.text, "closes tomorrow at 02:00");
}

TEST(Schedule, DateExceptionsOverrideTheWeekday) {
  ScheduleConfig c = office_hours();
  c.dates = {"2026-12-24=10:00-14:00", "2026-12-25=closed", "2026-12-26=12:00-16:00"};
  const ScheduleSpec spec = spec_of(c);
  EXPECT_FALSE(at(spec, 24, 9, 30).open);  // a Thursday, normally open from 09:00
  EXPECT_TRUE(at(spec, 24, 13, 59).open);
  EXPECT_FALSE(at(spec, 24, 15, 0).open);
  EXPECT_FALSE(at(spec, 25, 12, 0).open);  // Friday, closed by exception
  EXPECT_TRUE(at(spec, 26, 12, 0).open);   // Saturday, open by exception
  EXPECT_TRUE(at(spec, 23, 12, 0).open);   // the day before is untouched
  EXPECT_EQ(at(spec, 24, 15, 0).next.text, "opens on Sat at 12:00");
}

TEST(Schedule, NextChangeSaysWhatAndWhen) {
  const ScheduleSpec spec = spec_of(office_hours());
  const ScheduleState monday = at(spec, kMonday, 10, 0);
  EXPECT_EQ(monday.next.kind, ChangeKind::Closes);
  EXPECT_EQ(monday.next.text, "closes at 18:00");
  EXPECT_DOUBLE_EQ(monday.next.in_s, 8 * 3600.0);
  EXPECT_EQ(at(spec, kMonday, 19, 0).next.text, "opens tomorrow at 09:00");
  EXPECT_EQ(at(spec, 11, 19, 0).next.text, "opens on Mon at 09:00");  // Friday evening
  EXPECT_EQ(at(spec, 11, 19, 0).next.kind, ChangeKind::Opens);
  ScheduleConfig c = office_hours();
  c.mon = c.tue = c.wed = c.thu = c.fri = c.sat = c.sun = "closed";
  EXPECT_EQ(at(spec_of(c), kMonday, 12, 0).next.kind, ChangeKind::None);
  c.mon = c.tue = c.wed = c.thu = c.fri = c.sat = c.sun = "all day";
  EXPECT_EQ(at(spec_of(c), kMonday, 12, 0).next.text, "open for the next week");
}

TEST(Schedule, ThemeWindowsPickThePlaylistByTimeOfDay) {
  ScheduleConfig c = office_hours();
  c.mon = "08:00-23:30";
  c.themes = {"22:00-06:00=night", "12:00-13:00=noon|sun", "12:30-14:00=later"};
  const ScheduleSpec spec = spec_of(c);
  EXPECT_EQ(at(spec, kMonday, 23, 0).themes, std::vector<std::string>{"night"});
  EXPECT_EQ(at(spec, kMonday, 23, 0).theme_window, "22:00-06:00");
  EXPECT_EQ(at(spec, kMonday, 3, 0).themes, std::vector<std::string>{"night"});
  EXPECT_EQ(at(spec, kMonday, 12, 45).themes, (std::vector<std::string>{"noon", "sun"}));
  EXPECT_EQ(at(spec, kMonday, 13, 30).themes, std::vector<std::string>{"later"});
  EXPECT_TRUE(at(spec, kMonday, 10, 0).themes.empty());
  EXPECT_TRUE(at(spec, kMonday, 10, 0).theme_window.empty());
  // While open, a theme change before closing time is the next change.
  EXPECT_EQ(at(spec, kMonday, 21, 0).next.text, "theme night at 22:00");
  EXPECT_EQ(at(spec, kMonday, 21, 0).next.kind, ChangeKind::Theme);
  EXPECT_EQ(at(spec, kMonday, 14, 0).next.text, "theme night at 22:00");
  EXPECT_EQ(at(spec, kMonday, 11, 0).next.text, "theme noon|sun at 12:00");
  EXPECT_EQ(at(spec, kMonday, 12, 45).next.text, "theme later at 13:00");
  EXPECT_EQ(at(spec, kMonday, 13, 10).next.text, "theme rotation at 14:00");
  EXPECT_EQ(at(spec, kMonday, 22, 30).next.text, "closes at 23:30");
}

TEST(Schedule, AThemeWindowForTheWholeDayHoldsThroughMidnight) {
  ScheduleConfig c = office_hours();
  c.mon = "all day";
  c.tue = "all day";
  c.themes = {"00:00-24:00=forest"};
  const ScheduleSpec spec = spec_of(c);
  for (int hour : {0, 12, 23})
    EXPECT_EQ(at(spec, kMonday, hour, 59).themes, std::vector<std::string>{"forest"}) << hour;
  EXPECT_NE(at(spec, kMonday, 23, 59).next.kind, ChangeKind::Theme)
      << "no theme change at midnight: " << at(spec, kMonday, 23, 59).next.text;
}

TEST(Schedule, BrightnessCurveIsSmoothAndWrapsMidnight) {
  const std::vector<BrightnessPoint> points = {{0, 0.3}, {8 * 60, 1.0}, {20 * 60, 0.6}};
  EXPECT_DOUBLE_EQ(brightness_at(points, 0), 0.3);
  EXPECT_DOUBLE_EQ(brightness_at(points, 8 * 60), 1.0);
  EXPECT_DOUBLE_EQ(brightness_at(points, 20 * 60), 0.6);
  EXPECT_NEAR(brightness_at(points, 14 * 60), 0.8, 1e-12);   // halfway: the mean
  EXPECT_NEAR(brightness_at(points, 22 * 60), 0.45, 1e-12);  // between 20:00 and midnight
  EXPECT_NEAR(brightness_at(points, 1440 - 1e-6), 0.3, 1e-9);
  double previous = brightness_at(points, 8 * 60);
  for (double m = 8 * 60 + 1; m <= 20 * 60; m += 1) {  // falls monotonically, in small steps
    const double b = brightness_at(points, m);
    ASSERT_LE(b, previous + 1e-12);
    ASSERT_LT(previous - b, 0.01);
    previous = b;
  }
  EXPECT_EQ(brightness_at({}, 600), 1.0);
  EXPECT_EQ(brightness_at({{600, 0.5}}, 100), 0.5);
  ScheduleConfig c = office_hours();
  c.brightness = {"00:00=0.3", "08:00=1.0", "20:00=0.6"};
  const ScheduleState noon = at(spec_of(c), kMonday, 14, 0);
  EXPECT_NEAR(noon.brightness, 0.8, 1e-12);
  EXPECT_NEAR(noon.output_light(), 0.8, 1e-12);
}

// The app converts the real clock with localtime_r: on the day summer time starts the schedule
// still opens at 09:00 on the wall clock, one real hour earlier in UTC.
TEST(Schedule, LocalTimeFollowsTheWallClockAcrossDaylightSaving) {
  const char* old = std::getenv("TZ");
  const std::string saved = old ? old : "";
  setenv("TZ", "Europe/Berlin", 1);
  tzset();
  const auto utc = [](int day, int hour, int minute) {
    return std::chrono::system_clock::time_point(
        std::chrono::sys_days{std::chrono::year{2026} / 3 / day}.time_since_epoch() +
        std::chrono::hours(hour) + std::chrono::minutes(minute));
  };
  const LocalTime before = local_time_of(utc(28, 8, 0));  // CET, UTC+1
  const LocalTime after = local_time_of(utc(29, 7, 0));   // CEST, UTC+2
  const LocalTime just_before = local_time_of(utc(29, 6, 59));
  if (old)
    setenv("TZ", saved.c_str(), 1);
  else
    unsetenv("TZ");
  tzset();
  if (local_time_text(before) == "2026-03-28 08:00:00") GTEST_SKIP() << "no zoneinfo here";
  EXPECT_EQ(local_time_text(before), "2026-03-28 09:00:00");
  EXPECT_EQ(local_time_text(after), "2026-03-29 09:00:00");
  ScheduleConfig c = office_hours();
  c.sat = c.sun = "09:00-18:00";
  c.fade_s = 0;
  const ScheduleSpec spec = spec_of(c);
  EXPECT_TRUE(evaluate_schedule(spec, before).open);
  EXPECT_TRUE(evaluate_schedule(spec, after).open);
  EXPECT_EQ(local_time_text(just_before), "2026-03-29 08:59:00");
  EXPECT_FALSE(evaluate_schedule(spec, just_before).open);
}

// The time zone set while the program runs (an installation commissioned after it started, a
// tzdata update) is the one the schedule goes by from then on, not the one it saw first.
TEST(Schedule, LocalTimeFollowsAZoneSetWhileRunning) {
  const char* old = std::getenv("TZ");
  const std::string saved = old ? old : "";
  const auto instant = std::chrono::system_clock::from_time_t(1780000000);  // 2026-05-28 20:26:40Z
  setenv("TZ", "Europe/Berlin", 1);
  tzset();
  const std::string berlin = local_time_text(local_time_of(instant));
  setenv("TZ", "America/New_York", 1);  // no tzset here: the program never calls it itself
  const std::string new_york = local_time_text(local_time_of(instant));
  if (old)
    setenv("TZ", saved.c_str(), 1);
  else
    unsetenv("TZ");
  tzset();
  if (berlin == "2026-05-28 20:26:40") GTEST_SKIP() << "no zoneinfo here";
  EXPECT_EQ(berlin, "2026-05-28 22:26:40");
  EXPECT_EQ(new_york, "2026-05-28 16:26:40");
}

// The prompt source follows the theme window at the next keyframe, plays the window's names in
// order, skips names it does not know, and goes back to the whole rotation after the window.
TEST(Schedule, PromptSourcePlaysTheThemeWindowsPlaylist) {
  Config config;
  config.prompts.rotate_every = 2;
  config.prompts.time_of_day = false;
  std::vector<std::string> window;
  PromptSettings settings{LiveSection<PromptConfig>(config.prompts),
                          LiveSection<ComfyConfig>(config.comfy), [&window] { return window; }};
  PromptSource source(
      {{"a", {"pos a", ""}, 1.0}, {"b", {"pos b", ""}, 1.0}, {"c", {"pos c", ""}, 1.0}}, 7,
      settings);
  std::uint64_t k = 1;
  const auto play = [&](int n) {
    std::string seen;
    for (int i = 0; i < n; ++i) seen += source.prompt_for(k++).positive.substr(4);
    return seen;
  };
  play(1);
  window = {"c", "a"};
  EXPECT_EQ(play(8), "ccaaccaa");
  window = {"nope", "b"};
  EXPECT_EQ(play(4), "bbbb");
  window = {};
  const std::string free = play(12);
  for (char theme : {'a', 'b', 'c'}) EXPECT_NE(free.find(theme), std::string::npos) << free;
}

}  // namespace
}  // namespace dw::pipeline
