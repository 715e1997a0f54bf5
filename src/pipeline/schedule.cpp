#include "pipeline/schedule.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <ctime>

#include "core/local_time.h"

namespace dw::pipeline {
namespace {

constexpr double kDaySeconds = 86400.0;
// Days looked at before and after now: a fade is at most an hour, a range at most a day long.
constexpr std::int64_t kDaysBack = 2;
constexpr std::int64_t kDaysAhead = 8;

// An open spell in local seconds (day * 86400 + second of day).
struct Interval {
  double start, end;
};

double abs_seconds(LocalTime t) {
  return static_cast<double>(t.day) * kDaySeconds + t.second;
}

LocalTime from_abs(double s) {
  const auto day = static_cast<std::int64_t>(std::floor(s / kDaySeconds));
  return {day, s - static_cast<double>(day) * kDaySeconds};
}

const std::vector<ClockRange>& hours_of(const ScheduleSpec& spec, std::int64_t day) {
  const CivilDate date = civil_date(day);
  const auto it =
      std::lower_bound(spec.dates.begin(), spec.dates.end(), date,
                       [](const DateHours& d, const CivilDate& c) { return d.date < c; });
  if (it != spec.dates.end() && it->date == date) return it->ranges;
  return spec.week[static_cast<std::size_t>(weekday(day))];
}

// The open spells of the days around `day`, sorted and joined where they touch or overlap.
std::vector<Interval> open_intervals(const ScheduleSpec& spec, std::int64_t day) {
  std::vector<Interval> all;
  for (std::int64_t d = day - kDaysBack; d <= day + kDaysAhead; ++d) {
    const double base = static_cast<double>(d) * kDaySeconds;
    for (const ClockRange& r : hours_of(spec, d)) {
      const double end =
          r.crosses_midnight() ? base + kDaySeconds + r.end * 60.0 : base + r.end * 60.0;
      all.push_back({base + r.start * 60.0, end});
    }
  }
  std::sort(all.begin(), all.end(),
            [](const Interval& a, const Interval& b) { return a.start < b.start; });
  std::vector<Interval> merged;
  for (const Interval& i : all) {
    if (!merged.empty() && i.start <= merged.back().end)
      merged.back().end = std::max(merged.back().end, i.end);
    else
      merged.push_back(i);
  }
  return merged;
}

// The light after `dt` seconds heading for `target` from `light` at 1 / fade_s per second.
double approach(double light, double target, double dt, double fade_s) {
  if (fade_s <= 0) return target;
  const double step = dt / fade_s;
  return target > light ? std::min(target, light + step) : std::max(target, light - step);
}

// Walks the spells from the start of the horizon (steady there) to `now`.
double light_at(const std::vector<Interval>& spells, double horizon, double now, double fade_s) {
  double light = !spells.empty() && spells.front().start <= horizon ? 1.0 : 0.0;
  double pos = horizon;
  for (const Interval& spell : spells) {
    if (spell.end <= pos) continue;
    const double start = std::max(spell.start, pos);
    if (now < start) return approach(light, 0.0, now - pos, fade_s);
    light = approach(light, 0.0, start - pos, fade_s);
    if (now < spell.end) return approach(light, 1.0, now - start, fade_s);
    light = approach(light, 1.0, spell.end - start, fade_s);
    pos = spell.end;
  }
  return approach(light, 0.0, now - pos, fade_s);
}

// "at 18:00", "tomorrow at 09:00", "on Mon at 09:00", "on 2026-12-28 at 09:00".
std::string when_text(LocalTime now, LocalTime at) {
  static constexpr const char* kDays[] = {"Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"};
  const std::string clock = clock_text(static_cast<int>(at.second / 60.0));
  const std::int64_t ahead = at.day - now.day;
  if (ahead == 0) return "at " + clock;
  if (ahead == 1) return "tomorrow at " + clock;
  if (ahead < 7) return fmt::format("on {} at {}", kDays[weekday(at.day)], clock);
  const CivilDate d = civil_date(at.day);
  return fmt::format("on {:04}-{:02}-{:02} at {}", d.year, d.month, d.day, clock);
}

bool window_contains(const ThemeWindow& w, double second_of_day) {
  const double start = w.range.start * 60.0, end = w.range.end * 60.0;
  if (w.range.crosses_midnight()) return second_of_day >= start || second_of_day < end;
  return second_of_day >= start && second_of_day < end;
}

// The index of the theme window in force at `t` (-1: none).
int window_at(const ScheduleSpec& spec, LocalTime t) {
  for (std::size_t i = 0; i < spec.themes.size(); ++i)
    if (window_contains(spec.themes[i], t.second)) return static_cast<int>(i);
  return -1;
}

// The next time within a day when the window in force changes, if any.
std::optional<LocalTime> next_window_change(const ScheduleSpec& spec, LocalTime now) {
  const double t = abs_seconds(now);
  std::vector<double> candidates;
  for (std::int64_t d = now.day; d <= now.day + 1; ++d)
    for (const ThemeWindow& w : spec.themes)
      for (int minute : {w.range.start, w.range.end})
        candidates.push_back(static_cast<double>(d) * kDaySeconds +
                             (minute % kMinutesPerDay) * 60.0);
  std::sort(candidates.begin(), candidates.end());
  const int current = window_at(spec, now);
  for (double c : candidates)
    if (c > t && window_at(spec, from_abs(c)) != current) return from_abs(c);
  return std::nullopt;
}

std::string themes_text(const ScheduleSpec& spec, int window) {
  if (window < 0) return "rotation";
  std::string out;
  for (const std::string& name : spec.themes[static_cast<std::size_t>(window)].themes)
    out += (out.empty() ? "" : "|") + name;
  return out;
}

NextChange change(ChangeKind kind, LocalTime now, LocalTime at, std::string text) {
  return {kind, at, abs_seconds(at) - abs_seconds(now), std::move(text)};
}

NextChange next_change(const ScheduleSpec& spec, LocalTime now, const std::vector<Interval>& spells,
                       bool open) {
  const double t = abs_seconds(now);
  const double horizon_end = static_cast<double>(now.day + kDaysAhead + 1) * kDaySeconds;
  const auto spell = std::find_if(spells.begin(), spells.end(), [t, open](const Interval& i) {
    return open ? i.end > t : i.start > t;
  });
  if (spell == spells.end()) return {ChangeKind::None, now, 0, "closed for the next week"};
  NextChange hours;
  if (!open)
    return change(ChangeKind::Opens, now, from_abs(spell->start),
                  "opens " + when_text(now, from_abs(spell->start)));
  if (spell->end >= horizon_end)
    hours = {ChangeKind::None, now, 0, "open for the next week"};
  else
    hours = change(ChangeKind::Closes, now, from_abs(spell->end),
                   "closes " + when_text(now, from_abs(spell->end)));
  const auto theme = next_window_change(spec, now);
  if (theme && (hours.kind == ChangeKind::None || abs_seconds(*theme) < spell->end))
    return change(ChangeKind::Theme, now, *theme,
                  fmt::format("theme {} {}", themes_text(spec, window_at(spec, *theme)),
                              when_text(now, *theme)));
  return hours;
}

}  // namespace

CivilDate civil_date(std::int64_t day) {
  using namespace std::chrono;
  const year_month_day ymd{sys_days{days{day}}};
  return {static_cast<int>(ymd.year()), static_cast<int>(static_cast<unsigned>(ymd.month())),
          static_cast<int>(static_cast<unsigned>(ymd.day()))};
}

int weekday(std::int64_t day) {
  // 1970-01-01 was a Thursday (3 with Monday as 0).
  return static_cast<int>(((day + 3) % 7 + 7) % 7);
}

LocalTime local_time(int year, int month, int day, int hour, int minute, double second) {
  using namespace std::chrono;
  const sys_days date{std::chrono::year{year} / static_cast<unsigned>(month) /
                      static_cast<unsigned>(day)};
  return {date.time_since_epoch().count(), hour * 3600.0 + minute * 60.0 + second};
}

LocalTime local_time_of(std::chrono::system_clock::time_point t) {
  const std::time_t seconds = std::chrono::system_clock::to_time_t(t);
  const std::tm local = local_calendar_time(seconds);
  const double fraction =
      std::chrono::duration<double>(t - std::chrono::system_clock::from_time_t(seconds)).count();
  return local_time(local.tm_year + 1900, local.tm_mon + 1, local.tm_mday, local.tm_hour,
                    local.tm_min, std::min(local.tm_sec, 59) + std::clamp(fraction, 0.0, 0.999));
}

LocalTime advanced(LocalTime t, double seconds) {
  return from_abs(abs_seconds(t) + seconds);
}

std::string local_time_text(LocalTime t) {
  const CivilDate d = civil_date(t.day);
  const int s = static_cast<int>(t.second);
  return fmt::format("{:04}-{:02}-{:02} {:02}:{:02}:{:02}", d.year, d.month, d.day, s / 3600,
                     s / 60 % 60, s % 60);
}

double brightness_at(const std::vector<BrightnessPoint>& points, double minute_of_day) {
  if (points.empty()) return 1.0;
  if (points.size() == 1) return points.front().factor;
  const double day = kMinutesPerDay;
  const double t = std::fmod(std::fmod(minute_of_day, day) + day, day);
  // The last point at or before t (wrapping to the day's last point before the first one).
  auto next = std::upper_bound(points.begin(), points.end(), t,
                               [](double v, const BrightnessPoint& p) { return v < p.minute; });
  const BrightnessPoint& before = next == points.begin() ? points.back() : *(next - 1);
  const BrightnessPoint& after = next == points.end() ? points.front() : *next;
  const double span = std::fmod(after.minute - before.minute + day, day);
  const double u = std::fmod(t - before.minute + day, day) / span;
  const double eased = u * u * (3 - 2 * u);  // smoothstep: no kink at the points
  return before.factor + (after.factor - before.factor) * eased;
}

ScheduleState evaluate_schedule(const ScheduleSpec& spec, LocalTime now) {
  ScheduleState s;
  s.enabled = spec.enabled;
  if (!spec.enabled) return s;
  const std::vector<Interval> spells = open_intervals(spec, now.day);
  const double t = abs_seconds(now);
  s.open = std::any_of(spells.begin(), spells.end(),
                       [t](const Interval& i) { return i.start <= t && t < i.end; });
  const double horizon = static_cast<double>(now.day - kDaysBack) * kDaySeconds;
  s.light = light_at(spells, horizon, t, spec.fade_s);
  s.brightness = brightness_at(spec.brightness, now.second / 60.0);
  if (const int w = window_at(spec, now); w >= 0) {
    s.theme_window = spec.themes[static_cast<std::size_t>(w)].text;
    s.themes = spec.themes[static_cast<std::size_t>(w)].themes;
  }
  s.next = next_change(spec, now, spells, s.open);
  return s;
}

}  // namespace dw::pipeline
