#include "core/files.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>

#include "core/error.h"

namespace dw {
namespace {

std::string errno_text() {
  return std::strerror(errno);
}

}  // namespace

std::size_t remove_stale_temporaries(const std::string& dir, std::string_view target,
                                     std::chrono::seconds min_age) {
  namespace fs = std::filesystem;
  constexpr std::size_t kSuffix = 7;  // ".XXXXXX", as mkstemp fills it
  std::error_code ec;
  std::size_t removed = 0;
  const auto now = fs::file_time_type::clock::now();
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    const std::string name = entry.path().filename().string();
    if (name.size() < kSuffix + 2 || name.front() != '.' || name[name.size() - kSuffix] != '.')
      continue;
    const std::string_view suffix = std::string_view(name).substr(name.size() - kSuffix + 1);
    if (!std::all_of(suffix.begin(), suffix.end(),
                     [](char c) { return std::isalnum(static_cast<unsigned char>(c)) != 0; }))
      continue;
    const std::string_view of = std::string_view(name).substr(1, name.size() - kSuffix - 1);
    if (!target.empty() && of != target) continue;
    std::error_code file_ec;
    if (!entry.is_regular_file(file_ec)) continue;
    const auto written = entry.last_write_time(file_ec);
    if (file_ec || now - written < min_age) continue;
    if (fs::remove(entry.path(), file_ec)) ++removed;
  }
  return removed;
}

namespace {

// write_file_atomic and create_file_atomic: a temporary beside `path` (mode `mode`), written,
// synced when durable, then renamed over `path` or, with `replace` false, linked to it (which
// fails where `path` exists: false then). The folder is synced when durable.
bool write_whole(const std::string& path, std::span<const std::uint8_t> bytes,
                 Durability durability, mode_t mode, bool replace) {
  const bool durable = durability == Durability::Durable;
  namespace fs = std::filesystem;
  const fs::path target(path);
  const fs::path dir = target.has_parent_path() ? target.parent_path() : fs::path(".");
  std::error_code ec;
  fs::create_directories(dir, ec);
  std::string tmp = (dir / ("." + target.filename().string() + ".XXXXXX")).string();
  const int fd = mkstemp(tmp.data());
  if (fd < 0)
    throw Error(fmt::format("cannot create a temporary file for '{}': {}", path, errno_text()));
  std::size_t written = 0;
  while (written < bytes.size()) {
    const ssize_t n = ::write(fd, bytes.data() + written, bytes.size() - written);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      const std::string why = errno_text();
      ::close(fd);
      ::unlink(tmp.c_str());
      throw Error(fmt::format("cannot write '{}': {}", path, why));
    }
    written += static_cast<std::size_t>(n);
  }
  fchmod(fd, mode);
  // Closed whatever the flush said: a descriptor left open per failed flush (a volume out of
  // space, a share over its quota) would use up the process's limit, the status file being
  // replaced every second.
  std::string why;
  if (durable && ::fsync(fd) != 0) why = errno_text();
  if (::close(fd) != 0 && why.empty()) why = errno_text();
  if (!why.empty()) {
    ::unlink(tmp.c_str());
    throw Error(fmt::format("cannot flush '{}': {}", path, why));
  }
  if (replace) {
    if (std::rename(tmp.c_str(), path.c_str()) != 0) {
      why = errno_text();
      ::unlink(tmp.c_str());
      throw Error(fmt::format("cannot replace '{}': {}", path, why));
    }
  } else {
    const bool linked = ::link(tmp.c_str(), path.c_str()) == 0;
    const int link_error = errno;
    ::unlink(tmp.c_str());
    if (!linked && link_error == EEXIST) return false;
    if (!linked)
      throw Error(fmt::format("cannot create '{}': {}", path, std::strerror(link_error)));
  }
  if (!durable) return true;
  // Make the rename (or the link) itself durable.
  const int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY);
  if (dfd >= 0) {
    ::fsync(dfd);
    ::close(dfd);
  }
  return true;
}

}  // namespace

void write_file_atomic(const std::string& path, std::span<const std::uint8_t> bytes,
                       Durability durability) {
  write_whole(path, bytes, durability, 0644, true);
}

bool create_file_atomic(const std::string& path, std::string_view text, mode_t mode) {
  return write_whole(path,
                     std::span<const std::uint8_t>(
                         reinterpret_cast<const std::uint8_t*>(text.data()), text.size()),
                     Durability::Durable, mode, false);
}

void write_file_atomic(const std::string& path, std::string_view text, Durability durability) {
  write_file_atomic(path,
                    std::span<const std::uint8_t>(
                        reinterpret_cast<const std::uint8_t*>(text.data()), text.size()),
                    durability);
}

std::vector<std::uint8_t> read_file(const std::string& path, std::size_t max_bytes) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) throw InputError(fmt::format("cannot open '{}': {}", path, errno_text()));
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    throw InputError(fmt::format("'{}' is not a regular file", path));
  }
  if (static_cast<std::size_t>(st.st_size) > max_bytes) {
    ::close(fd);
    throw InputError(
        fmt::format("'{}' is {} bytes, over the limit of {} bytes", path, st.st_size, max_bytes));
  }
  std::vector<std::uint8_t> out(static_cast<std::size_t>(st.st_size));
  std::size_t got = 0;
  while (got < out.size()) {
    const ssize_t n = ::read(fd, out.data() + got, out.size() - got);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {  // the disk's fault, not the file's: said so, not passed off as a short file
      const std::string why = errno_text();
      ::close(fd);
      throw InputError(fmt::format("cannot read '{}': {}", path, why));
    }
    if (n == 0) break;
    got += static_cast<std::size_t>(n);
  }
  ::close(fd);
  out.resize(got);
  return out;
}

std::string xdg_dir(std::string_view kind) {
  const std::string var = fmt::format("XDG_{}_HOME", kind);
  std::string base;
  if (const char* v = std::getenv(var.c_str()); v && *v) {
    base = v;
  } else {
    const char* home = std::getenv("HOME");
    const std::string h = home && *home ? home : "/tmp";
    if (kind == "CACHE")
      base = h + "/.cache";
    else if (kind == "STATE")
      base = h + "/.local/state";
    else
      base = h + "/.config";
  }
  const std::string dir = base + "/dreamwindow";
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  return dir;
}

}  // namespace dw
