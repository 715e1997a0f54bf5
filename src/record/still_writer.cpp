#include "record/still_writer.h"

#include <spdlog/spdlog.h>

#include "record/record_paths.h"

namespace dw::record {

StillWriter::StillWriter(std::size_t queue_images)
    : worker_(queue_images, [this](Item& item) { write(item); }) {}

bool StillWriter::submit(Image image, Folder folder) {
  if (worker_.submit(Item{std::move(image), std::move(folder)})) return true;
  std::lock_guard lock(mutex_);
  ++stats_.failed;
  stats_.last_error = "screenshots requested faster than they can be written";
  spdlog::warn("screenshot refused: {} are still being written", worker_.queued());
  return false;
}

StillStats StillWriter::stats() const {
  std::lock_guard lock(mutex_);
  return stats_;
}

bool StillWriter::wait_idle(std::chrono::milliseconds timeout) {
  return worker_.wait_idle(timeout);
}

void StillWriter::write(const Item& item) {
  std::string problem;
  std::string path;
  if (auto bad = check_writable_dir(item.folder)) {
    problem = *bad;
  } else {
    std::uint64_t number = 0;
    {
      std::lock_guard lock(mutex_);
      number = stats_.written + stats_.failed + 1;
    }
    path = new_file_path(item.folder.path, "dreamwindow", number, ".png");
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
    stats_.last_error.clear();  // mended: status no longer names the old failure
    spdlog::info("screenshot written to {}", path);
  } else {
    ++stats_.failed;
    stats_.last_error = problem;
    spdlog::warn("screenshot not written: {}", problem);
  }
}

}  // namespace dw::record
