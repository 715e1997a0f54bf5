// The keyframe archive (record.archive_dir): every keyframe as a PNG with a JSON beside it (its
// prompt, seed, where it came from and the settings it was made with), written on its own thread,
// the folder kept under record.archive_max_mb by removing the oldest keyframes first. A folder that
// cannot be written is a warning per keyframe (rate-limited), never a stop.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <mutex>
#include <string>
#include <thread>

#include "core/image.h"

namespace dw::record {

struct ArchiveStats {
  std::uint64_t written = 0;
  std::uint64_t removed = 0;  // oldest keyframes removed to stay under the bound
  std::uint64_t failed = 0;   // not written (folder, disk) or refused (queue full)
  std::uint64_t bytes = 0;    // in the archive after the last write
  std::string last_error;
};

class KeyframeArchive {
 public:
  KeyframeArchive(std::string dir, std::uint64_t max_bytes, std::size_t queue_keyframes = 8);
  ~KeyframeArchive();  // writes what is queued
  KeyframeArchive(const KeyframeArchive&) = delete;
  KeyframeArchive& operator=(const KeyframeArchive&) = delete;

  // Any thread, never waits: keyframe `index` with its JSON description. False: refused.
  bool submit(std::uint64_t index, Image image, std::string json);
  void set_max_bytes(std::uint64_t max_bytes);
  ArchiveStats stats() const;
  bool wait_idle(std::chrono::milliseconds timeout);

 private:
  struct Item {
    std::uint64_t index = 0;
    Image image;
    std::string json;
  };
  void run(std::stop_token stop);
  void write(const Item& item);
  void prune();

  const std::string dir_;
  const std::size_t capacity_;
  mutable std::mutex mutex_;
  std::condition_variable_any wake_;
  std::condition_variable idle_;
  std::deque<Item> queue_;
  bool busy_ = false;
  std::uint64_t max_bytes_;
  ArchiveStats stats_;
  std::string stamp_;  // this run's start, so names sort by run and then by keyframe
  std::jthread thread_;
};

}  // namespace dw::record
