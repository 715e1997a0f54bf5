// The connections of an HttpServer (http_server.h), read under limits that httplib 0.11 does not
// set itself. Its own stream bounds each read by a timeout but not a whole request, and a header
// line's length but not their number or a chunked body's size. So a client that trickles one byte
// every two seconds held a serving thread for ever, and one that sent header lines without end,
// or a chunked body, grew the process's memory until it was killed. Here every request must
// arrive within a deadline and within a byte budget (headers plus the largest body allowed),
// counted as httplib reads it. A connection that fails either is closed. A connection handled
// while a ShedConnections lives on the thread is closed unread (the server's pool sheds its
// oldest waiting connections so, when a flood makes the backlog too long).
#pragma once

#include <httplib.h>

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>

namespace dw::remote {

struct ConnectionLimits {
  std::chrono::milliseconds idle{1000};               // before each request (keep-alive wait)
  std::chrono::milliseconds read_timeout{3000};       // each read
  std::chrono::milliseconds write_timeout{3000};      // each write
  std::chrono::milliseconds request_deadline{10000};  // a whole request, from its first byte
  std::size_t max_request_bytes = 80 * 1024;          // a whole request: headers and body
  std::size_t max_requests = 100;                     // per connection
};

// While one lives on a thread, the connections GuardedServer handles there are closed unread.
class ShedConnections {
 public:
  ShedConnections();
  ~ShedConnections();
  ShedConnections(const ShedConnections&) = delete;
  ShedConnections& operator=(const ShedConnections&) = delete;
  static bool active();
};

class GuardedServer final : public httplib::Server {
 public:
  explicit GuardedServer(ConnectionLimits limits) : limits_(std::move(limits)) {}
  // Connections closed for a limit: a request over its deadline or its bytes, or shed unread.
  std::uint64_t refused() const { return refused_.load(std::memory_order_relaxed); }

 private:
  // httplib calls this (on a pool thread) for each accepted connection.
  bool process_and_close_socket(socket_t sock) override;

  ConnectionLimits limits_;
  std::atomic<std::uint64_t> refused_{0};
};

}  // namespace dw::remote
