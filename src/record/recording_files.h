// The recorder's own files in a folder, for keeping them under record.max_total_mb and the disk
// above record.min_free_mb: only names the recorder gives (dreamwindow-YYYYmmdd-HHMMSS-NNN[-K].mp4)
// are counted or removed; screenshots, keyframes and anyone else's files beside them never are.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

namespace dw::record {

// Whether a file name (no folder) is one the recorder gives its videos.
bool is_own_recording(const std::string& filename);

struct RecordingFile {
  std::string path;
  std::uint64_t bytes = 0;
  std::filesystem::file_time_type written{};
};

// The recorder's files in `dir`, oldest first (last written, then by name); none when the folder
// cannot be read.
std::vector<RecordingFile> own_recordings(const std::string& dir);

struct Removed {
  std::uint64_t files = 0;
  std::uint64_t bytes = 0;
};

// Removes the recorder's oldest files in `dir`, never `keep` (the file being written), one at a
// time while `too_much(bytes of ours left)` holds. Each removal is logged with `why`.
Removed remove_oldest_recordings(const std::string& dir, const std::string& keep,
                                 const std::function<bool(std::uint64_t)>& too_much,
                                 const std::string& why);

}  // namespace dw::record
