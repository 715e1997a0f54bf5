// Starts tests/comfy/fake_comfy.py (the fake ComfyUI server) on a free loopback port and waits,
// with a deadline, until it answers /system_stats. The process is ended when the object dies.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>

namespace dw::test {

class FakeComfy {
 public:
  explicit FakeComfy(std::chrono::milliseconds ready_within = std::chrono::seconds(20));
  ~FakeComfy();
  FakeComfy(const FakeComfy&) = delete;
  FakeComfy& operator=(const FakeComfy&) = delete;

  const std::string& url() const { return url_; }
  std::uint16_t port() const { return port_; }
  // POST /_control/fault with {"kind": kind, "count": count, "seconds": seconds}.
  void fault(const std::string& kind, int count = 1, double seconds = 0.0);
  // Another client's job keeps the server busy for `seconds`: queued, and running when this
  // returns (throws when it was refused or never started within 10 s). Later prompts take no
  // longer than before.
  void busy_with_another_client(double seconds);
  // GET /_control/stats (counters, files held in input/ output/ temp/).
  nlohmann::json stats();
  // Stops and resumes the server's process (SIGSTOP / SIGCONT): a ComfyUI that does not run
  // (swapping, its event loop blocked) while the kernel still accepts its connections.
  void freeze();
  void thaw();
  // Waits until the server answers /system_stats again (after a restart fault).
  bool wait_ready(std::chrono::milliseconds within);

 private:
  pid_t pid_ = -1;
  std::uint16_t port_ = 0;
  std::string url_;
};

}  // namespace dw::test
