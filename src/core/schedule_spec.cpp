#include "core/schedule_spec.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>

namespace dw {

const std::array<std::string_view, 7> kWeekdayKeys = {"mon", "tue", "wed", "thu",
                                                      "fri", "sat", "sun"};

namespace {

constexpr std::string_view kHoursExpected =
    "HH:MM-HH:MM ranges separated by commas (\"09:00-18:00\", \"10:00-12:00, 14:00-18:00\"), "
    "\"closed\" or \"all day\"";

std::string_view trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// Splits on any of `separators`; empty pieces are dropped.
std::vector<std::string_view> split(std::string_view text, std::string_view separators) {
  std::vector<std::string_view> parts;
  while (!text.empty()) {
    const std::size_t at = text.find_first_of(separators);
    const std::string_view part = trim(text.substr(0, at));
    if (!part.empty()) parts.push_back(part);
    if (at == std::string_view::npos) break;
    text.remove_prefix(at + 1);
  }
  return parts;
}

bool parse_int(std::string_view text, int& out) {
  if (text.empty() || text.size() > 4) return false;
  const auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  return ec == std::errc() && ptr == text.data() + text.size();
}

// "H:MM" or "HH:MM" -> minutes after midnight; 24:00 only when `allow_24`.
std::optional<int> parse_clock(std::string_view text, bool allow_24) {
  const std::size_t colon = text.find(':');
  if (colon == std::string_view::npos || colon == 0 || colon > 2) return std::nullopt;
  const std::string_view hh = text.substr(0, colon), mm = text.substr(colon + 1);
  int h = 0, m = 0;
  if (mm.size() != 2 || !parse_int(hh, h) || !parse_int(mm, m)) return std::nullopt;
  if (m < 0 || m > 59 || h < 0 || h > 24) return std::nullopt;
  if (h == 24 && (m != 0 || !allow_24)) return std::nullopt;
  return h * 60 + m;
}

std::optional<ClockRange> parse_range(std::string_view text) {
  const std::size_t dash = text.find('-');
  if (dash == std::string_view::npos) return std::nullopt;
  const auto start = parse_clock(trim(text.substr(0, dash)), false);
  const auto end = parse_clock(trim(text.substr(dash + 1)), true);
  // Empty ranges are refused (10:00-10:00); 00:00-24:00 is the whole day.
  if (!start || !end || *start == *end) return std::nullopt;
  return ClockRange{*start, *end};
}

// The hours of one day, or a reason they are not valid.
std::optional<std::string> read_hours(std::string_view text, std::vector<ClockRange>& out) {
  out.clear();
  const std::string word = lower(trim(text));
  if (word == "closed") return std::nullopt;
  if (word == "all day") {
    out.push_back({0, kMinutesPerDay});
    return std::nullopt;
  }
  // "10:00 - 12:00" is one range: spaces around a dash are dropped before splitting.
  std::string joined;
  for (char c : text) {
    if (c == '-')
      while (!joined.empty() && std::isspace(static_cast<unsigned char>(joined.back())))
        joined.pop_back();
    if (std::isspace(static_cast<unsigned char>(c)) && !joined.empty() && joined.back() == '-')
      continue;
    joined += c;
  }
  const auto parts = split(joined, ", \t");
  if (parts.empty()) return std::string("no hours given");
  for (std::string_view part : parts) {
    const auto range = parse_range(part);
    if (!range) return fmt::format("'{}' is not a range HH:MM-HH:MM of two different times", part);
    out.push_back(*range);
  }
  return std::nullopt;
}

bool leap_year(int y) {
  return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

std::optional<CivilDate> parse_date(std::string_view text) {
  if (text.size() != 10 || text[4] != '-' || text[7] != '-') return std::nullopt;
  CivilDate d;
  if (!parse_int(text.substr(0, 4), d.year) || !parse_int(text.substr(5, 2), d.month) ||
      !parse_int(text.substr(8, 2), d.day))
    return std::nullopt;
  static constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (d.year < 1970 || d.month < 1 || d.month > 12 || d.day < 1) return std::nullopt;
  const int days = kDays[d.month - 1] + (d.month == 2 && leap_year(d.year) ? 1 : 0);
  if (d.day > days) return std::nullopt;
  return d;
}

std::string entry_error(std::string_view key, std::string_view entry, std::string_view why,
                        std::string_view expected) {
  return fmt::format("{}: entry \"{}\" is not valid: {}; expected {}", key, entry, why, expected);
}

// "LEFT=RIGHT" -> (LEFT, RIGHT), both trimmed; nothing without exactly one '='.
std::optional<std::pair<std::string_view, std::string_view>> split_pair(std::string_view entry) {
  const std::size_t eq = entry.find('=');
  if (eq == std::string_view::npos || entry.find('=', eq + 1) != std::string_view::npos)
    return std::nullopt;
  return std::pair{trim(entry.substr(0, eq)), trim(entry.substr(eq + 1))};
}

}  // namespace

std::string clock_text(int minute) {
  return fmt::format("{:02}:{:02}", minute / 60, minute % 60);
}

std::optional<std::string> parse_hours(std::string_view key, std::string_view text,
                                       std::vector<ClockRange>& out) {
  if (auto why = read_hours(text, out))
    return fmt::format("{} = \"{}\" is not valid: {}; expected {}", key, text, *why,
                       kHoursExpected);
  return std::nullopt;
}

std::optional<std::string> parse_dates(std::string_view key, const std::vector<std::string>& items,
                                       std::vector<DateHours>& out) {
  static constexpr std::string_view kExpected =
      "YYYY-MM-DD=HOURS, HOURS as for a weekday (\"2026-12-24=10:00-14:00\", "
      "\"2026-12-25=closed\")";
  out.clear();
  for (const std::string& item : items) {
    const auto pair = split_pair(item);
    if (!pair) return entry_error(key, item, "no single '='", kExpected);
    const auto date = parse_date(pair->first);
    if (!date)
      return entry_error(key, item, fmt::format("'{}' is not a date", pair->first), kExpected);
    DateHours day{*date, {}};
    if (auto why = read_hours(pair->second, day.ranges))
      return entry_error(key, item, *why, kExpected);
    for (const DateHours& other : out)
      if (other.date == day.date)
        return entry_error(key, item, "that date is listed twice", kExpected);
    out.push_back(std::move(day));
  }
  std::sort(out.begin(), out.end(),
            [](const DateHours& a, const DateHours& b) { return a.date < b.date; });
  return std::nullopt;
}

std::optional<std::string> parse_theme_windows(std::string_view key,
                                               const std::vector<std::string>& items,
                                               std::vector<ThemeWindow>& out) {
  static constexpr std::string_view kExpected =
      "HH:MM-HH:MM=THEME or HH:MM-HH:MM=THEME|THEME|... with names from the themes file "
      "(\"22:00-06:00=night\")";
  out.clear();
  for (const std::string& item : items) {
    const auto pair = split_pair(item);
    if (!pair) return entry_error(key, item, "no single '='", kExpected);
    const auto range = parse_range(pair->first);
    if (!range)
      return entry_error(
          key, item,
          fmt::format("'{}' is not a range HH:MM-HH:MM of two different times", pair->first),
          kExpected);
    ThemeWindow window{*range, {}, std::string(pair->first)};
    for (std::string_view name : split(pair->second, "|,")) window.themes.emplace_back(name);
    if (window.themes.empty()) return entry_error(key, item, "no theme named", kExpected);
    out.push_back(std::move(window));
  }
  return std::nullopt;
}

std::optional<std::string> parse_brightness(std::string_view key,
                                            const std::vector<std::string>& items,
                                            std::vector<BrightnessPoint>& out) {
  static constexpr std::string_view kExpected =
      "HH:MM=FACTOR with FACTOR a number in [0, 1] (\"20:00=0.6\")";
  out.clear();
  for (const std::string& item : items) {
    const auto pair = split_pair(item);
    if (!pair) return entry_error(key, item, "no single '='", kExpected);
    const auto minute = parse_clock(pair->first, false);
    if (!minute)
      return entry_error(key, item, fmt::format("'{}' is not a time HH:MM", pair->first),
                         kExpected);
    double factor = -1;
    const std::string_view f = pair->second;
    const auto [ptr, ec] = std::from_chars(f.data(), f.data() + f.size(), factor);
    if (ec != std::errc() || ptr != f.data() + f.size() || !std::isfinite(factor) || factor < 0 ||
        factor > 1)
      return entry_error(key, item, fmt::format("'{}' is not a number in [0, 1]", f), kExpected);
    for (const BrightnessPoint& p : out)
      if (p.minute == *minute)
        return entry_error(key, item, "that time is listed twice", kExpected);
    out.push_back({*minute, factor});
  }
  std::sort(out.begin(), out.end(),
            [](const BrightnessPoint& a, const BrightnessPoint& b) { return a.minute < b.minute; });
  return std::nullopt;
}

std::optional<std::string> parse_schedule(const ScheduleConfig& config, ScheduleSpec& out) {
  out = ScheduleSpec{};
  out.enabled = config.enabled;
  out.fade_s = config.fade_s;
  const std::array<const std::string*, 7> days = {
      &config.mon, &config.tue, &config.wed, &config.thu, &config.fri, &config.sat, &config.sun};
  for (std::size_t i = 0; i < days.size(); ++i)
    if (auto err = parse_hours(fmt::format("schedule.{}", kWeekdayKeys[i]), *days[i], out.week[i]))
      return err;
  if (auto err = parse_dates("schedule.dates", config.dates, out.dates)) return err;
  if (auto err = parse_theme_windows("schedule.themes", config.themes, out.themes)) return err;
  if (auto err = parse_brightness("schedule.brightness", config.brightness, out.brightness))
    return err;
  return std::nullopt;
}

}  // namespace dw
