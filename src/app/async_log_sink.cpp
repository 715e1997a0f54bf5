#include "app/async_log_sink.h"

#include <fmt/format.h>
#include <spdlog/details/log_msg_buffer.h>

#include <condition_variable>
#include <deque>
#include <mutex>
#include <utility>

namespace dw::service {

struct AsyncLogSink::Shared {
  Shared(spdlog::sink_ptr out, std::size_t cap) : output(std::move(out)), capacity(cap) {}

  const spdlog::sink_ptr output;
  const std::size_t capacity;
  std::mutex mutex;
  std::condition_variable wake;      // the writer: a message, or stop
  std::condition_variable progress;  // drain() and the destructor: a message done, or the end
  std::deque<spdlog::details::log_msg_buffer> queue;
  std::uint64_t posted = 0;      // messages logged
  std::uint64_t done = 0;        // of those, written or lost
  std::uint64_t lost = 0;        // dropped from a full queue, or refused by the output
  std::uint64_t unreported = 0;  // lost since the writer last said so
  bool stop = false;
  bool ended = false;
};

namespace {

// One message to the output, after a line saying how many went before it (if any). An output
// that throws (a full disk under the log file) loses this message: there is nowhere to say so
// but the next line that gets through. Returns whether it was written.
bool write_one(spdlog::sinks::sink& output, const spdlog::details::log_msg& msg,
               std::uint64_t lost_before, bool queue_empty) {
  try {
    if (lost_before > 0) {
      const std::string text =
          fmt::format("log: {} line{} lost here: this output was not taking them", lost_before,
                      lost_before == 1 ? " was" : "s were");
      output.log(
          spdlog::details::log_msg(msg.time, {}, msg.logger_name, spdlog::level::warn, text));
    }
    if (output.should_log(msg.level)) output.log(msg);
    if (msg.level >= spdlog::level::info || queue_empty) output.flush();
    return true;
  } catch (const std::exception&) {
    return false;
  }
}

}  // namespace

AsyncLogSink::AsyncLogSink(spdlog::sink_ptr output, std::size_t capacity)
    : shared_(std::make_shared<Shared>(std::move(output), std::max<std::size_t>(capacity, 1))),
      writer_([shared = shared_] { write_loop(shared); }) {}

AsyncLogSink::~AsyncLogSink() {
  std::unique_lock lock(shared_->mutex);
  shared_->stop = true;
  shared_->wake.notify_one();
  const bool ended =
      shared_->progress.wait_for(lock, kDrainAtExit, [this] { return shared_->ended; });
  lock.unlock();
  if (ended)
    writer_.join();
  else
    writer_.detach();  // stuck in its output: it keeps `Shared` alive and ends with the process
}

void AsyncLogSink::write_loop(const std::shared_ptr<Shared>& shared) {
  Shared& s = *shared;
  std::unique_lock lock(s.mutex);
  for (;;) {
    s.wake.wait(lock, [&s] { return s.stop || !s.queue.empty(); });
    if (s.queue.empty()) break;  // stopping, and everything is written
    const spdlog::details::log_msg_buffer msg = std::move(s.queue.front());
    s.queue.pop_front();
    const std::uint64_t lost_before = std::exchange(s.unreported, 0);
    const bool queue_empty = s.queue.empty();
    lock.unlock();
    const bool written = write_one(*s.output, msg, lost_before, queue_empty);
    lock.lock();
    if (!written) {
      s.unreported += lost_before + 1;
      ++s.lost;
    }
    ++s.done;
    s.progress.notify_all();
  }
  s.ended = true;
  s.progress.notify_all();
}

void AsyncLogSink::log(const spdlog::details::log_msg& msg) {
  spdlog::details::log_msg_buffer copy(msg);  // the payload's text, owned
  {
    std::lock_guard lock(shared_->mutex);
    if (shared_->queue.size() >= shared_->capacity) {
      shared_->queue.pop_front();
      ++shared_->lost;
      ++shared_->unreported;
      ++shared_->done;
    }
    shared_->queue.push_back(std::move(copy));
    ++shared_->posted;
  }
  shared_->wake.notify_one();
}

void AsyncLogSink::set_pattern(const std::string& pattern) {
  shared_->output->set_pattern(pattern);
}

void AsyncLogSink::set_formatter(std::unique_ptr<spdlog::formatter> formatter) {
  shared_->output->set_formatter(std::move(formatter));
}

bool AsyncLogSink::drain(std::chrono::milliseconds within) {
  std::unique_lock lock(shared_->mutex);
  const std::uint64_t target = shared_->posted;
  return shared_->progress.wait_for(lock, within, [&] { return shared_->done >= target; });
}

std::uint64_t AsyncLogSink::lost() const {
  std::lock_guard lock(shared_->mutex);
  return shared_->lost;
}

}  // namespace dw::service
