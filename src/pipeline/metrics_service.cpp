// The metrics table's service rows (status.json "service", /metrics dreamwindow_service_*): the
// systemd watchdog, the log file and resume (app/service_*, pipeline/resume.h).
#include "pipeline/metrics_table.h"

namespace dw::pipeline {
namespace {

template <class F>
MetricRow service_row(std::string_view path, MetricKind kind, std::string_view unit,
                      std::string_view help, F read) {
  return {path,
          kind,
          unit,
          help,
          MetricGroup::None,
          [read](const StatusSnapshot& s, std::size_t) -> std::optional<MetricValue> {
            return MetricValue(read(s.service));
          }};
}

}  // namespace

std::vector<MetricRow> service_metric_rows() {
  using S = ServiceStatus;
  constexpr auto kInfo = MetricKind::Info;
  constexpr auto kGauge = MetricKind::Gauge;
  constexpr auto kCounter = MetricKind::Counter;
  return {
      service_row("service.watchdog", kInfo, "",
                  "systemd watchdog: off, waiting for the first frame, ok, or stalled and why.",
                  [](const S& s) { return s.watchdog; }),
      service_row("service.watchdog_s", kGauge, "seconds",
                  "systemd's WatchdogSec (0: no watchdog).",
                  [](const S& s) { return s.watchdog_s; }),
      service_row("service.watchdog_pings", kCounter, "", "Watchdog pings sent to systemd.",
                  [](const S& s) { return s.watchdog_pings; }),
      service_row("service.ready_at_s", kGauge, "seconds",
                  "When systemd was told READY=1, seconds after start (-1: not yet, or no "
                  "systemd).",
                  [](const S& s) { return s.ready_at_s; }),
      service_row("service.log_file", kInfo, "",
                  "The log file (empty: stderr and the journal only).",
                  [](const S& s) { return s.log_file; }),
      service_row("service.resume_source", kInfo, "",
                  "What the dream started from: a seed image or the resume state of the "
                  "previous run.",
                  [](const S& s) { return s.resume_source; }),
      service_row("service.resume_saves", kCounter, "", "Resume states saved.",
                  [](const S& s) { return s.resume_saves; }),
      service_row("service.resume_saved_keyframe", kGauge, "",
                  "Newest keyframe in the resume state.",
                  [](const S& s) { return s.resume_saved_keyframe; }),
  };
}

}  // namespace dw::pipeline
