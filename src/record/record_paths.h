// Where recordings and screenshots go, and the checks made before writing there.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "core/error.h"

namespace dw::record {

// Recording cannot go on for a reason of the folder or the disk (not writable, below
// record.min_free_mb, a write refused): one that may mend by itself (space freed, a disk
// mounted), so the app starts recording again once the folder takes it.
class DiskError : public Error {
 public:
  using Error::Error;
};

// The configured folder (a leading ~ is the home folder), or when empty
// $XDG_VIDEOS_DIR/dreamwindow, else ~/Videos/dreamwindow.
std::string resolve_record_dir(const std::string& configured);

// Creates `dir` if missing and proves it writable by creating and removing a file there. Returns
// what is wrong ("recording folder /x: Not a directory"), or nothing.
std::optional<std::string> check_writable_dir(const std::string& dir);

// Bytes available to an unprivileged writer on the file system holding `dir` (statvfs);
// nothing when it cannot be asked.
std::optional<std::uint64_t> free_bytes(const std::string& dir);

// A name for a new file that does not exist yet: DIR/PREFIX-YYYYmmdd-HHMMSS-NNN[-K]SUFFIX (local
// time, NNN the caller's running number, so the files of one run sort in the order written).
std::string new_file_path(const std::string& dir, const std::string& prefix, std::uint64_t number,
                          const std::string& suffix);

}  // namespace dw::record
