// The recent warnings and errors of every thread, for the overlay and status.json: an spdlog sink
// that keeps the last few messages. Workers just log; nothing else to wire.
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
