#include "record/recording_files.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cctype>
#include <string_view>
#include <system_error>

namespace dw::record {
namespace fs = std::filesystem;
namespace {

// Consumes `n` digits (n == 0: one or more) from the front of `s`.
bool eat_digits(std::string_view& s, std::size_t n) {
  std::size_t i = 0;
  while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i])) && (n == 0 || i < n)) ++i;
  if (i == 0 || (n != 0 && i != n)) return false;
  s.remove_prefix(i);
  return true;
}

bool eat(std::string_view& s, std::string_view text) {
  if (!s.starts_with(text)) return false;
  s.remove_prefix(text.size());
  return true;
}

}  // namespace

// new_file_path(dir, "dreamwindow", number, ".mp4"): the stamp, a number of three digits or more,
// and a "-K" where a name was taken.
bool is_own_recording(const std::string& filename) {
  std::string_view s = filename;
  if (!eat(s, "dreamwindow-") || !eat_digits(s, 8) || !eat(s, "-") || !eat_digits(s, 6) ||
      !eat(s, "-"))
    return false;
  const std::size_t before = s.size();
  if (!eat_digits(s, 0) || before - s.size() < 3) return false;
  if (eat(s, "-") && !eat_digits(s, 0)) return false;
  return s == ".mp4";
}

std::vector<RecordingFile> own_recordings(const std::string& dir) {
  std::vector<RecordingFile> files;
  std::error_code ec;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    const fs::directory_entry& entry = *it;
    std::error_code kind_ec, size_ec, time_ec;
    if (!entry.is_regular_file(kind_ec) || !is_own_recording(entry.path().filename().string()))
      continue;
    const auto size = entry.file_size(size_ec);
    const auto written = entry.last_write_time(time_ec);
    if (size_ec || time_ec) continue;
    files.push_back({entry.path().string(), static_cast<std::uint64_t>(size), written});
  }
  std::sort(files.begin(), files.end(), [](const RecordingFile& a, const RecordingFile& b) {
    return a.written != b.written ? a.written < b.written : a.path < b.path;
  });
  return files;
}

Removed remove_oldest_recordings(const std::string& dir, const std::string& keep,
                                 const std::function<bool(std::uint64_t)>& too_much,
                                 const std::string& why) {
  std::vector<RecordingFile> files = own_recordings(dir);
  std::erase_if(files, [&](const RecordingFile& f) { return !keep.empty() && f.path == keep; });
  std::uint64_t left = 0;
  for (const RecordingFile& f : files) left += f.bytes;
  Removed removed;
  for (const RecordingFile& f : files) {
    if (!too_much(left)) break;
    std::error_code ec;
    const bool gone = fs::remove(f.path, ec);
    if (ec) {
      spdlog::warn("recording: cannot remove {} ({}): {}", f.path, why, ec.message());
      continue;
    }
    left -= f.bytes;
    if (!gone) continue;  // removed by someone else meanwhile
    ++removed.files;
    removed.bytes += f.bytes;
    spdlog::info("recording: removed the oldest recording {} ({:.1f} MB) {}", f.path, f.bytes / 1e6,
                 why);
  }
  return removed;
}

}  // namespace dw::record
