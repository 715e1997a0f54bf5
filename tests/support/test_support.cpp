#include "support/test_support.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdlib>
#include <random>
#include <thread>

namespace dw::test {

bool wait_until(const std::function<bool()>& ready, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (true) {
    if (ready()) return true;
    if (std::chrono::steady_clock::now() >= deadline) return ready();
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
}

std::filesystem::path source_dir() {
  if (const char* s = std::getenv("DW_SOURCE_DIR"); s && *s) return s;
  return std::filesystem::path(__FILE__).parent_path().parent_path().parent_path();
}

std::filesystem::path shared_models_dir() {
  std::filesystem::path p;
  if (const char* s = std::getenv("DW_SHARED_MODELS"); s && *s)
    p = s;
  else
    p = source_dir() / ".." / "shared" / "models";
  std::error_code ec;
  return std::filesystem::is_directory(p, ec) ? std::filesystem::canonical(p, ec)
                                              : std::filesystem::path();
}

ScratchDir::ScratchDir() {
  std::random_device rd;
  path_ = std::filesystem::temp_directory_path() /
          ("dreamwindow-test-" + std::to_string(rd()) + "-" + std::to_string(rd()));
  std::filesystem::create_directories(path_);
}

ScratchDir::~ScratchDir() {
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

int connect_loopback(std::uint16_t port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return -1;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(port);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

}  // namespace dw::test
