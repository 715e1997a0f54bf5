#include "record/still_writer.h"

#include <spdlog/spdlog.h>

#include "record/record_paths.h"

namespace dw::record {

StillWriter::StillWriter(std::size_t queue_images)
    : capacity_(queue_images < 1 ? 1 : queue_images),
      thread_([this](std::stop_token stop) { run(stop); }) {}

StillWriter::~StillWriter() {
  thread_.request_stop();
  if (thread_.joinable()) thread_.join();
}

bool StillWriter::submit(Image image, std::string dir) {
  {
    std::lock_guard lock(mutex_);
    if (queue_.size() >= capacity_) {
      ++stats_.failed;
      stats_.last_error = "screenshots requested faster than they can be written";
      spdlog::warn("screenshot refused: {} are still being written", queue_.size());
      return false;
    }
    queue_.push_back(Item{std::move(image), std::move(dir)});
  }
  wake_.notify_one();
  return true;
}

StillStats StillWriter::stats() const {
  std::lock_guard lock(mutex_);
  return stats_;
}

bool StillWriter::wait_idle(std::chrono::milliseconds timeout) {
  std::unique_lock lock(mutex_);
  return idle_.wait_for(lock, timeout, [&] { return queue_.empty() && !busy_; });
}

void StillWriter::run(std::stop_token stop) {
  std::unique_lock lock(mutex_);
  for (;;) {
    wake_.wait(lock, stop, [&] { return !queue_.empty(); });
    if (queue_.empty()) break;  // stop requested and nothing left
    Item item = std::move(queue_.front());
    queue_.pop_front();
    busy_ = true;
    lock.unlock();
    write(item);
    lock.lock();
    busy_ = false;
    idle_.notify_all();
  }
}

void StillWriter::write(const Item& item) {
  std::string problem;
  std::string path;
  if (auto bad = check_writable_dir(item.dir)) {
    problem = *bad;
  } else {
    std::uint64_t number = 0;
    {
      std::lock_guard lock(mutex_);
      number = stats_.written + stats_.failed + 1;
    }
    path = new_file_path(item.dir, "dreamwindow", number, ".png");
    try {
      save_png(item.image, path);
    } catch (const std::exception& e) {
      problem = e.what();
    }
  }
  std::lock_guard lock(mutex_);
  if (problem.empty()) {
    ++stats_.written;
    stats_.last_file = path;
    spdlog::info("screenshot written to {}", path);
  } else {
    ++stats_.failed;
    stats_.last_error = problem;
    spdlog::warn("screenshot not written: {}", problem);
  }
}

}  // namespace dw::record
