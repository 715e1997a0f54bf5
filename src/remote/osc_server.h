// The OSC server: one UDP socket bound to osc.address:osc.port (127.0.0.1 by default; liblo 0.31
// cannot bind one address, so the socket is ours and liblo decodes and encodes the messages), and
// one thread that waits on it (200 ms slices, so a stop is seen) and hands each datagram to the
// OscDispatcher (remote/osc_message.h). Each message's outcome goes back to the sender as
// /dreamwindow/reply ,sss "ok"|"error" <address> <message>, as far as osc_replies allows (the
// replies to a datagram add up to no more than it, but for one answer to a /dreamwindow/ message);
// bytes that are no OSC message are counted and logged (throttled) but not answered. OSC has no
// authentication: listening on anything but loopback is logged as a warning.
#pragma once

#include <atomic>
#include <cstdint>
#include <string>
#include <thread>
#include <vector>

#include "core/config.h"
#include "remote/osc_message.h"

namespace dw::remote {

struct OscServerStats {
  std::uint64_t messages = 0;  // messages handled (bundle elements counted one by one)
  std::uint64_t errors = 0;    // of them, refused
  std::uint64_t left_out = 0;  // answers not sent: they would have outgrown their datagram
};

class OscServer {
 public:
  // Binds at once; throws dw::Error naming osc.address / osc.port when it cannot.
  OscServer(const OscConfig& config, OscDispatcher& dispatcher);
  ~OscServer();
  OscServer(const OscServer&) = delete;
  OscServer& operator=(const OscServer&) = delete;

  std::uint16_t port() const { return port_; }
  // "udp://127.0.0.1:9000" ("udp://[::1]:9000" for IPv6).
  const std::string& url() const { return url_; }
  OscServerStats stats() const { return {messages_.load(), errors_.load(), left_out_.load()}; }

 private:
  void run(std::stop_token stop);
  void answer(const std::vector<OscOutcome>& outcomes, std::size_t size, const void* to,
              unsigned to_len);

  OscDispatcher& dispatcher_;
  int fd_ = -1;
  std::uint16_t port_ = 0;
  std::string url_;
  std::atomic<std::uint64_t> messages_{0};
  std::atomic<std::uint64_t> errors_{0};
  std::atomic<std::uint64_t> left_out_{0};
  std::uint64_t datagrams_cut_ = 0;  // datagrams with answers not sent (the thread's, for the log)
  std::jthread thread_;              // last: stops before the members it uses go
};

}  // namespace dw::remote
