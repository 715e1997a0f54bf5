// The recent warnings and errors of every thread, for the overlay: an spdlog sink on the default
// logger that keeps the last kKept messages at warning level or above and counts them. Workers just
// log. The app installs it after setting its default logger (a logger set later would not carry
// the sink); messages below the logger's level (apply_log_level) never reach it.
#pragma once

#include <spdlog/common.h>

#include <chrono>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace dw {

struct LogEntry {
  std::chrono::system_clock::time_point time;
  spdlog::level::level_enum level = spdlog::level::info;
  std::string text;
};

class LogBoard {
 public:
  static constexpr std::size_t kKept = 32;
  // Installs the board's sink on the default logger (once) and returns the board.
  static LogBoard& install();
  void add(LogEntry entry);
  std::vector<LogEntry> recent() const;
  std::uint64_t warnings() const;
  std::uint64_t errors() const;

 private:
  mutable std::mutex mutex_;
  std::deque<LogEntry> entries_;
  std::uint64_t warnings_ = 0;
  std::uint64_t errors_ = 0;
};

// Sets the default logger's level from the config's log_level.
void apply_log_level(int level_index);

}  // namespace dw
