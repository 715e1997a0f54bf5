// One HTTP server on cpp-httplib with the limits every endpoint here shares (the web remote's API,
// the Prometheus endpoint): a bounded pool of threads serves the newest connection first (an idle
// connection that has waited longest is the least likely to be a person), idle keep-alive
// connections are closed after a second, reads and writes time out, and every request must arrive
// whole within a deadline and a byte budget (headers and the largest body allowed; a chunked body
// too), or its connection is closed (http_connection.h).
// The socket is bound in the constructor. A fixed port that cannot be had yet (an address DHCP
// has not given yet, a port a previous instance still holds) is tried again on the server's
// thread (core/stop_sleep.h's back-off, 50 ms doubling to 10 s) and waiting_to_bind() says why
// meanwhile; other failures are an error at once. start() serves, and binds and serves again
// should the accept loop end by itself.
#pragma once

#include <httplib.h>

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <stop_token>
#include <string>
#include <string_view>
#include <thread>

#include "core/listen_address.h"
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
  // Called on the server's thread once the socket is bound, before it serves: `retried` is "" when
  // it was bound at once, else " after N s of retrying".
  using OnListening = std::function<void(std::string_view retried)>;

  // Binds `address`:`port` (port 0: a free one, see port()). When `port` is fixed, `address` is a
  // numeric IPv4 or IPv6 address and the failure is one that waiting can mend (the address not
  // there yet, the port in use, descriptors or buffers short), logs why and leaves the binding to
  // start()'s thread. Otherwise throws dw::Error naming the address, the port and why.
  HttpServer(const std::string& address, std::uint16_t port, HttpLimits limits);
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Register handlers here before start().
  httplib::Server& routes() { return *server_; }
  // Serves on a thread of its own until stop() (or destruction); returns once it serves, or at
  // once while the socket is still being bound.
  void start(OnListening on_listening = {});
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
  // Why the socket cannot be bound while it is being tried again ("Address already in use");
  // "" while it is bound.
  std::string waiting_to_bind() const;

 private:
  void serve(std::stop_token stop, const OnListening& on_listening);
  // One bind of address_:port_; a failure goes to bind_failed. `again`: " again" for a
  // re-listen, "" at start.
  bool try_bind(std::string_view again);
  // Keeps why for waiting_to_bind() and logs it when the reason is new (not every try: it may
  // wait for weeks).
  void bind_failed(int err, std::string_view again);

  std::unique_ptr<GuardedServer> server_;
  std::string address_;
  std::uint16_t port_ = 0;
  HttpLimits limits_;
  std::jthread thread_;
  std::atomic<bool> serving_ended_{false};
  std::atomic<bool> listening_{false};
  std::atomic<std::uint64_t> relistens_{0};
  bool bound_at_start_ = false;  // written by the constructor only
  std::chrono::steady_clock::time_point created_ = std::chrono::steady_clock::now();
  BindFailure bind_failure_;  // why the socket is not bound yet, "" when it is
  bool stopped_ = false;      // stop() and start() are called from the owner's thread only
};

}  // namespace dw::remote
