#include "remote/remote_token.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "core/error.h"

namespace dw::remote {
namespace {

std::string random_hex(std::size_t bytes) {
  std::ifstream urandom("/dev/urandom", std::ios::binary);
  std::string raw(bytes, '\0');
  if (!urandom.read(raw.data(), static_cast<std::streamsize>(bytes)))
    throw Error("remote: cannot read /dev/urandom for the token");
  std::string hex;
  for (unsigned char c : raw) hex += fmt::format("{:02x}", c);
  return hex;
}

void write_new(const std::string& path, const std::string& token) {
  const std::filesystem::path p(path);
  if (p.has_parent_path()) std::filesystem::create_directories(p.parent_path());
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0)
    throw Error(
        fmt::format("remote: cannot create the token file {}: {}", path, std::strerror(errno)));
  const std::string line = token + "\n";
  const bool ok = ::write(fd, line.data(), line.size()) == static_cast<ssize_t>(line.size());
  ::close(fd);
  if (!ok) throw Error(fmt::format("remote: cannot write the token file {}", path));
  spdlog::info("remote: made a new token in {} (mode 0600)", path);
}

std::string read_token(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) == 0 && (st.st_mode & 077) != 0) {
    ::chmod(path.c_str(), 0600);  // a token others can read protects nothing
    spdlog::warn("remote: {} was readable by others; its mode is now 0600", path);
  }
  std::ifstream in(path);
  std::string token;
  if (!in || !std::getline(in, token))
    throw Error(fmt::format("remote: cannot read the token file {}", path));
  while (!token.empty() && (token.back() == '\r' || token.back() == ' ')) token.pop_back();
  const bool usable = token.size() >= 16 && token.size() <= 256 &&
                      std::all_of(token.begin(), token.end(), [](char c) {
                        return std::isalnum(static_cast<unsigned char>(c)) || c == '-' ||
                               c == '_' || c == '.' || c == '~';
                      });
  if (!usable)
    throw Error(
        fmt::format("remote: the token file {} holds no usable token (16 to 256 letters, "
                    "digits, '-', '_', '.', '~'); delete it to make a new one",
                    path));
  return token;
}

}  // namespace

std::string load_or_create_token(const std::string& path) {
  if (!std::filesystem::exists(path)) {
    try {
      write_new(path, random_hex(32));
    } catch (const std::filesystem::filesystem_error& e) {
      throw Error(fmt::format("remote: cannot create the token file {}: {}", path, e.what()));
    }
  }
  return read_token(path);
}

bool loopback_address(std::string_view address) {
  if (address == "localhost" || address == "::1") return true;
  if (!address.starts_with("127.")) return false;
  return std::all_of(address.begin(), address.end(),
                     [](char c) { return c == '.' || (c >= '0' && c <= '9'); });
}

}  // namespace dw::remote
