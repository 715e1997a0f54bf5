// A folder of images read again and again (source.folder): what is in it now, decoded and
// cover-resized to the keyframe size, in name order. A scan lists the folder and decodes only the
// files that are new or changed (name, modification time and size), so a folder re-read every few
// seconds costs a directory listing. Files whose extension is .png, .jpg or .jpeg (any case) are
// images; names starting with '.' (hidden files, a copy in progress, macOS "._" companions on a
// USB disk) are left out. A file that is no readable image is warned about once, and again only
// when it changes. A folder that is gone or cannot be read keeps what it had: problem() says why.
// Watched (settle_for), a file written to within the settle time is left for a later scan: a
// picture still being copied in is not shown half-written, nor warned about as unreadable.
// With a read budget (read_for), a scan decodes new or changed files for at most that long (one
// at least) and leaves the rest to later scans: a folder of thousands of camera pictures (about
// 0.1 s each for 12 megapixels here) is shown as it is read, not after minutes of reading while
// the screen is empty and systemd's start timeout runs out.
// With subfolders (read_subfolders), images in the folder's subfolders are shown too, named by
// their path below it ("DCIM/100CANON/IMG_0001.JPG", the order keyframes follow), down to
// kMaxFolderDepth levels; hidden folders, a Windows recycle bin and system folders are left out,
// and links to folders are not followed.
// With a memory budget (hold_up_to), decoded images are held up to that many bytes (one at
// least); the others are checked when scanned (decoded, then let go) and read again from their
// files when shown (load): a folder of thousands never holds gigabytes of pixels.
// Not thread-safe: one owner calls scan() (load() may be called from any thread).
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "core/image.h"

namespace dw::pipeline {

// A folder's pictures may come straight from a camera (a 61-megapixel JPEG is 9504 x 6336, a
// 100-megapixel one 11648 x 8736): up to 16384 pixels a side, 120 megapixels (about 1 GB while
// one is decoded) and 128 MB a file. Larger ones are skipped with a warning that says so.
inline constexpr ImageLimits kFolderImageLimits{128u << 20, 16384, 16384, 120'000'000};

// Levels of folders read with subfolders on: source.folder itself and 7 below it.
inline constexpr int kMaxFolderDepth = 8;

struct FolderImage {
  std::string name;  // the file name, or path below the folder (the order keyframes follow)
  // At keyframe size (shared: a rescan copies no pixels); null: over the memory budget, read from
  // its file when shown (ImageFolder::load).
  std::shared_ptr<const Image> image;
};

// What status shows of source.folder (status.json "folder", /metrics, the web page's problems).
// Built with designated initializers, so that a field added here takes no other field's value.
struct FolderStatus {
  std::string path;              // source.folder; "" when not set (the shipped seeds)
  std::string problem;           // "" while it is read; else why not, and what is shown instead
  std::uint64_t images = 0;      // images in use from it
  std::uint64_t unreadable = 0;  // image files in it that could not be read (skipped)
  std::uint64_t unread = 0;      // image files in it not read yet (a large folder, read in turns)
  std::uint64_t on_disk = 0;  // images in use not held in memory (over the budget): read when shown
  bool watched = false;       // read again while running (source.kind = folder)
};

class ImageFolder {
 public:
  ImageFolder(std::filesystem::path dir, int width, int height);

  // Reads the folder; true when its images changed (added, removed, replaced) since the last scan.
  bool scan();
  // The readable images, in name order: empty while the folder has none (or was never read).
  // Those over the memory budget have no image: load() reads them.
  const std::vector<FolderImage>& images() const { return images_; }
  // Reads image `name` of the folder again, at keyframe size. Throws dw::Error naming the file
  // (gone with its disk, replaced by something unreadable). Thread-safe.
  std::shared_ptr<const Image> load(const std::string& name) const;
  // "" after a scan that read the folder and found images; else "no such folder", "not a
  // folder", "cannot read it: <why>", "its images are still being written", "its images are
  // still being read" or "no readable image in it".
  const std::string& problem() const { return problem_; }
  std::uint64_t unreadable() const;
  // From now on a file last written less than `settle` ago waits for a later scan (a modification
  // time in the future, a clock apart from ours, does not hold it back). 0, the default: every
  // file is read as it is (a folder read once at start).
  void settle_for(std::chrono::milliseconds settle) { settle_ = settle; }
  // Image files the last scan left for later because they were still being written.
  std::uint64_t settling() const { return settling_; }
  // From now on a scan decodes new or changed files for at most `budget` (at least one file a
  // scan); the others wait for a later scan (a changed one keeps its old picture meanwhile).
  // 0, the default: no limit.
  void read_for(std::chrono::milliseconds budget) { read_budget_ = budget; }
  // Image files the last scan left for later because its read budget was spent.
  std::uint64_t unread() const { return unread_; }
  // From now on decoded images are held up to `bytes` in all (at least one image, whatever the
  // budget); a new or changed image beyond it is checked and let go, and listed without pixels.
  // Images held stay held while their files are unchanged. 0, the default: no limit.
  void hold_up_to(std::uint64_t bytes) { hold_budget_ = bytes; }
  // Readable images not held in memory (over the budget).
  std::uint64_t on_disk() const;
  // From now on a scan also lists the images in the folder's subfolders. Off, the default: only
  // the folder's own files.
  void read_subfolders(bool on) { subfolders_ = on; }
  // How long the last scan took to list the folder (a tree of tens of thousands of files, or a
  // slow network share: a listing costs a stat per file).
  std::chrono::milliseconds listing_time() const { return listing_time_; }
  const std::filesystem::path& dir() const { return dir_; }

 private:
  struct Entry {
    std::filesystem::file_time_type mtime;
    std::uintmax_t size = 0;
    std::shared_ptr<const Image> image;  // null: over the memory budget, or not readable
    bool readable = false;               // decoded once (held or not); else warned once
  };
  // Lists the image files; false (problem_ set) when the folder cannot be read.
  bool list(std::map<std::string, Entry>& found);

  std::filesystem::path dir_;
  int width_;
  int height_;
  std::map<std::string, Entry> entries_;  // by file name: what the last scan read
  std::vector<FolderImage> images_;
  std::string problem_ = "not read yet";
  std::chrono::milliseconds settle_{0};
  std::uint64_t settling_ = 0;
  std::chrono::milliseconds read_budget_{0};
  std::uint64_t unread_ = 0;
  std::uint64_t hold_budget_ = 0;
  bool subfolders_ = false;
  std::chrono::milliseconds listing_time_{0};
};

}  // namespace dw::pipeline
