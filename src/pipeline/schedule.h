// The schedule as a pure function: (ScheduleSpec, local wall-clock time) -> ScheduleState. No
// clock is read here; the caller passes the local time (the app from the real clock through
// localtime_r, tests from an injected one), so a week is evaluated in milliseconds and a daylight
// saving change is only ever a jump of the wall clock the caller reports.
//
// Opening hours are evaluated on a timeline of local seconds: each day's ranges (its date's
// exception, else its weekday's) become intervals, joined where they touch (so "all day" on two
// days, or "20:00-24:00" followed by "00:00-02:00", is one open spell). The light follows the
// open/closed state at 1 / fade_s per second, continuously: it fades out after closing time and in
// after opening time, and a short closed spell only dims it as far as it gets.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "core/schedule_spec.h"

namespace dw::pipeline {

// A local wall-clock time: the calendar day (days since 1970-01-01 of the local date) and the
// seconds since local midnight of that day, as a wall clock shows them.
struct LocalTime {
  std::int64_t day = 0;
  double second = 0;  // [0, 86400)
};

// The local time from calendar fields (month 1-12, day 1-31).
LocalTime local_time(int year, int month, int day, int hour = 0, int minute = 0, double second = 0);
// The local time of a real instant, in the machine's time zone as it is now
// (core/local_time.h).
LocalTime local_time_of(std::chrono::system_clock::time_point t);
// `t` moved on by `seconds` of wall clock (days carried; no time zone involved).
LocalTime advanced(LocalTime t, double seconds);
CivilDate civil_date(std::int64_t day);
int weekday(std::int64_t day);  // 0 Monday ... 6 Sunday
// "2026-12-07 09:00:00"
std::string local_time_text(LocalTime t);

enum class ChangeKind { None, Opens, Closes, Theme };

struct NextChange {
  ChangeKind kind = ChangeKind::None;
  LocalTime at;
  double in_s = 0;   // seconds of wall clock from now
  std::string text;  // "closes at 18:00", "opens tomorrow at 09:00", "theme night at 22:00"
};

struct ScheduleState {
  bool enabled = false;
  bool open = true;
  double light = 1;       // 0..1: the fade at closing and opening
  double brightness = 1;  // the brightness curve's factor now
  // The theme window in force ("22:00-06:00", empty: none) and its playlist (empty: the normal
  // rotation of all themes).
  std::string theme_window;
  std::vector<std::string> themes;
  NextChange next;
  // The product the output multiplies in.
  double output_light() const { return light * brightness; }
};

ScheduleState evaluate_schedule(const ScheduleSpec& spec, LocalTime now);

// The brightness curve alone (1 without points), at a time of day in minutes (may be fractional).
double brightness_at(const std::vector<BrightnessPoint>& points, double minute_of_day);

}  // namespace dw::pipeline
