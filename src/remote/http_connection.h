// The connections of an HttpServer (http_server.h), read under limits that httplib 0.11 does not
// set itself. Its own stream bounds each read by a timeout but not a whole request, and a header
// line's length but not their number or a chunked body's size. So a client that trickles one byte
// every two seconds held a serving thread for ever, and one that sent header lines without end,
// or a chunked body, grew the process's memory until it was killed. Here every request must
// arrive within a deadline and within a byte budget (headers plus the largest body allowed),
// counted as httplib reads it. A connection that fails either is closed. A connection that waited
// in a backlog of more than `max_queued` others is closed unread, so a flood of connections frees
// their descriptors once a thread gets to them.
#pragma once

#include <httplib.h>

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>

namespace dw::remote {

struct ConnectionLimits {
  std::chrono::milliseconds idle{1000};               // before each request (keep-alive wait)
  std::chrono::milliseconds read_timeout{3000};       // each read
  std::chrono::milliseconds write_timeout{3000};      // each write
  std::chrono::milliseconds request_deadline{10000};  // a whole request, from its first byte
  std::size_t max_request_bytes = 80 * 1024;          // a whole request: headers and body
  std::size_t max_requests = 100;                     // per connection
  std::size_t max_queued = 64;                        // connections waiting for a thread
  std::function<std::size_t()> queued;                // how many wait now (empty: not known)
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
