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
#include "record/record_paths.h"

namespace dw::record {
namespace fs = std::filesystem;
namespace {

constexpr const char* kPrefix = "keyframe-";

std::string run_stamp() {
  const std::time_t now = std::time(nullptr);
  std::tm local{};
  localtime_r(&now, &local);
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
      worker_(queue_keyframes, [this](Item& item) { write(item); }) {}

bool KeyframeArchive::submit(std::uint64_t index, Image image, std::string json) {
  if (worker_.submit(Item{index, std::move(image), std::move(json)})) return true;
  std::lock_guard lock(mutex_);
  ++stats_.failed;
  stats_.last_error = "keyframes arrive faster than the archive writes them";
  return false;
}

void KeyframeArchive::set_max_bytes(std::uint64_t max_bytes) {
  std::lock_guard lock(mutex_);
  max_bytes_ = max_bytes;
}

ArchiveStats KeyframeArchive::stats() const {
  std::lock_guard lock(mutex_);
  return stats_;
}

bool KeyframeArchive::wait_idle(std::chrono::milliseconds timeout) {
  return worker_.wait_idle(timeout);
}

void KeyframeArchive::write(const Item& item) {
  std::string problem;
  if (auto bad = check_writable_dir(dir_)) {
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
    std::lock_guard lock(mutex_);
    if (stats_.failed++ % 100 == 0) spdlog::warn("keyframe archive: {}", problem);
    stats_.last_error = problem;
    return;
  }
  {
    std::lock_guard lock(mutex_);
    ++stats_.written;
  }
  prune();
}

// Keeps the archive under its bound: keyframes (PNG + JSON, by name: runs, then index) are
// removed oldest first. Only this archive's own files are counted or touched.
void KeyframeArchive::prune() {
  std::map<std::string, std::uint64_t> keyframes;  // base name -> bytes of its files
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(dir_, ec)) {
    const fs::path& p = entry.path();
    const std::string ext = p.extension().string();
    if (!p.filename().string().starts_with(kPrefix) || (ext != ".png" && ext != ".json")) continue;
    std::error_code size_ec;
    const auto size = entry.file_size(size_ec);
    if (!size_ec) keyframes[p.stem().string()] += size;
  }
  std::uint64_t total = 0;
  for (const auto& [name, bytes] : keyframes) total += bytes;
  std::uint64_t max_bytes;
  {
    std::lock_guard lock(mutex_);
    max_bytes = max_bytes_;
  }
  std::uint64_t removed = 0;
  for (auto it = keyframes.begin(); total > max_bytes && std::next(it) != keyframes.end(); ++it) {
    for (const char* ext : {".png", ".json"}) fs::remove(fs::path(dir_) / (it->first + ext), ec);
    total -= it->second;
    ++removed;
  }
  std::lock_guard lock(mutex_);
  stats_.removed += removed;
  stats_.bytes = total;
}

}  // namespace dw::record
