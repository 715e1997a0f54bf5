// The OSC server: one UDP socket bound to osc.address:osc.port (127.0.0.1 by default; liblo 0.31
// cannot bind one address, so the socket is ours and liblo decodes and encodes the messages), and
// one thread that waits on it (200 ms slices, so a stop is seen) and hands each datagram to the
// OscDispatcher (remote/osc_message.h). Each message's outcome goes back to the sender as
// /dreamwindow/reply ,sss "ok"|"error" <address> <message>, as far as osc_replies allows (the
// replies to a datagram add up to no more than it, but for one answer to a /dreamwindow/ message);
// bytes that are no OSC message are counted and logged (throttled) but not answered. OSC has no
// authentication: listening on anything but loopback is logged as a warning.
// A socket that cannot be bound (an address the machine does not have yet because the session
// started before DHCP gave it, a port another program holds) is tried again on the thread with a
// back-off (core/stop_sleep.h, as the web remote's listen), and state() says why meanwhile.
#pragma once

#include <sys/socket.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "core/config.h"
#include "core/listen_address.h"
#include "remote/osc_message.h"

namespace dw::remote {

struct OscServerStats {
  std::uint64_t messages = 0;    // messages handled (bundle elements counted one by one)
  std::uint64_t errors = 0;      // of them, refused
  std::uint64_t left_out = 0;    // answers not sent: they would have outgrown their datagram
  std::uint64_t bind_tries = 0;  // binds tried, the first included
};

class OscServer {
 public:
  // Binds at once when it can; when it cannot, logs why and keeps trying on its thread (50 ms,
  // doubling to 10 s) until it binds or is destroyed. Throws dw::InputError when osc.address is
  // no numeric IPv4 or IPv6 address (no retry can mend a typo).
  OscServer(const OscConfig& config, OscDispatcher& dispatcher);
  ~OscServer();
  OscServer(const OscServer&) = delete;
  OscServer& operator=(const OscServer&) = delete;

  bool listening() const { return !url().empty(); }
  // The bound port (what port 0 picked); 0 until bound.
  std::uint16_t port() const;
  // "udp://127.0.0.1:9000" ("udp://[::1]:9000" for IPv6); empty until bound.
  std::string url() const;
  // For status: the url() when listening, else "waiting to bind to osc.address = ..., osc.port =
  // ...: <why>; retrying", or "unreachable: ..." while bound to an address the machine has lost.
  std::string state() const;
  OscServerStats stats() const {
    return {messages_.load(), errors_.load(), left_out_.load(), bind_tries_.load()};
  }

 private:
  bool try_bind();
  void run(std::stop_token stop);
  void answer(const std::vector<OscOutcome>& outcomes, std::size_t size, const void* to,
              unsigned to_len);

  OscDispatcher& dispatcher_;
  std::string address_;  // as configured, for messages
  std::uint16_t config_port_ = 0;
  AddressWatch address_watch_;  // whether osc.address is still the machine's, for state()
  BindFailure bind_failure_;    // why it is not bound yet
  sockaddr_storage target_{};   // the parsed address and port to bind
  socklen_t target_len_ = 0;
  int fd_ = -1;  // set before the thread starts or on it; closed by the destructor after the join
  mutable std::mutex mutex_;  // guards what other threads read:
  std::uint16_t port_ = 0;
  std::string url_;
  std::atomic<std::uint64_t> messages_{0};
  std::atomic<std::uint64_t> errors_{0};
  std::atomic<std::uint64_t> left_out_{0};
  std::atomic<std::uint64_t> bind_tries_{0};
  std::uint64_t datagrams_cut_ = 0;  // datagrams with answers not sent (the thread's, for the log)
  const std::chrono::steady_clock::time_point started_;
  std::jthread thread_;  // last: stops before the members it uses go
};

}  // namespace dw::remote
