// The metrics table: every number and text the pipeline reports, declared once, the way
// core/param_table.cpp declares every parameter. Each row says what it is (name, kind, unit,
// help) and how to read it from a StatusSnapshot; status.json, the Prometheus text at /metrics and
// the overlay's status lines are all rendered from these rows (metrics_render.cpp), so a value
// added here shows up in all three and cannot be typed differently in one of them.
//
// Names: a row's path is where it sits in status.json ("generation.keyframes"); rows of a group
// ("workers[].state") are one field of each element of a JSON array. The Prometheus name follows
// from the path (prometheus_name()): dots become '_', a trailing "_s"/"_ms" becomes
// "_seconds"/"_milliseconds", counters end in "_total", info rows in "_info" (value 1, the text
// in a `value` label), and a group's rows carry the element's key as a label.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "pipeline/status.h"

namespace dw::pipeline {

// Counter: only ever grows while the program runs. Gauge: goes up and down. Info: a text.
enum class MetricKind { Counter, Gauge, Info };
std::string_view to_string(MetricKind kind);

// Rows of a group repeat for each element (a worker, a ComfyUI server).
enum class MetricGroup { None, Workers, Servers, Outputs };

using MetricValue = std::variant<std::uint64_t, double, bool, std::string>;

struct MetricRow {
  std::string_view path;  // status.json path; "group[].field" for a group's rows
  MetricKind kind;
  std::string_view unit;  // "seconds", "milliseconds", "frames", "bytes", ... ("" for none)
  std::string_view help;
  MetricGroup group = MetricGroup::None;
  // The value for element `item` of the group (0 for a row without one); nullopt when the
  // snapshot has none (a ComfyUI counter while another source runs): left out everywhere.
  std::function<std::optional<MetricValue>(const StatusSnapshot&, std::size_t item)> read;
};

std::span<const MetricRow> metrics_table();
// The part of the table kept in its own file: the installation features' rows (control,
// schedule, recording, remote, service: metrics_installation.cpp). Rows are built with the
// builders of metrics_rows.h.
std::vector<MetricRow> installation_metric_rows();

// How many elements a group has in this snapshot, and the key that names element `item`
// (a worker's name, a server's URL). MetricGroup::None has exactly one element with no key.
std::size_t group_size(const StatusSnapshot& s, MetricGroup group);
std::string group_key(const StatusSnapshot& s, MetricGroup group, std::size_t item);
// The Prometheus label that carries the key ("worker", "server"); empty for None.
std::string_view group_label(MetricGroup group);

// "dreamwindow_..." as described above.
std::string prometheus_name(const MetricRow& row);
// The status.json pointer of the row's value for element `item` ("/workers/0/state").
std::string json_pointer(const MetricRow& row, std::size_t item);
// The overlay line's label: the path, with a group element's key in the brackets
// ("workers[cache].state").
std::string overlay_label(const MetricRow& row, const StatusSnapshot& s, std::size_t item);

// Renderers (metrics_render.cpp). None of them throws on any text in the snapshot: invalid UTF-8
// becomes U+FFFD, control characters are escaped (JSON) or replaced (labels, overlay).
std::string status_to_json(const StatusSnapshot& s);
std::string status_to_prometheus(const StatusSnapshot& s);
std::vector<std::pair<std::string, std::string>> status_overlay_lines(const StatusSnapshot& s);
// The table itself as JSON (path, kind, unit, help, prometheus name), for tools and docs.
std::string metrics_listing_json();

}  // namespace dw::pipeline
