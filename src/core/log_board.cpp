#include "core/log_board.h"

#include <spdlog/sinks/base_sink.h>
#include <spdlog/spdlog.h>

namespace dw {
namespace {

class BoardSink final : public spdlog::sinks::base_sink<std::mutex> {
 public:
  explicit BoardSink(LogBoard& board) : board_(board) { set_level(spdlog::level::warn); }

 protected:
  void sink_it_(const spdlog::details::log_msg& msg) override {
    board_.add(LogEntry{msg.time, msg.level, std::string(msg.payload.begin(), msg.payload.end())});
  }
  void flush_() override {}

 private:
  LogBoard& board_;
};

}  // namespace

LogBoard& LogBoard::install() {
  static LogBoard board;
  static const bool installed = [] {
    spdlog::default_logger()->sinks().push_back(std::make_shared<BoardSink>(board));
    return true;
  }();
  (void)installed;
  return board;
}

void LogBoard::add(LogEntry entry) {
  std::lock_guard lock(mutex_);
  if (entry.level >= spdlog::level::err)
    ++errors_;
  else if (entry.level == spdlog::level::warn)
    ++warnings_;
  entries_.push_back(std::move(entry));
  while (entries_.size() > kKept) entries_.pop_front();
}

std::vector<LogEntry> LogBoard::recent() const {
  std::lock_guard lock(mutex_);
  return {entries_.begin(), entries_.end()};
}

std::uint64_t LogBoard::warnings() const {
  std::lock_guard lock(mutex_);
  return warnings_;
}

std::uint64_t LogBoard::errors() const {
  std::lock_guard lock(mutex_);
  return errors_;
}

void apply_log_level(int level_index) {
  static constexpr spdlog::level::level_enum kLevels[] = {
      spdlog::level::trace, spdlog::level::debug, spdlog::level::info,
      spdlog::level::warn,  spdlog::level::err,   spdlog::level::off};
  if (level_index >= 0 && level_index < 6) spdlog::set_level(kLevels[level_index]);
}

}  // namespace dw
