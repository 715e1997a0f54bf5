#include "app/service_log.h"

#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/rotating_file_sink.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>

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

std::shared_ptr<spdlog::sinks::sink> stderr_sink() {
  if (!stderr_is_journal()) return std::make_shared<spdlog::sinks::stderr_color_sink_mt>();
  // The journal stamps time and unit itself; the level travels as the priority.
  auto sink = std::make_shared<spdlog::sinks::stderr_sink_mt>();
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
  std::vector<spdlog::sink_ptr> sinks{stderr_sink()};
  std::string file;
  std::string file_error;
  if (!config.log_file.empty()) {
    try {
      const std::filesystem::path path(config.log_file);
      if (path.has_parent_path()) std::filesystem::create_directories(path.parent_path());
      const auto bytes = static_cast<std::size_t>(config.log_max_mb * 1024.0 * 1024.0);
      sinks.push_back(std::make_shared<spdlog::sinks::rotating_file_sink_mt>(
          config.log_file, std::max<std::size_t>(bytes, 4096),
          static_cast<std::size_t>(config.log_files)));
      file = config.log_file;
    } catch (const std::exception& e) {
      file_error = e.what();
    }
  }
  auto logger = std::make_shared<spdlog::logger>("dreamwindow", sinks.begin(), sinks.end());
  // Every line from info up is written through at once: the lines before a watchdog's kill are
  // the ones an operator needs, and a buffer dies with the process. They are few (a line or two a
  // minute in a healthy run); debug lines go with the next flush.
  logger->flush_on(spdlog::level::info);
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
