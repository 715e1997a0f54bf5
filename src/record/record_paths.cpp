#include "record/record_paths.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <system_error>

#include "core/local_time.h"

namespace dw::record {
namespace fs = std::filesystem;

std::string resolve_record_dir(const std::string& configured) {
  const char* home = std::getenv("HOME");
  const std::string home_dir = home && *home ? home : "/tmp";
  if (!configured.empty()) {
    if (configured == "~") return home_dir;
    if (configured.rfind("~/", 0) == 0) return home_dir + configured.substr(1);
    return configured;
  }
  if (const char* videos = std::getenv("XDG_VIDEOS_DIR"); videos && *videos)
    return (fs::path(videos) / "dreamwindow").string();
  return (fs::path(home_dir) / "Videos" / "dreamwindow").string();
}

Folder recording_folder(const RecordConfig& config) {
  return {"record.dir", resolve_record_dir(config.dir), config.mount};
}

Folder screenshot_folder(const RecordConfig& config) {
  if (config.screenshot_dir.empty()) return recording_folder(config);
  return {"record.screenshot_dir", resolve_record_dir(config.screenshot_dir), config.mount};
}

std::optional<std::uint64_t> device_of(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return std::nullopt;
  return static_cast<std::uint64_t>(st.st_dev);
}

namespace {

// Absolute, without "." or ".." or a trailing "/".
fs::path clean(const std::string& path) {
  std::error_code ec;
  fs::path p = fs::path(path).is_absolute() ? fs::path(path) : fs::current_path(ec) / path;
  // Through the links that exist: ~/Videos/usb -> /media/usb is judged where it leads.
  if (fs::path resolved = fs::weakly_canonical(p, ec); !ec) p = std::move(resolved);
  p = p.lexically_normal();
  if (p.has_relative_path() && !p.has_filename()) p = p.parent_path();
  return p;
}

// Whether `p` is `base` or below it (whole names: /media/usb2 is not below /media/usb).
bool at_or_below(const fs::path& p, const fs::path& base) {
  auto q = p.begin();
  for (auto b = base.begin(); b != base.end(); ++b, ++q)
    if (q == p.end() || *q != *b) return false;
  return true;
}

struct Existing {
  fs::path path;
  std::uint64_t device = 0;
};

// The nearest folder on the way to `p` (itself included) that exists.
std::optional<Existing> nearest_existing(fs::path p, const DeviceOf& device) {
  for (;;) {
    if (const auto dev = device(p.string())) return Existing{p, *dev};
    if (p == p.parent_path()) return std::nullopt;
    p = p.parent_path();
  }
}

}  // namespace

std::optional<std::string> mount_problem(const Folder& folder, const DeviceOf& device) {
  if (folder.mount.empty()) return std::nullopt;
  const fs::path dir = clean(folder.path);
  fs::path mount_point;
  if (folder.mount == "auto") {
    constexpr std::array<const char*, 3> kRemovable{"/run/media", "/media", "/mnt"};
    for (const char* base : kRemovable)
      if (at_or_below(dir, base)) {
        mount_point = base;
        break;
      }
    if (mount_point.empty()) return std::nullopt;  // not where removable disks go
  } else {
    mount_point = clean(folder.mount);
    if (mount_point == mount_point.parent_path()) return std::nullopt;  // "/": always mounted
    if (!at_or_below(dir, mount_point))
      return fmt::format("{} {} is not on the disk of record.mount ({}): it must be at or below it",
                         folder.key, folder.path, folder.mount);
  }
  const auto there = nearest_existing(dir, device);
  const auto under = device(mount_point.parent_path().string());
  if (there && under && there->device != *under) return std::nullopt;
  // With "auto" the disk's own folder names it: /media/usb for /media/usb/rec.
  fs::path name = mount_point;
  if (folder.mount == "auto" && dir != mount_point)
    name /= *dir.lexically_relative(mount_point).begin();
  return fmt::format("{} {}: nothing is mounted at {} (record.mount = {}); waiting for the disk",
                     folder.key, folder.path, name.string(), folder.mount);
}

std::optional<std::string> check_writable_dir(const Folder& folder) {
  const std::string& dir = folder.path;
  if (dir.empty()) return fmt::format("{}: the folder name is empty", folder.key);
  if (auto problem = mount_problem(folder)) return problem;
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) return fmt::format("{}: cannot create folder {}: {}", folder.key, dir, ec.message());
  if (!fs::is_directory(dir, ec)) return fmt::format("{}: {} is not a folder", folder.key, dir);
  const std::string probe = (fs::path(dir) / ".dreamwindow-write-test").string();
  const int fd = ::open(probe.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0)
    return fmt::format("{}: cannot write in folder {}: {}", folder.key, dir, std::strerror(errno));
  ::close(fd);
  ::unlink(probe.c_str());
  return std::nullopt;
}

std::optional<std::uint64_t> free_bytes(const std::string& dir) {
  struct statvfs st {};
  if (::statvfs(dir.c_str(), &st) != 0) return std::nullopt;
  return static_cast<std::uint64_t>(st.f_bavail) * st.f_frsize;
}

std::string new_file_path(const std::string& dir, const std::string& prefix, std::uint64_t number,
                          const std::string& suffix) {
  const std::tm local = local_calendar_time(std::time(nullptr));
  char stamp[32];
  std::strftime(stamp, sizeof stamp, "%Y%m%d-%H%M%S", &local);
  const fs::path base = fs::path(dir) / fmt::format("{}-{}-{:03}", prefix, stamp, number);
  std::string path = base.string() + suffix;
  std::error_code ec;
  for (int n = 2; fs::exists(path, ec); ++n)
    path = fmt::format("{}-{}{}", base.string(), n, suffix);
  return path;
}

}  // namespace dw::record
