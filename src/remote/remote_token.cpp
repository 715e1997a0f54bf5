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
#include "core/files.h"

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

// Written whole or not at all, and never over a token another start made meanwhile: a temporary
// beside it (mode 0600) is written and synced, then linked to the token's name, which fails when
// that name exists. A power cut in the first start left an empty file that no later start could
// use: the remote stayed off for good on a machine nobody was at.
void write_new(const std::string& path, const std::string& token) {
  const std::filesystem::path p(path);
  if (p.has_parent_path()) std::filesystem::create_directories(p.parent_path());
  try {
    if (!create_file_atomic(path, token + "\n", 0600)) return;  // another start made one first
  } catch (const Error& e) {
    throw Error(fmt::format("remote: cannot create the token file {}: {}", path, e.what()));
  }
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
  std::error_code ec;
  if (std::filesystem::is_regular_file(path, ec) && std::filesystem::file_size(path, ec) == 0 &&
      !ec) {
    // What a first write cut short by a power cut left (before tokens were written whole).
    spdlog::warn("remote: the token file {} is empty (a write cut short); a new token is made",
                 path);
    std::filesystem::remove(path, ec);
  }
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
