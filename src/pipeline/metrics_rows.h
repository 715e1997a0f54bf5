// Building blocks for the metrics table's rows (metrics_table.cpp and the parts kept in their own
// files): internal to the table, not for its readers. Every row reads one field of one part of a
// StatusSnapshot; a builder says which part, and the part may be absent (no recorder, a source
// without generation settings), which leaves the row out everywhere.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "pipeline/metrics_table.h"

namespace dw::pipeline::metric_rows {

using S = StatusSnapshot;
inline constexpr auto kCounter = MetricKind::Counter;
inline constexpr auto kGauge = MetricKind::Gauge;
inline constexpr auto kInfo = MetricKind::Info;

// One spelling of every value type a row can return (a reader returning another type does not
// compile, rather than being converted silently).
inline MetricValue value(std::uint64_t v) {
  return v;
}
inline MetricValue value(double v) {
  return v;
}
inline MetricValue value(bool v) {
  return v;
}
inline MetricValue value(std::string v) {
  return v;
}

// A row reading `read(*part(s))`: `part` points into the snapshot, or is null when the snapshot
// has no such part.
template <class Part, class F>
MetricRow part_row(std::string_view path, MetricKind kind, std::string_view unit,
                   std::string_view help, Part part, F read) {
  return {path,
          kind,
          unit,
          help,
          MetricGroup::None,
          [part, read](const S& s, std::size_t) -> std::optional<MetricValue> {
            const auto* p = part(s);
            if (p == nullptr) return std::nullopt;
            return value(read(*p));
          }};
}

// A row of a group: `read(element(s, i))` for each element `i`.
template <class Element, class F>
MetricRow group_row(std::string_view path, MetricKind kind, std::string_view unit,
                    std::string_view help, MetricGroup group, Element element, F read) {
  return {path,
          kind,
          unit,
          help,
          group,
          [element, read](const S& s, std::size_t i) -> std::optional<MetricValue> {
            return value(read(element(s, i)));
          }};
}

// The parts, each with its builder.

// The whole snapshot.
template <class F>
MetricRow row(std::string_view path, MetricKind kind, std::string_view unit, std::string_view help,
              F read) {
  return part_row(
      path, kind, unit, help, [](const S& s) { return &s; }, std::move(read));
}

// A field of each worker (MetricGroup::Workers).
template <class F>
MetricRow worker_row(std::string_view path, MetricKind kind, std::string_view unit,
                     std::string_view help, F read) {
  return group_row(
      path, kind, unit, help, MetricGroup::Workers,
      [](const S& s, std::size_t i) -> const WorkerHealth& { return s.workers.at(i); },
      std::move(read));
}

// A field of each keyframe server (MetricGroup::Servers).
template <class F>
MetricRow server_row(std::string_view path, MetricKind kind, std::string_view unit,
                     std::string_view help, F read) {
  return group_row(
      path, kind, unit, help, MetricGroup::Servers,
      [](const S& s, std::size_t i) -> const ServerHealth& {
        return s.source_health.servers.at(i);
      },
      std::move(read));
}

// A field of each output (MetricGroup::Outputs).
template <class F>
MetricRow output_row(std::string_view path, MetricKind kind, std::string_view unit,
                     std::string_view help, F read) {
  return group_row(
      path, kind, unit, help, MetricGroup::Outputs,
      [](const S& s, std::size_t i) -> const OutputStatus& { return s.display.outputs.at(i); },
      std::move(read));
}

// A field of the source's generation settings; absent for a source that has none.
template <class F>
MetricRow settings_row(std::string_view path, MetricKind kind, std::string_view unit,
                       std::string_view help, F read) {
  return part_row(
      path, kind, unit, help,
      [](const S& s) { return s.source_health.settings ? &*s.source_health.settings : nullptr; },
      std::move(read));
}

// A recorder figure; absent when the app runs without a recorder.
template <class F>
MetricRow recording_row(std::string_view path, MetricKind kind, std::string_view unit,
                        std::string_view help, F read) {
  return part_row(
      path, kind, unit, help, [](const S& s) { return s.recording ? &*s.recording : nullptr; },
      std::move(read));
}

// A figure of the service side (systemd watchdog, log file, resume).
template <class F>
MetricRow service_row(std::string_view path, MetricKind kind, std::string_view unit,
                      std::string_view help, F read) {
  return part_row(
      path, kind, unit, help, [](const S& s) { return &s.service; }, std::move(read));
}

}  // namespace dw::pipeline::metric_rows
