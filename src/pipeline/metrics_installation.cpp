// The metrics table's rows for the installation features (metrics_table.h): the operator's
// controls, the schedule, recording, the web remote and the service side (systemd watchdog, log
// file, resume). status.json sections "control", "schedule", "recording", "remote", "service".
#include "pipeline/metrics_rows.h"

namespace dw::pipeline {
namespace {

using namespace metric_rows;

std::vector<MetricRow> recording_rows() {
  using R = RecordingStatus;
  return {
      recording_row("recording.on", kGauge, "", "1 while the canvas is recorded.",
                    [](const R& r) { return r.on; }),
      recording_row("recording.file", kInfo, "", "The video file being written.",
                    [](const R& r) { return r.file; }),
      recording_row("recording.encoder", kInfo, "", "The video encoder (NVENC or software).",
                    [](const R& r) { return r.encoder; }),
      recording_row("recording.frames_written", kCounter, "frames", "Frames encoded.",
                    [](const R& r) { return r.frames_written; }),
      recording_row("recording.frames_dropped", kCounter, "frames",
                    "Frames not recorded because the encoder was behind (the display never waits).",
                    [](const R& r) { return r.frames_dropped; }),
      recording_row("recording.bytes", kCounter, "bytes", "Bytes of video written.",
                    [](const R& r) { return r.bytes; }),
      recording_row("recording.files", kCounter, "files", "Video files started.",
                    [](const R& r) { return r.files; }),
      recording_row("recording.free_disk_bytes", kGauge, "bytes",
                    "Free space where recordings go (record.min_free_mb: the oldest recordings "
                    "are removed, else recording stops).",
                    [](const R& r) { return r.free_disk_bytes; }),
      recording_row("recording.files_removed", kCounter, "files",
                    "Oldest recordings removed (record.max_total_mb, record.min_free_mb).",
                    [](const R& r) { return r.files_removed; }),
      recording_row("recording.restarts", kCounter, "",
                    "Recordings started again after stopping for the folder or the disk.",
                    [](const R& r) { return r.restarts; }),
      recording_row("recording.screenshots", kCounter, "files", "Screenshots written.",
                    [](const R& r) { return r.screenshots; }),
      recording_row("recording.last_error", kInfo, "", "Why recording or a screenshot last failed.",
                    [](const R& r) { return r.last_error; }),
      recording_row("recording.archive_written", kCounter, "keyframes",
                    "Keyframes written to the keyframe archive (record.archive_dir).",
                    [](const R& r) { return r.archive_written; }),
      recording_row("recording.archive_failed", kCounter, "keyframes",
                    "Keyframes the archive could not write (its folder, the disk) or keep up with.",
                    [](const R& r) { return r.archive_failed; }),
      recording_row("recording.archive_bytes", kGauge, "bytes",
                    "Bytes in the keyframe archive (record.archive_max_mb bounds it).",
                    [](const R& r) { return r.archive_bytes; }),
      recording_row("recording.archive_last_error", kInfo, "",
                    "Why the keyframe archive last failed to write a keyframe.",
                    [](const R& r) { return r.archive_last_error; }),
  };
}

// The operator's controls: pause, freeze, theme skips, injections asked for, config edits waiting
// for a restart, where OSC listens, the parameters' change serial.
std::vector<MetricRow> control_rows() {
  return {
      row("control.paused", kGauge, "", "1 while generation is paused (no keyframe requested).",
          [](const S& s) { return s.control.paused; }),
      row("control.pause_reasons", kInfo, "", "Who paused generation: operator, schedule.",
          [](const S& s) { return s.control.pause_reasons; }),
      row("control.frozen", kGauge, "", "1 while the picture is held exactly.",
          [](const S& s) { return s.control.frozen; }),
      row("control.theme_skips", kCounter, "themes", "Next-theme requests carried out.",
          [](const S& s) { return s.orchestrator.theme_skips; }),
      row("control.operator_injections", kCounter, "keyframes",
          "Injections the operator asked for.",
          [](const S& s) { return s.orchestrator.operator_injections; }),
      row("control.pending_restart", kInfo, "",
          "Restart settings changed, applied after a restart.",
          [](const S& s) { return s.control.pending_restart; }),
      row("control.last_reload", kInfo, "", "Outcome of the last config reload (SIGHUP, action).",
          [](const S& s) { return s.control.last_reload; }),
      row("control.osc", kInfo, "",
          "Where OSC listens (off; waiting to bind and why; unreachable).",
          [](const S& s) { return s.control.osc; }),
      row("control.config_version", kCounter, "",
          "Moves on every change to a parameter's value (from anywhere) or to the restart edits "
          "waiting; GET /api/params says which version its list is.",
          [](const S& s) { return s.control.config_version; }),
  };
}

// The schedule (pipeline/schedule.h): always present; with schedule.enabled off it reads open,
// full light, no window.
std::vector<MetricRow> schedule_rows() {
  return {
      row("schedule.enabled", kGauge, "", "1 when the opening hours are followed.",
          [](const S& s) { return s.schedule.enabled; }),
      row("schedule.open", kGauge, "", "1 while open; closed: dark and generation paused.",
          [](const S& s) { return s.schedule.open; }),
      row("schedule.light", kGauge, "ratio", "The fade at closing and opening: 0 black, 1 full.",
          [](const S& s) { return s.schedule.light; }),
      row("schedule.brightness", kGauge, "ratio", "The brightness curve's factor now.",
          [](const S& s) { return s.schedule.brightness; }),
      row("schedule.output_light", kGauge, "ratio",
          "What the output multiplies in: light times brightness.",
          [](const S& s) { return s.schedule.output_light(); }),
      row("schedule.theme_window", kInfo, "", "The theme window in force (empty: none).",
          [](const S& s) { return s.schedule.theme_window; }),
      row("schedule.themes", kInfo, "", "The themes it plays, '|'-separated (empty: all).",
          [](const S& s) {
            std::string out;
            for (const std::string& t : s.schedule.themes) out += (out.empty() ? "" : "|") + t;
            return out;
          }),
      row("schedule.next_change", kInfo, "", "What happens next and when: \"closes at 18:00\".",
          [](const S& s) { return s.schedule.next.text; }),
      row("schedule.next_change_in_s", kGauge, "seconds", "Wall-clock seconds to the next change.",
          [](const S& s) { return s.schedule.next.in_s; }),
  };
}

// The web remote (remote/http_api.h): where it listens and whether it asks for a token.
std::vector<MetricRow> remote_rows() {
  return {
      row("remote.state", kInfo, "",
          "The web remote: listening, off, not listening (starting again), waiting to bind (and "
          "why), unreachable (its address is gone), or why it could not start.",
          [](const S& s) { return s.remote.state; }),
      row("remote.url", kInfo, "",
          "Where the web remote listens (empty while off or waiting to bind).",
          [](const S& s) { return s.remote.url; }),
      row("remote.token_required", kGauge, "",
          "1 when the remote asks for its token (always off loopback).",
          [](const S& s) { return s.remote.token_required; }),
      row("remote.requests", kCounter, "requests", "HTTP requests the remote has answered.",
          [](const S& s) { return s.remote.requests; }),
      row("remote.relistens", kCounter, "",
          "Times the remote's accept loop ended by itself (a socket error) and listened again.",
          [](const S& s) { return s.remote.relistens; }),
  };
}

// The service side (app/service_*, pipeline/resume.h).
std::vector<MetricRow> service_rows() {
  return {
      service_row("service.watchdog", kInfo, "",
                  "systemd watchdog: off, waiting for the first frame, ok, or stalled and why.",
                  [](const ServiceStatus& s) { return s.watchdog; }),
      service_row("service.watchdog_s", kGauge, "seconds",
                  "systemd's WatchdogSec (0: no watchdog).",
                  [](const ServiceStatus& s) { return s.watchdog_s; }),
      service_row("service.watchdog_pings", kCounter, "", "Watchdog pings sent to systemd.",
                  [](const ServiceStatus& s) { return s.watchdog_pings; }),
      service_row("service.ready_at_s", kGauge, "seconds",
                  "When systemd was told READY=1, seconds after start (-1: not yet, or no "
                  "systemd).",
                  [](const ServiceStatus& s) { return s.ready_at_s; }),
      service_row("service.log_file", kInfo, "",
                  "The log file (empty: stderr and the journal only).",
                  [](const ServiceStatus& s) { return s.log_file; }),
      service_row("service.resume_source", kInfo, "",
                  "What the dream started from: a seed image or the resume state of the "
                  "previous run.",
                  [](const ServiceStatus& s) { return s.resume_source; }),
      service_row("service.resume_saves", kCounter, "", "Resume states saved.",
                  [](const ServiceStatus& s) { return s.resume_saves; }),
      service_row("service.resume_saved_keyframe", kGauge, "",
                  "Newest keyframe in the resume state.",
                  [](const ServiceStatus& s) { return s.resume_saved_keyframe; }),
  };
}

}  // namespace

std::vector<MetricRow> installation_metric_rows() {
  std::vector<MetricRow> all;
  for (auto part : {control_rows, schedule_rows, recording_rows, remote_rows, service_rows})
    for (MetricRow& r : part()) all.push_back(std::move(r));
  return all;
}

}  // namespace dw::pipeline
