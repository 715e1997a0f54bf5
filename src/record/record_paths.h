// Where recordings and screenshots go, and the checks made before writing there.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include "core/config_record.h"
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

// A folder written to: recordings, screenshots or the keyframe archive.
struct Folder {
  std::string key;    // the setting that names it ("record.dir"), for messages
  std::string path;   // resolved (resolve_record_dir)
  std::string mount;  // record.mount: "" off, "auto", or a mount point
};
Folder recording_folder(const RecordConfig& config);   // record.dir
Folder screenshot_folder(const RecordConfig& config);  // record.screenshot_dir, else record.dir

// The file system (st_dev) holding `path`; nothing when it does not exist or cannot be asked.
using DeviceOf = std::function<std::optional<std::uint64_t>(const std::string& path)>;
std::optional<std::uint64_t> device_of(const std::string& path);

// Whether `folder` is where record.mount wants it, asked before anything is created there: a
// folder on a disk that is not mounted yet would otherwise be made on the file system under the
// empty mount point (the system disk), hidden once the disk is mounted over it. The nearest
// existing folder on the way to it must be on another file system than the mount point's parent:
// for a path, the folder must be at or below it; for "auto", a folder under /media, /mnt or
// /run/media (where removable disks go) against /, / and /run. Paths are judged where the links
// that exist lead (~/Videos/usb -> /media/usb is under /media). Returns what is wrong ("record.dir
// /media/usb/rec: nothing is mounted at /media/usb (record.mount = auto); waiting for the disk"),
// or nothing (record.mount empty, or a folder elsewhere with "auto").
std::optional<std::string> mount_problem(const Folder& folder, const DeviceOf& device = device_of);

// record.mount's check (mount_problem), then creates the folder if missing and proves it writable
// by creating and removing a file there. Returns what is wrong, starting with the folder's key
// ("record.dir: cannot create folder /x: Not a directory"), or nothing.
std::optional<std::string> check_writable_dir(const Folder& folder);

// Bytes available to an unprivileged writer on the file system holding `dir` (statvfs);
// nothing when it cannot be asked.
std::optional<std::uint64_t> free_bytes(const std::string& dir);

// A name for a new file that does not exist yet: DIR/PREFIX-YYYYmmdd-HHMMSS-NNN[-K]SUFFIX (local
// time, NNN the caller's running number, so the files of one run sort in the order written).
std::string new_file_path(const std::string& dir, const std::string& prefix, std::uint64_t number,
                          const std::string& suffix);

}  // namespace dw::record
