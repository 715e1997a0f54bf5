// A log sink that never makes the logging thread wait for its output. Each message is copied into
// a bounded queue and written to the wrapped sink by a thread of the sink's own, so a terminal
// paused with Ctrl-S, a pipe nobody reads, a journald that is stuck or a slow SD card cannot stop
// the render loop or a worker (a blocked stderr used to freeze the picture at its next line).
// Each output (stderr, the log file) has its own queue and thread: a stuck one does not hold up
// the others.
//
// When the queue is full the oldest message goes; the writer says how many went, in a warning
// line, before the next one it writes. Lines from info up are flushed as they are written (the
// lines before a watchdog's kill are the ones an operator needs); lower ones when the queue runs
// empty. Going away, the sink writes what is queued for up to kDrainAtExit; a writer stuck in its
// output is left behind then (it holds what it needs), so a stuck output never blocks the exit.
#pragma once

#include <spdlog/sinks/sink.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <thread>

namespace dw::service {

class AsyncLogSink final : public spdlog::sinks::sink {
 public:
  static constexpr std::size_t kDefaultCapacity = 4096;
  static constexpr std::chrono::milliseconds kDrainAtExit{2000};

  explicit AsyncLogSink(spdlog::sink_ptr output, std::size_t capacity = kDefaultCapacity);
  ~AsyncLogSink() override;
  AsyncLogSink(const AsyncLogSink&) = delete;
  AsyncLogSink& operator=(const AsyncLogSink&) = delete;

  void log(const spdlog::details::log_msg& msg) override;
  // Nothing to do here: the writer flushes (a logger's flush_on must not wait for the output).
  void flush() override {}
  void set_pattern(const std::string& pattern) override;
  void set_formatter(std::unique_ptr<spdlog::formatter> formatter) override;

  // Waits until every message logged before the call is written (or dropped), at most `within`.
  // True when they are.
  bool drain(std::chrono::milliseconds within);
  // Messages lost so far: dropped from a full queue, or refused by the output (it threw).
  std::uint64_t lost() const;

 private:
  struct Shared;  // the queue and the output: shared with the writer, which may outlive the sink
  static void write_loop(const std::shared_ptr<Shared>& shared);

  std::shared_ptr<Shared> shared_;
  std::thread writer_;
};

}  // namespace dw::service
