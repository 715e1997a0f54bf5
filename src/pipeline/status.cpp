#include "pipeline/status.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <filesystem>

#include "core/commands.h"
#include "core/files.h"
#include "core/stop_sleep.h"

namespace dw::pipeline {

std::string pause_reasons_text(unsigned reasons) {
  std::string text;
  const auto add = [&](unsigned bit, const char* name) {
    if ((reasons & bit) == 0) return;
    if (!text.empty()) text += ", ";
    text += name;
  };
  add(kPauseOperator, "operator");
  add(kPauseSchedule, "schedule");
  return text;
}

std::vector<std::string> status_problems(const StatusSnapshot& s) {
  std::vector<std::string> out;
  const auto suffix = [](const std::string& text) { return text.empty() ? "" : " - " + text; };
  for (const WorkerHealth& w : s.workers)
    if (w.state != WorkerState::Running || w.errors > 0)
      out.push_back(fmt::format(
          "worker {}: {}{}{}", w.name, to_string(w.state),
          w.errors > 0 ? fmt::format(", {} error{}", w.errors, w.errors > 1 ? "s" : "") : "",
          suffix(w.last_error)));
  const std::string& last = s.orchestrator.last_error;
  if (!last.empty() && std::none_of(out.begin(), out.end(), [&](const std::string& t) {
        return t.find(last) != std::string::npos;
      }))
    out.push_back("last error: " + last);
  for (const ServerHealth& v : s.source_health.servers)
    if (!v.healthy || v.degraded || !v.last_error.empty())
      out.push_back(fmt::format("ComfyUI {}: {}{}", v.url,
                                !v.healthy   ? "not healthy"
                                : v.degraded ? "degraded"
                                             : "healthy",
                                suffix(v.last_error)));
  if (!s.folder.problem.empty())
    out.push_back(fmt::format("source.folder {}: {}", s.folder.path, s.folder.problem));
  const auto count = [&](std::uint64_t n, const char* what) {
    if (n > 0) out.push_back(fmt::format("{}: {}", what, n));
  };
  count(s.folder.unreadable, "source.folder files not readable as images");
  count(s.interpolation.decode_errors, "VAE decode errors");
  count(s.interpolation.encode_errors, "VAE encode errors");
  count(s.cache_worker.errors, "cache write errors");
  if (s.recording) {
    count(s.recording->frames_dropped, "recorded frames dropped");
    count(s.recording->archive_failed, "archive keyframes not written");
    if (!s.recording->last_error.empty()) out.push_back("recording: " + s.recording->last_error);
    if (!s.recording->archive_last_error.empty())
      out.push_back("archive: " + s.recording->archive_last_error);
  }
  if (s.remote.state != "listening" && s.remote.state != "off")
    out.push_back("remote: " + s.remote.state);
  if (s.control.osc.starts_with("waiting") || s.control.osc.starts_with("off:") ||
      s.control.osc.starts_with("unreachable"))
    out.push_back("osc: " + s.control.osc);
  if (s.service.watchdog.starts_with("stalled")) out.push_back("watchdog: " + s.service.watchdog);
  if (s.orchestrator.collapse.degeneration.holding) {
    const std::string cause = s.orchestrator.collapse.cause;
    out.push_back(fmt::format("collapse: holding ({})", cause.empty() ? "no variety" : cause));
  }
  return out;
}

PeriodicFileWriter::PeriodicFileWriter(std::string path, std::chrono::milliseconds interval,
                                       std::function<std::string()> render)
    : path_(std::move(path)), interval_(interval), render_(std::move(render)) {
  // This file's temporaries that an unclean stop left (the folder may be shared: only its own).
  const std::filesystem::path p(path_);
  remove_stale_temporaries(p.has_parent_path() ? p.parent_path().string() : ".",
                           p.filename().string());
  thread_ = std::jthread([this](std::stop_token stop) { run(stop); });
}

PeriodicFileWriter::~PeriodicFileWriter() {
  stop();
}

void PeriodicFileWriter::stop() {
  if (!thread_.joinable()) return;
  thread_.request_stop();
  thread_.join();
  write_now();  // the final state
}

void PeriodicFileWriter::write_now() {
  std::lock_guard lock(write_mutex_);
  try {
    // Rewritten every second: whole for its readers, but not synced (86,400 syncs a day of the
    // file and its folder would wear an SSD for a file the next second replaces).
    write_file_atomic(path_, std::string_view(render_()), Durability::Replaceable);
    ++writes_;
  } catch (const std::exception& e) {
    if (failures_++ == 0) spdlog::error("status: cannot write '{}': {}", path_, e.what());
  }
}

void PeriodicFileWriter::run(std::stop_token stop) {
  while (!stop.stop_requested()) {
    write_now();
    sleep_unless_stopped(stop, interval_);
  }
}

}  // namespace dw::pipeline
