// The schedule's config text (schedule.* rows, config_schedule.h) read into plain data: opening
// hours per weekday, exceptions by date, theme windows and the brightness curve. Parsing lives in
// the core because the parameter table checks every entry with it (the config file, the command
// line, the overlay, the remote all refuse a malformed entry with the same words); what the data
// means at a given local time is pipeline/schedule.h.
//
// Formats (times are local wall-clock HH:MM, 24 h; "24:00" only as the end of a range):
//   hours     "09:00-18:00", "10:00-12:00, 14:00-18:00", "closed", "all day"; a range whose end
//             is not after its start runs past midnight ("20:00-02:00") and belongs to the day
//             it starts on. Ranges are separated by commas or spaces.
//   dates     "YYYY-MM-DD=HOURS": that date's hours instead of its weekday's.
//   themes    "HH:MM-HH:MM=NAME" or "HH:MM-HH:MM=NAME|NAME|...": every day in that window only
//             these themes play, in this order (a playlist); ',' separates names too. The first
//             window listed that contains a time wins.
//   brightness "HH:MM=FACTOR" (FACTOR in [0, 1]): points of a curve over the day, eased between
//             neighbours and wrapping past midnight.
#pragma once

#include <array>
#include <compare>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/config_schedule.h"

namespace dw {

constexpr int kMinutesPerDay = 24 * 60;

// Minutes after local midnight; `end` may be 1440 (24:00). end <= start: the range ends on the
// next day at `end`.
struct ClockRange {
  int start = 0;
  int end = 0;
  bool crosses_midnight() const { return end <= start; }
  bool operator==(const ClockRange&) const = default;
};

struct CivilDate {
  int year = 1970, month = 1, day = 1;
  auto operator<=>(const CivilDate&) const = default;
};

struct DateHours {
  CivilDate date;
  std::vector<ClockRange> ranges;  // empty: closed that day
};

struct ThemeWindow {
  ClockRange range;
  std::vector<std::string> themes;  // the playlist in force inside the window
  std::string text;                 // the window as written ("22:00-06:00"), for status
};

struct BrightnessPoint {
  int minute = 0;
  double factor = 1;
};

struct ScheduleSpec {
  bool enabled = false;
  double fade_s = 0;
  std::array<std::vector<ClockRange>, 7> week;  // [0] Monday ... [6] Sunday; empty: closed
  std::vector<DateHours> dates;                 // sorted by date, one entry per date
  std::vector<ThemeWindow> themes;              // in the order written (first match wins)
  std::vector<BrightnessPoint> brightness;      // sorted by minute; empty: 1 all day
};

// The weekday keys in ScheduleSpec::week order: "mon" ... "sun".
extern const std::array<std::string_view, 7> kWeekdayKeys;

// Each parser returns an error text naming the key, the entry and what is expected, or nothing.
std::optional<std::string> parse_hours(std::string_view key, std::string_view text,
                                       std::vector<ClockRange>& out);
std::optional<std::string> parse_dates(std::string_view key, const std::vector<std::string>& items,
                                       std::vector<DateHours>& out);
std::optional<std::string> parse_theme_windows(std::string_view key,
                                               const std::vector<std::string>& items,
                                               std::vector<ThemeWindow>& out);
std::optional<std::string> parse_brightness(std::string_view key,
                                            const std::vector<std::string>& items,
                                            std::vector<BrightnessPoint>& out);

// The whole section; the first error found, or nothing (then `out` is complete).
std::optional<std::string> parse_schedule(const ScheduleConfig& config, ScheduleSpec& out);

// "HH:MM" for minutes after midnight (0..1440).
std::string clock_text(int minute);

}  // namespace dw
