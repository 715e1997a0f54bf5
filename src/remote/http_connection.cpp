#include "remote/http_connection.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <spdlog/spdlog.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <string>

namespace dw::remote {
namespace {

using Clock = std::chrono::steady_clock;

int millis(std::chrono::milliseconds d) {
  return static_cast<int>(std::clamp<std::int64_t>(d.count(), 0, 1 << 30));
}

// Waits up to `timeout` for `events` on the socket; true when they came.
bool wait_for(socket_t sock, short events, std::chrono::milliseconds timeout) {
  pollfd p{sock, events, 0};
  while (true) {
    const int r = ::poll(&p, 1, millis(timeout));
    if (r < 0 && errno == EINTR) continue;
    return r > 0 && (p.revents & (events | POLLHUP | POLLERR)) != 0;
  }
}

void address_of(const sockaddr_storage& addr, std::string& ip, int& port) {
  char text[INET6_ADDRSTRLEN] = {};
  if (addr.ss_family == AF_INET) {
    const auto& a = reinterpret_cast<const sockaddr_in&>(addr);
    ::inet_ntop(AF_INET, &a.sin_addr, text, sizeof text);
    port = ntohs(a.sin_port);
  } else if (addr.ss_family == AF_INET6) {
    const auto& a = reinterpret_cast<const sockaddr_in6&>(addr);
    ::inet_ntop(AF_INET6, &a.sin6_addr, text, sizeof text);
    port = ntohs(a.sin6_port);
  }
  ip = text;
}

// One connection's stream: buffered reads (httplib reads header lines a byte at a time), each
// request within its deadline and its byte budget from begin_request() on.
class GuardedStream final : public httplib::Stream {
 public:
  GuardedStream(socket_t sock, const ConnectionLimits& limits) : sock_(sock), limits_(limits) {}

  void begin_request() {
    deadline_ = Clock::now() + limits_.request_deadline;
    request_bytes_ = 0;
  }
  // Bytes of the next request already here, or arriving within `timeout`.
  bool more_within(std::chrono::milliseconds timeout) const {
    return begin_ < end_ || wait_for(sock_, POLLIN, timeout);
  }
  bool over_limit() const { return over_limit_; }
  // A read failed (timed out, the client closed): the connection serves no further request, even
  // when httplib could still answer this one (400).
  bool broken() const { return broken_ || over_limit_; }

  bool is_readable() const override { return more_within(limits_.read_timeout); }
  bool is_writable() const override { return wait_for(sock_, POLLOUT, limits_.write_timeout); }

  ssize_t read(char* ptr, size_t size) override {
    if (size == 0) return 0;
    if (request_bytes_ >= limits_.max_request_bytes) return refuse();
    size = std::min(size, limits_.max_request_bytes - request_bytes_);
    if (begin_ == end_) {
      // Rounded up, so that a wait cut short by the deadline finds it passed.
      const auto left = std::chrono::ceil<std::chrono::milliseconds>(deadline_ - Clock::now());
      if (left.count() <= 0) return refuse();
      if (!wait_for(sock_, POLLIN, std::min(left, limits_.read_timeout))) {
        if (Clock::now() >= deadline_) return refuse();
        broken_ = true;  // the read timed out
        return -1;
      }
      const ssize_t n = ::recv(sock_, buffer_.data(), buffer_.size(), 0);
      if (n <= 0) {
        broken_ = true;  // the client closed, or the connection failed
        return n;
      }
      begin_ = 0;
      end_ = static_cast<std::size_t>(n);
    }
    const std::size_t n = std::min(size, end_ - begin_);
    std::copy_n(buffer_.data() + begin_, n, ptr);
    begin_ += n;
    request_bytes_ += n;
    return static_cast<ssize_t>(n);
  }

  ssize_t write(const char* ptr, size_t size) override {
    if (!is_writable()) return -1;
    return ::send(sock_, ptr, size, MSG_NOSIGNAL);
  }

  void get_remote_ip_and_port(std::string& ip, int& port) const override {
    sockaddr_storage addr{};
    socklen_t len = sizeof addr;
    if (::getpeername(sock_, reinterpret_cast<sockaddr*>(&addr), &len) == 0)
      address_of(addr, ip, port);
  }
  void get_local_ip_and_port(std::string& ip, int& port) const override {
    sockaddr_storage addr{};
    socklen_t len = sizeof addr;
    if (::getsockname(sock_, reinterpret_cast<sockaddr*>(&addr), &len) == 0)
      address_of(addr, ip, port);
  }
  socket_t socket() const override { return sock_; }

 private:
  ssize_t refuse() {
    over_limit_ = true;
    return -1;
  }

  socket_t sock_;
  const ConnectionLimits& limits_;
  Clock::time_point deadline_ = Clock::now();
  std::size_t request_bytes_ = 0;
  bool over_limit_ = false;
  bool broken_ = false;
  std::array<char, 4096> buffer_{};
  std::size_t begin_ = 0, end_ = 0;
};

thread_local int shedding = 0;

}  // namespace

ShedConnections::ShedConnections() {
  ++shedding;
}
ShedConnections::~ShedConnections() {
  --shedding;
}
bool ShedConnections::active() {
  return shedding > 0;
}

bool GuardedServer::process_and_close_socket(socket_t sock) {
  bool ok = false;
  if (ShedConnections::active()) {
    refused_.fetch_add(1, std::memory_order_relaxed);  // shed unread: a flood of connections
  } else {
    GuardedStream stream(sock, limits_);
    for (std::size_t served = 0; served < limits_.max_requests && is_running(); ++served) {
      if (!stream.more_within(limits_.idle)) break;  // idle: keep-alive ends
      stream.begin_request();
      bool connection_closed = false;
      const bool last = served + 1 == limits_.max_requests;
      ok = process_request(stream, last, connection_closed, nullptr);
      if (stream.over_limit()) {
        const std::uint64_t n = refused_.fetch_add(1, std::memory_order_relaxed) + 1;
        if (n <= 10 || n % 1000 == 0)
          spdlog::warn("http: a request over its deadline or size was cut off ({} so far)", n);
        break;
      }
      if (!ok || connection_closed || stream.broken()) break;
    }
  }
  ::shutdown(sock, SHUT_RDWR);
  ::close(sock);
  return ok;
}

}  // namespace dw::remote
