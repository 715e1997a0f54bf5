// The keyframe archive (record.archive_dir): every keyframe as a PNG with a JSON beside it (its
// prompt, seed, where it came from and the settings it was made with), written on its own thread,
// the folder kept under record.archive_max_mb by removing the oldest keyframes first (after each
// keyframe, written or not, and when the bound changes). A folder that cannot be written (or not
// on the disk record.mount wants) is a warning per keyframe (rate-limited), never a stop, and
// status's last_error until a keyframe is written again.
#pragma once

#include <chrono>
#include <cstdint>
#include <mutex>
#include <string>

#include "core/background_worker.h"
#include "core/image.h"

namespace dw::record {

struct ArchiveStats {
  std::uint64_t written = 0;
  std::uint64_t removed = 0;  // oldest keyframes removed to stay under the bound
  std::uint64_t failed = 0;   // not written (folder, disk) or refused (queue full)
  std::uint64_t bytes = 0;    // in the archive after the last write (or removal)
  std::string last_error;
};

class KeyframeArchive {
 public:
  KeyframeArchive(std::string dir, std::uint64_t max_bytes, std::size_t queue_keyframes = 8);
  // The destructor writes what is queued.
  KeyframeArchive(const KeyframeArchive&) = delete;
  KeyframeArchive& operator=(const KeyframeArchive&) = delete;

  // Any thread, never waits: keyframe `index` with its JSON description. False: refused.
  bool submit(std::uint64_t index, Image image, std::string json);
  // Any thread, never waits: a new bound, applied by the archive's thread at once.
  void set_max_bytes(std::uint64_t max_bytes);
  // Any thread: record.mount, checked before each keyframe (record_paths.h mount_problem); empty
  // (the default) checks nothing.
  void set_mount(std::string mount);
  ArchiveStats stats() const;
  bool wait_idle(std::chrono::milliseconds timeout);

 private:
  struct Item {
    std::uint64_t index = 0;
    Image image;
    std::string json;
    bool prune_only = false;  // no keyframe: only the bound applied (set_max_bytes)
  };
  void write(const Item& item);
  struct Pruned {
    std::uint64_t removed = 0;  // keyframes removed
    std::uint64_t bytes = 0;    // what the archive holds after
  };
  Pruned prune();

  const std::string dir_;
  const std::string stamp_;   // this run's start (local time): names tell runs apart
  mutable std::mutex mutex_;  // guards max_bytes_, mount_ and stats_
  std::uint64_t max_bytes_;
  std::string mount_;
  ArchiveStats stats_;
  BackgroundWorker<Item> worker_;  // last: destroyed (and drained) first
};

}  // namespace dw::record
