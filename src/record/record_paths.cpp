#include "record/record_paths.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/statvfs.h>
#include <unistd.h>

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

std::optional<std::string> check_writable_dir(const std::string& dir) {
  if (dir.empty()) return "the folder name is empty";
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) return fmt::format("cannot create folder {}: {}", dir, ec.message());
  if (!fs::is_directory(dir, ec)) return fmt::format("{} is not a folder", dir);
  const std::string probe = (fs::path(dir) / ".dreamwindow-write-test").string();
  const int fd = ::open(probe.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return fmt::format("cannot write in folder {}: {}", dir, std::strerror(errno));
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
