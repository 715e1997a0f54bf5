#include "app/service_log.h"

#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/base_sink.h>
#include <spdlog/sinks/rotating_file_sink.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <string_view>

#include "app/async_log_sink.h"

namespace dw::service {
namespace {

// "%*" in a pattern: journald's "<N>" for the message's level.
class PriorityFlag final : public spdlog::custom_flag_formatter {
 public:
  void format(const spdlog::details::log_msg& msg, const std::tm&,
              spdlog::memory_buf_t& dest) override {
    const char text[] = {'<', static_cast<char>('0' + journal_priority(msg.level)), '>'};
    dest.append(text, text + 3);
  }
  std::unique_ptr<custom_flag_formatter> clone() const override {
    return std::make_unique<PriorityFlag>();
  }
};

// stderr written with write(2) on fd 2, not through stdio: a writer stuck in a full pipe would
// otherwise hold stdio's stderr lock, and the exit waits for it (a library's fflush(stderr) in its
// static destructors). Coloured levels on a terminal, as spdlog's console sink shows them; the
// journal's priority prefix where stderr is the journal.
class StderrSink final : public spdlog::sinks::base_sink<std::mutex> {
 public:
  explicit StderrSink(bool colour) : colour_(colour) {}

 protected:
  void sink_it_(const spdlog::details::log_msg& msg) override {
    spdlog::memory_buf_t line;
    formatter_->format(msg, line);
    const std::string_view text(line.data(), line.size());
    if (!colour_ || msg.color_range_end <= msg.color_range_start) {
      write_all(text);
      return;
    }
    write_all(text.substr(0, msg.color_range_start));
    write_all(level_colour(msg.level));
    write_all(text.substr(msg.color_range_start, msg.color_range_end - msg.color_range_start));
    write_all("\033[0m");
    write_all(text.substr(msg.color_range_end));
  }
  void flush_() override {}  // nothing is buffered

 private:
  static std::string_view level_colour(spdlog::level::level_enum level) {
    switch (level) {
      case spdlog::level::trace:
        return "\033[37m";
      case spdlog::level::debug:
        return "\033[36m";
      case spdlog::level::info:
        return "\033[32m";
      case spdlog::level::warn:
        return "\033[33m\033[1m";
      case spdlog::level::err:
        return "\033[31m\033[1m";
      default:
        return "\033[1m\033[41m";
    }
  }
  // The whole text, or an exception (the async writer counts the line as lost: EPIPE when the
  // reader went away, EBADF when stderr was closed).
  static void write_all(std::string_view text) {
    while (!text.empty()) {
      const ssize_t n = ::write(STDERR_FILENO, text.data(), text.size());
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0)
        throw spdlog::spdlog_ex(std::string("stderr cannot be written: ") + std::strerror(errno));
      text.remove_prefix(static_cast<std::size_t>(n));
    }
  }

  const bool colour_;
};

bool stderr_is_terminal() {
  const char* term = std::getenv("TERM");
  return ::isatty(STDERR_FILENO) == 1 && term != nullptr && std::string_view(term) != "dumb";
}

std::shared_ptr<spdlog::sinks::sink> stderr_sink() {
  if (!stderr_is_journal()) return std::make_shared<StderrSink>(stderr_is_terminal());
  // The journal stamps time and unit itself; the level travels as the priority.
  auto sink = std::make_shared<StderrSink>(false);
  auto formatter = std::make_unique<spdlog::pattern_formatter>();
  formatter->add_flag<PriorityFlag>('*').set_pattern("%*[%l] %v");
  sink->set_formatter(std::move(formatter));
  return sink;
}

}  // namespace

int journal_priority(int spdlog_level) {
  switch (spdlog_level) {
    case spdlog::level::critical:
      return 2;
    case spdlog::level::err:
      return 3;
    case spdlog::level::warn:
      return 4;
    case spdlog::level::info:
      return 6;
    default:
      return 7;
  }
}

bool stderr_is_journal() {
  const char* stream = std::getenv("JOURNAL_STREAM");
  if (stream == nullptr) return false;
  unsigned long long dev = 0, ino = 0;
  if (std::sscanf(stream, "%llu:%llu", &dev, &ino) != 2) return false;
  struct stat st {};
  if (::fstat(2, &st) != 0) return false;
  return static_cast<unsigned long long>(st.st_dev) == dev &&
         static_cast<unsigned long long>(st.st_ino) == ino;
}

std::string install_logger(const ServiceConfig& config) {
  std::vector<spdlog::sink_ptr> sinks{std::make_shared<AsyncLogSink>(stderr_sink())};
  std::string file;
  std::string file_error;
  if (!config.log_file.empty()) {
    try {
      const std::filesystem::path path(config.log_file);
      if (path.has_parent_path()) std::filesystem::create_directories(path.parent_path());
      const auto bytes = static_cast<std::size_t>(config.log_max_mb * 1024.0 * 1024.0);
      sinks.push_back(
          std::make_shared<AsyncLogSink>(std::make_shared<spdlog::sinks::rotating_file_sink_mt>(
              config.log_file, std::max<std::size_t>(bytes, 4096),
              static_cast<std::size_t>(config.log_files))));
      file = config.log_file;
    } catch (const std::exception& e) {
      file_error = e.what();
    }
  }
  auto logger = std::make_shared<spdlog::logger>("dreamwindow", sinks.begin(), sinks.end());
  // Each output writes on a thread of its own (AsyncLogSink): no thread that logs waits for a
  // terminal, journald or a disk. The writers flush every line from info up as they write it.
  spdlog::set_default_logger(logger);
  if (!file.empty())
    spdlog::info("log: also written to {} (rotated at {} MB, {} old files kept)", file,
                 config.log_max_mb, config.log_files);
  if (!file_error.empty())
    spdlog::error("service.log_file = '{}' cannot be written: {}; logging to stderr only",
                  config.log_file, file_error);
  return file;
}

}  // namespace dw::service
