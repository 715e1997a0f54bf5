// Helpers every test may use: waiting for an event with a deadline (never a bare sleep), paths to
// the source tree, fixtures and the shared real weights, and scratch directories.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>

namespace dw::test {

// Polls `ready` until it holds or `timeout` passes; true when it held. The poll interval is short
// and the deadline is what bounds the test, so a slow machine only makes it slower, not flaky.
bool wait_until(const std::function<bool()>& ready,
                std::chrono::milliseconds timeout = std::chrono::seconds(10));

// The source tree (from DW_SOURCE_DIR, set by CTest).
std::filesystem::path source_dir();
// ../shared/models beside the checkout, or empty when absent (tests then GTEST_SKIP with a reason).
std::filesystem::path shared_models_dir();
// A TCP connection to 127.0.0.1:`port` (a blocking socket the caller closes), or -1.
int connect_loopback(std::uint16_t port);
// A fresh empty directory under the system temp dir, removed when the object dies.
class ScratchDir {
 public:
  ScratchDir();
  ~ScratchDir();
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;
  const std::filesystem::path& path() const { return path_; }
  std::string operator/(const std::string& name) const { return (path_ / name).string(); }

 private:
  std::filesystem::path path_;
};

}  // namespace dw::test
