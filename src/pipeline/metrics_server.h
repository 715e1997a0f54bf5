// The Prometheus text format at GET /metrics on 127.0.0.1:status.metrics_port, on the same HTTP
// server as the web remote (remote/http_server.h: cpp-httplib, a bounded pool of threads that
// serves the newest connection first, idle connections closed after a second, read and write
// timeouts), so idle or slow clients never hold up a scrape for long. The web remote serves the
// same text at its own /metrics; this endpoint is for a scraper that wants a port of its own.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

namespace dw::remote {
class HttpServer;
}

namespace dw::pipeline {

class MetricsServer {
 public:
  static constexpr std::size_t kThreads = 8;  // scrapes served at once

  // `render` produces the exposition text on each scrape (called on a server thread).
  // port 0 picks a free port (see port()). A port in use (a previous instance still ending) is
  // tried again until it is free (remote/http_server.h); the log says where it serves once it
  // does. Throws dw::Error when the port cannot be bound and waiting cannot mend it.
  MetricsServer(std::uint16_t port, std::function<std::string()> render);
  ~MetricsServer();
  MetricsServer(const MetricsServer&) = delete;
  MetricsServer& operator=(const MetricsServer&) = delete;

  std::uint16_t port() const;
  std::uint64_t requests_served() const { return served_.load(); }

 private:
  std::function<std::string()> render_;
  std::atomic<std::uint64_t> served_{0};
  std::unique_ptr<remote::HttpServer> server_;
};

}  // namespace dw::pipeline
