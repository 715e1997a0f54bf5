// Screenshots: PNGs of the canvas written on their own thread (PNG encoding takes tens of
// milliseconds at 1080p, too long for the render thread). A few may wait; beyond that a
// request is refused with a warning. A folder that cannot be written is a warning, never a crash.
#pragma once

#include <chrono>
#include <cstdint>
#include <mutex>
#include <string>

#include "core/background_worker.h"
#include "core/image.h"
#include "record/record_paths.h"

namespace dw::record {

struct StillStats {
  std::uint64_t written = 0;
  std::uint64_t failed = 0;  // refused (queue full) or not written (folder, disk)
  std::string last_file;
  std::string last_error;  // why the last screenshot failed; cleared by one written since
};

class StillWriter {
 public:
  explicit StillWriter(std::size_t queue_images = 4);
  // The destructor writes what is queued.
  StillWriter(const StillWriter&) = delete;
  StillWriter& operator=(const StillWriter&) = delete;

  // Any thread, never waits: `image` becomes DIR/dreamwindow-<time>.png. False: refused.
  bool submit(Image image, Folder folder);
  StillStats stats() const;
  // Waits until nothing is queued or being written (tests).
  bool wait_idle(std::chrono::milliseconds timeout);

 private:
  struct Item {
    Image image;
    Folder folder;
  };
  void write(const Item& item);

  mutable std::mutex mutex_;  // guards stats_
  StillStats stats_;
  BackgroundWorker<Item> worker_;  // last: destroyed (and drained) first
};

}  // namespace dw::record
