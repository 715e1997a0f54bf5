// One HTTP server on cpp-httplib with the limits every endpoint here shares (the web remote's API,
// the Prometheus endpoint): a bounded pool of threads serves the newest connection first (an idle
// connection that has waited longest is the least likely to be a person), idle keep-alive
// connections are closed after a second, reads and writes time out, and every request must arrive
// whole within a deadline and a byte budget (headers and the largest body allowed; a chunked body
// too), or its connection is closed (http_connection.h).
// The socket is bound in the constructor (a taken port is a clear error at once); start() serves,
// and binds and serves again should the accept loop end by itself.
#pragma once

#include <httplib.h>

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <stop_token>
#include <string>
#include <thread>

#include "remote/http_connection.h"

namespace dw::remote {

struct HttpLimits {
  std::size_t threads = 8;                 // connections served at once
  std::chrono::seconds idle{1};            // a kept-alive connection waits this long for more
  std::chrono::seconds read_timeout{3};    // each read of a request
  std::chrono::seconds write_timeout{3};   // each write of an answer
  std::size_t max_body_bytes = 64 * 1024;  // larger bodies are refused with 413
  std::size_t max_requests_per_connection = 100;
  std::chrono::seconds request_deadline{10};  // a whole request, from its first byte
  std::size_t max_header_bytes = 16 * 1024;   // all of a request's header lines together
  std::size_t max_queued = 64;                // connections waiting beyond this are shed unread
};

class HttpServer {
 public:
  // Binds `address`:`port` (port 0: a free one, see port()). Throws dw::Error naming the address,
  // the port and why when it cannot.
  HttpServer(const std::string& address, std::uint16_t port, HttpLimits limits);
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Register handlers here before start().
  httplib::Server& routes() { return *server_; }
  // Serves on a thread of its own until stop() (or destruction).
  void start();
  // Stops accepting, ends the connections in progress and joins every thread; idempotent.
  void stop();

  std::uint16_t port() const { return port_; }
  const std::string& address() const { return address_; }
  const HttpLimits& limits() const { return limits_; }
  // Connections closed for a limit (deadline, size, or shed from a flood).
  std::uint64_t refused() const { return server_->refused(); }
  // Whether connections are accepted now; false between an accept loop that ended by itself and
  // the socket bound again (see serve), and after stop().
  bool listening() const { return listening_.load(); }
  // How often the accept loop ended by itself and was started again.
  std::uint64_t relistens() const { return relistens_.load(); }

 private:
  void serve(std::stop_token stop);

  std::unique_ptr<GuardedServer> server_;
  std::string address_;
  std::uint16_t port_ = 0;
  HttpLimits limits_;
  std::jthread thread_;
  std::atomic<bool> serving_ended_{false};
  std::atomic<bool> listening_{false};
  std::atomic<std::uint64_t> relistens_{0};
  bool stopped_ = false;  // stop() and start() are called from the owner's thread only
};

}  // namespace dw::remote
