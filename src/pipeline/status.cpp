#include "pipeline/status.h"

#include <spdlog/spdlog.h>

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
