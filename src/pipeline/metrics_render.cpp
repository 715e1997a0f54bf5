// The three views of the metrics table (metrics_table.h): status.json, Prometheus text and the
// overlay's lines. Nothing here names a metric; every output is a loop over the table.
#include <fmt/format.h>
#include <fmt/ranges.h>

#include <cmath>
#include <nlohmann/json.hpp>

#include "pipeline/metrics_table.h"

namespace dw::pipeline {
namespace {

constexpr std::size_t kMaxTextBytes = 240;  // a label or overlay value; status.json keeps it all

// Length of the valid UTF-8 sequence at the start of `t`, or 0 when it is not one.
std::size_t utf8_sequence(std::string_view t) {
  const auto byte = [&](std::size_t i) { return static_cast<unsigned char>(t[i]); };
  const unsigned char b = byte(0);
  std::size_t n = 0;
  char32_t c = 0;
  if (b < 0x80) return 1;
  if (b >= 0xC2 && b <= 0xDF)
    n = 2, c = b & 0x1F;
  else if (b >= 0xE0 && b <= 0xEF)
    n = 3, c = b & 0x0F;
  else if (b >= 0xF0 && b <= 0xF4)
    n = 4, c = b & 0x07;
  else
    return 0;
  if (t.size() < n) return 0;
  for (std::size_t i = 1; i < n; ++i) {
    if ((byte(i) & 0xC0) != 0x80) return 0;
    c = (c << 6) | (byte(i) & 0x3F);
  }
  const bool overlong = (n == 3 && c < 0x800) || (n == 4 && c < 0x10000);
  const bool surrogate = c >= 0xD800 && c <= 0xDFFF;
  return overlong || surrogate || c > 0x10FFFF ? 0 : n;
}

// Valid UTF-8 without control characters, at most kMaxTextBytes (then "..."): safe in a
// Prometheus label value (after escaping '\\' and '"') and on the overlay.
std::string printable(std::string_view text) {
  std::string out;
  while (!text.empty() && out.size() < kMaxTextBytes) {
    const std::size_t n = utf8_sequence(text);
    const unsigned char b = static_cast<unsigned char>(text[0]);
    if (n == 0)
      out += "\xEF\xBF\xBD";  // U+FFFD for a byte that starts no valid character
    else if (n == 1 && (b < 0x20 || b == 0x7F))
      out += ' ';
    else
      out.append(text.substr(0, n));
    text.remove_prefix(n == 0 ? 1 : n);
  }
  if (!text.empty()) out += "...";
  return out;
}

nlohmann::json to_json(const MetricValue& v) {
  return std::visit([](const auto& x) { return nlohmann::json(x); }, v);
}

std::string unit_suffix(std::string_view unit) {
  if (unit == "seconds") return " s";
  if (unit == "milliseconds") return " ms";
  if (unit == "percent") return " %";
  if (unit == "hertz") return " fps";
  return "";
}

// Seconds as a person reads a span: "42.5 s" below two minutes, then "7 min 5 s", "3 h 25 min",
// "12 d 4 h" (an uptime of weeks is no "1.21e+06 s").
std::string duration_text(double seconds) {
  if (!std::isfinite(seconds) || std::abs(seconds) < 120) return fmt::format("{:.4g} s", seconds);
  const char* sign = seconds < 0 ? "-" : "";
  const auto whole = static_cast<std::uint64_t>(std::abs(seconds));
  const std::uint64_t days = whole / 86400, hours = whole / 3600 % 24, minutes = whole / 60 % 60;
  if (days > 0) return fmt::format("{}{} d {} h", sign, days, hours);
  if (hours > 0) return fmt::format("{}{} h {} min", sign, hours, minutes);
  return fmt::format("{}{} min {} s", sign, minutes, whole % 60);
}

std::string overlay_text(const MetricValue& v, std::string_view unit) {
  if (const auto* u = std::get_if<std::uint64_t>(&v)) return fmt::format("{}", *u);
  if (const auto* d = std::get_if<double>(&v)) {
    if (unit == "seconds") return duration_text(*d);
    // Large values in full ("123457", not "1.235e+05"); small ones to four significant digits.
    if (std::isfinite(*d) && std::abs(*d) >= 1e4 && std::abs(*d) < 1e15)
      return fmt::format("{:.0f}{}", *d, unit_suffix(unit));
    return fmt::format("{:.4g}{}", *d, unit_suffix(unit));
  }
  if (const auto* b = std::get_if<bool>(&v)) return *b ? "yes" : "no";
  const std::string& text = std::get<std::string>(v);
  return text.empty() ? "-" : printable(text);
}

std::string label_value(std::string_view text) {
  std::string out;
  for (const char c : printable(text)) {
    if (c == '\\' || c == '"') out += '\\';
    out += c;
  }
  return out;
}

std::string sample_text(const MetricValue& v) {
  if (const auto* u = std::get_if<std::uint64_t>(&v)) return fmt::format("{}", *u);
  if (const auto* b = std::get_if<bool>(&v)) return *b ? "1" : "0";
  if (std::holds_alternative<std::string>(v)) return "1";  // an info row: the text is a label
  const double d = std::get<double>(v);
  if (std::isnan(d)) return "NaN";
  if (std::isinf(d)) return d > 0 ? "+Inf" : "-Inf";
  return fmt::format("{}", d);
}

// One row's HELP/TYPE header and a sample per group element.
void prometheus_row(std::string& out, const MetricRow& row, const StatusSnapshot& s) {
  std::string samples;
  const std::string name = prometheus_name(row);
  for (std::size_t i = 0; i < group_size(s, row.group); ++i) {
    const std::optional<MetricValue> v = row.read(s, i);
    if (!v) continue;
    std::vector<std::string> labels;
    if (row.group != MetricGroup::None)
      labels.push_back(fmt::format("{}=\"{}\"", group_label(row.group),
                                   label_value(group_key(s, row.group, i))));
    if (row.kind == MetricKind::Info)
      labels.push_back(fmt::format("value=\"{}\"", label_value(std::get<std::string>(*v))));
    const std::string label_text =
        labels.empty() ? "" : fmt::format("{{{}}}", fmt::join(labels, ","));
    samples += fmt::format("{}{} {}\n", name, label_text, sample_text(*v));
  }
  if (samples.empty()) return;
  const std::string_view type = row.kind == MetricKind::Counter ? "counter" : "gauge";
  const std::string unit = row.unit.empty() ? "" : fmt::format(" ({})", row.unit);
  out += fmt::format("# HELP {} {}{}\n# TYPE {} {}\n{}", name, row.help, unit, name, type, samples);
}

}  // namespace

std::string status_to_json(const StatusSnapshot& s) {
  using nlohmann::json;
  json j = json::object();
  j["workers"] = json::array();
  j["generation"]["servers"] = json::array();
  j["generation"]["counters"] = json::object();
  // A source's counters the table does not know yet keep their place in status.json.
  for (const auto& [name, value] : s.source_health.counters)
    j["generation"]["counters"][name] = value;
  for (const MetricRow& row : metrics_table())
    for (std::size_t i = 0; i < group_size(s, row.group); ++i)
      if (const std::optional<MetricValue> v = row.read(s, i))
        j[json::json_pointer(json_pointer(row, i))] = to_json(*v);
  // What an operator must see, worded once for every reader (the overlay, the web page, scripts).
  j["problems"] = status_problems(s);
  // Texts come from servers and exceptions: bytes that are not UTF-8 become U+FFFD instead of
  // making dump() throw (control characters are escaped as JSON requires).
  return j.dump(2, ' ', false, json::error_handler_t::replace) + "\n";
}

std::string status_to_prometheus(const StatusSnapshot& s) {
  std::string out;
  for (const MetricRow& row : metrics_table()) prometheus_row(out, row, s);
  return out;
}

std::vector<std::pair<std::string, std::string>> status_overlay_lines(const StatusSnapshot& s) {
  std::vector<std::pair<std::string, std::string>> lines;
  for (const MetricRow& row : metrics_table())
    for (std::size_t i = 0; i < group_size(s, row.group); ++i)
      if (const std::optional<MetricValue> v = row.read(s, i))
        lines.emplace_back(printable(overlay_label(row, s, i)), overlay_text(*v, row.unit));
  return lines;
}

std::string metrics_listing_json() {
  nlohmann::json rows = nlohmann::json::array();
  for (const MetricRow& row : metrics_table())
    rows.push_back({{"path", row.path},
                    {"kind", to_string(row.kind)},
                    {"unit", row.unit},
                    {"help", row.help},
                    {"prometheus", prometheus_name(row)}});
  return rows.dump(2) + "\n";
}

}  // namespace dw::pipeline
