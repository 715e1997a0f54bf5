// A minimal HTTP endpoint on 127.0.0.1 that serves the Prometheus text format at GET /metrics.
// One thread; each request is read with a size cap and a deadline, so a slow or hostile client
// cannot hold it; it stops within one poll interval of its stop request.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <string>
#include <thread>

namespace dw::pipeline {

class MetricsServer {
 public:
  // `render` produces the exposition text on each scrape (called on the server thread).
  // port 0 picks a free port (see port()). Throws dw::Error when the port cannot be bound.
  MetricsServer(std::uint16_t port, std::function<std::string()> render);
  ~MetricsServer();
  MetricsServer(const MetricsServer&) = delete;
  MetricsServer& operator=(const MetricsServer&) = delete;

  std::uint16_t port() const { return port_; }
  std::uint64_t requests_served() const { return served_.load(); }

 private:
  void run(std::stop_token stop);
  void serve_one(int client);

  int listen_fd_ = -1;
  std::uint16_t port_ = 0;
  std::function<std::string()> render_;
  std::atomic<std::uint64_t> served_{0};
  std::jthread thread_;
};

}  // namespace dw::pipeline
