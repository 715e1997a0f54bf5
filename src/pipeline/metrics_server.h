// A minimal HTTP endpoint on 127.0.0.1 that serves the Prometheus text format at GET /metrics.
// One thread polls the listening socket and every open connection together (non-blocking), so
// idle or slow clients never delay another one's scrape; each request is read with a size cap
// and a deadline, at most kMaxConnections are open (a new one closes the oldest), and it stops
// within one poll interval of its stop request.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <thread>
#include <vector>

namespace dw::pipeline {

class MetricsServer {
 public:
  static constexpr std::size_t kMaxConnections = 64;

  // `render` produces the exposition text on each scrape (called on the server thread).
  // port 0 picks a free port (see port()). Throws dw::Error when the port cannot be bound.
  MetricsServer(std::uint16_t port, std::function<std::string()> render);
  ~MetricsServer();
  MetricsServer(const MetricsServer&) = delete;
  MetricsServer& operator=(const MetricsServer&) = delete;

  std::uint16_t port() const { return port_; }
  std::uint64_t requests_served() const { return served_.load(); }

 private:
  struct Connection {
    int fd;
    std::string request;
    std::chrono::steady_clock::time_point deadline;
  };

  void run(std::stop_token stop);
  void accept_new(std::vector<Connection>& open);
  // Reads what arrived; true when the connection is done (answered, closed or broken).
  bool read_from(Connection& c);
  void answer(const Connection& c);

  int listen_fd_ = -1;
  std::uint16_t port_ = 0;
  std::function<std::string()> render_;
  std::atomic<std::uint64_t> served_{0};
  std::jthread thread_;
};

}  // namespace dw::pipeline
