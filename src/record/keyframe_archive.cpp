#include "record/keyframe_archive.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <ctime>
#include <filesystem>
#include <map>
#include <system_error>
#include <vector>

#include "core/files.h"
#include "core/local_time.h"
#include "record/record_paths.h"

namespace dw::record {
namespace fs = std::filesystem;
namespace {

constexpr const char* kPrefix = "keyframe-";

std::string run_stamp() {
  const std::tm local = local_calendar_time(std::time(nullptr));
  char text[32];
  std::strftime(text, sizeof text, "%Y%m%d-%H%M%S", &local);
  return text;
}

}  // namespace

KeyframeArchive::KeyframeArchive(std::string dir, std::uint64_t max_bytes,
                                 std::size_t queue_keyframes)
    : dir_(std::move(dir)),
      stamp_(run_stamp()),
      max_bytes_(max_bytes),
      worker_(queue_keyframes, [this](Item& item) { write(item); }) {
  remove_stale_temporaries(dir_);  // .json writes an unclean stop cut short
}

bool KeyframeArchive::submit(std::uint64_t index, Image image, std::string json) {
  if (worker_.submit(Item{index, std::move(image), std::move(json)})) return true;
  std::lock_guard lock(mutex_);
  stats_.last_error = "keyframes arrive faster than the archive writes them";
  if (stats_.failed++ % 100 == 0) spdlog::warn("keyframe archive: {}", stats_.last_error);
  return false;
}

void KeyframeArchive::set_max_bytes(std::uint64_t max_bytes) {
  {
    std::lock_guard lock(mutex_);
    if (max_bytes == max_bytes_) return;
    max_bytes_ = max_bytes;
  }
  // A lowered bound applies now, not at the next keyframe written (generation paused, or every
  // write failing on a full disk). A full queue refuses it: the keyframes queued prune anyway.
  Item prune_now;
  prune_now.prune_only = true;
  worker_.submit(std::move(prune_now));
}

void KeyframeArchive::set_mount(std::string mount) {
  std::lock_guard lock(mutex_);
  mount_ = std::move(mount);
}

ArchiveStats KeyframeArchive::stats() const {
  std::lock_guard lock(mutex_);
  return stats_;
}

bool KeyframeArchive::wait_idle(std::chrono::milliseconds timeout) {
  return worker_.wait_idle(timeout);
}

void KeyframeArchive::write(const Item& item) {
  if (item.prune_only) {
    const Pruned pruned = prune();
    std::lock_guard lock(mutex_);
    stats_.removed += pruned.removed;
    stats_.bytes = pruned.bytes;
    return;
  }
  std::string problem;
  Folder folder{"record.archive_dir", dir_, ""};
  {
    std::lock_guard lock(mutex_);
    folder.mount = mount_;
  }
  if (auto bad = check_writable_dir(folder)) {
    problem = *bad;
  } else {
    const std::string base =
        (fs::path(dir_) / fmt::format("{}{}-{:08}", kPrefix, stamp_, item.index)).string();
    try {
      save_png(item.image, base + ".png");
      write_file_atomic(base + ".json", item.json);
    } catch (const std::exception& e) {
      problem = e.what();
    }
  }
  if (!problem.empty()) {
    // A disk full of our keyframes (the bound lowered, or set above what the disk holds): the
    // oldest still go, which may be what lets the next write through.
    const Pruned pruned = prune();
    std::lock_guard lock(mutex_);
    if (stats_.failed++ % 100 == 0) spdlog::warn("keyframe archive: {}", problem);
    stats_.last_error = problem;
    stats_.removed += pruned.removed;
    stats_.bytes = pruned.bytes;
    return;
  }
  // One update, so that whoever sees the new keyframe counted also sees the bytes it added.
  const Pruned pruned = prune();
  std::lock_guard lock(mutex_);
  ++stats_.written;
  stats_.last_error.clear();  // mended (a disk mounted): status no longer says otherwise
  stats_.removed += pruned.removed;
  stats_.bytes = pruned.bytes;
}

// Keeps the archive under its bound: keyframes (PNG + JSON) are removed oldest first. Earlier
// runs' keyframes go before this run's, oldest file first, and this run's by index: never by the
// run stamp alone, which is wall-clock time and may sort a new run before an old one (a restart in
// the hour repeated when the clocks go back, a clock not yet set at boot), when each new keyframe
// would be the first removed. Only this archive's own files are counted or touched.
KeyframeArchive::Pruned KeyframeArchive::prune() {
  struct Kept {
    std::uint64_t bytes = 0;
    bool this_run = false;
    fs::file_time_type written = fs::file_time_type::max();  // of its oldest file
  };
  std::map<std::string, Kept> keyframes;  // base name -> its files
  const std::string own = kPrefix + stamp_ + "-";
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(dir_, ec)) {
    const fs::path& p = entry.path();
    const std::string ext = p.extension().string();
    if (!p.filename().string().starts_with(kPrefix) || (ext != ".png" && ext != ".json")) continue;
    std::error_code size_ec, time_ec;
    const auto size = entry.file_size(size_ec);
    const auto written = entry.last_write_time(time_ec);
    if (size_ec) continue;
    Kept& k = keyframes[p.stem().string()];
    k.bytes += size;
    k.this_run = p.stem().string().starts_with(own);
    if (!time_ec) k.written = std::min(k.written, written);
  }
  std::vector<std::pair<std::string, Kept>> order(keyframes.begin(), keyframes.end());
  std::stable_sort(order.begin(), order.end(), [](const auto& a, const auto& b) {
    if (a.second.this_run != b.second.this_run) return !a.second.this_run;
    if (a.second.this_run)  // the index, in one run's names: zero-padded to 8 digits, or longer
      return a.first.size() != b.first.size() ? a.first.size() < b.first.size() : a.first < b.first;
    return a.second.written < b.second.written;
  });
  std::uint64_t total = 0;
  for (const auto& [name, k] : order) total += k.bytes;
  std::uint64_t max_bytes;
  {
    std::lock_guard lock(mutex_);
    max_bytes = max_bytes_;
  }
  std::uint64_t removed = 0;
  // The newest keyframe stays whatever the bound.
  for (std::size_t i = 0; total > max_bytes && i + 1 < order.size(); ++i) {
    for (const char* ext : {".png", ".json"})
      fs::remove(fs::path(dir_) / (order[i].first + ext), ec);
    total -= order[i].second.bytes;
    ++removed;
  }
  return {removed, total};
}

}  // namespace dw::record
