// schedule.*: opening hours, date exceptions, theme windows, brightness by hour. Every row is live
// (the schedule reads a fresh snapshot each step) and checked by the same parsers the schedule
// uses (core/schedule_spec.h), so a malformed entry is refused wherever it comes in.
#include <array>
#include <string>

#include "core/param_table_parts.h"
#include "core/schedule_spec.h"

namespace dw {
namespace {

using C = Config;
using S = ScheduleConfig;
constexpr Apply kLive = Apply::Live;

ParamSpec weekday_row(std::size_t day, std::string S::*field) {
  static constexpr std::array<const char*, 7> kNames = {
      "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"};
  const std::string key = "schedule." + std::string(kWeekdayKeys[day]);
  const std::string forms =
      day == 0
          ? ": \"09:00-18:00\", \"10:00-12:00, 14:00-18:00\", \"20:00-02:00\" (past midnight), "
            "\"closed\" or \"all day\""
          : " (forms as for mon)";
  ParamSpec p = param_string(key, bind(&C::schedule, field), kLive,
                             std::string(kNames[day]) + "'s opening hours" + forms);
  p.check = [key, field](const Config& c) {
    std::vector<ClockRange> ranges;
    return parse_hours(key, c.schedule.*field, ranges);
  };
  return p;
}

template <class T>
using ListParser = std::optional<std::string> (*)(std::string_view, const std::vector<std::string>&,
                                                  std::vector<T>&);

template <class T>
ParamSpec list_row(const std::string& key, std::vector<std::string> S::*field, ListParser<T> parse,
                   const std::string& help) {
  ParamSpec p = param_list(key, bind(&C::schedule, field), kLive, help);
  p.check = [key, field, parse](const Config& c) {
    std::vector<T> parsed;
    return parse(key, c.schedule.*field, parsed);
  };
  return p;
}

}  // namespace

void add_schedule_params(std::vector<ParamSpec>& t) {
  t.push_back(param_bool("schedule.enabled", bind(&C::schedule, &S::enabled), kLive,
                         "follow the opening hours, theme windows and brightness curve below "
                         "(off: always open at full light)"));
  t.push_back(param_float("schedule.fade_s", bind(&C::schedule, &S::fade_s), 0.0, 3600.0, kLive,
                          "seconds of fade to black after closing time, and back after opening"));
  const std::array<std::string S::*, 7> days = {&S::mon, &S::tue, &S::wed, &S::thu,
                                                &S::fri, &S::sat, &S::sun};
  for (std::size_t i = 0; i < days.size(); ++i) t.push_back(weekday_row(i, days[i]));
  t.push_back(list_row<DateHours>(
      "schedule.dates", &S::dates, &parse_dates,
      "exceptions by date, instead of the weekday's hours: \"2026-12-24=10:00-14:00\", "
      "\"2026-12-25=closed\""));
  t.push_back(list_row<ThemeWindow>(
      "schedule.themes", &S::themes, &parse_theme_windows,
      "theme windows, every day: \"22:00-06:00=night\", \"08:00-12:00=forest|ocean\" (a "
      "playlist of names from the themes file); the first window that matches wins"));
  t.push_back(list_row<BrightnessPoint>(
      "schedule.brightness", &S::brightness, &parse_brightness,
      "brightness by hour, eased between points and around midnight: \"00:00=0.3\", "
      "\"08:00=1.0\", \"20:00=0.6\" (empty: 1 all day)"));
}

}  // namespace dw
