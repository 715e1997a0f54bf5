#include "remote/osc_server.h"

#include <arpa/inet.h>
#include <fmt/format.h>
#include <netdb.h>
#include <poll.h>
#include <spdlog/spdlog.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <memory>
#include <vector>

#include "core/error.h"
#include "core/stop_sleep.h"
#include "core/text.h"

namespace dw::remote {
namespace {

constexpr int kPollMs = 200;
constexpr std::size_t kMaxDatagram = 65536;

// A flood does not flood the log: the first 20 of a kind, then every 1000th.
bool worth_logging(std::uint64_t count) {
  return count <= 20 || count % 1000 == 0;
}

struct AddrInfoFree {
  void operator()(addrinfo* a) const { freeaddrinfo(a); }
};

std::string url_of(const sockaddr_storage& addr) {
  char host[INET6_ADDRSTRLEN] = {};
  if (addr.ss_family == AF_INET6) {
    const auto* a = reinterpret_cast<const sockaddr_in6*>(&addr);
    inet_ntop(AF_INET6, &a->sin6_addr, host, sizeof host);
    return fmt::format("udp://[{}]:{}", host, ntohs(a->sin6_port));
  }
  const auto* a = reinterpret_cast<const sockaddr_in*>(&addr);
  inet_ntop(AF_INET, &a->sin_addr, host, sizeof host);
  return fmt::format("udp://{}:{}", host, ntohs(a->sin_port));
}

bool is_loopback(const sockaddr_storage& addr) {
  if (addr.ss_family == AF_INET6)
    return IN6_IS_ADDR_LOOPBACK(&reinterpret_cast<const sockaddr_in6*>(&addr)->sin6_addr);
  return (ntohl(reinterpret_cast<const sockaddr_in*>(&addr)->sin_addr.s_addr) >> 24) == 127;
}

// The address and port to bind, parsed once; throws naming osc.address when it is no numeric
// address (no retry can mend that).
socklen_t parse_target(const OscConfig& config, sockaddr_storage& target) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_DGRAM;
  hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV | AI_PASSIVE;
  addrinfo* found = nullptr;
  const std::string port = std::to_string(config.port);
  if (const int rc = getaddrinfo(config.address.c_str(), port.c_str(), &hints, &found); rc != 0)
    throw InputError(fmt::format("osc.address = '{}' is not a numeric IPv4 or IPv6 address ({})",
                                 printable_text(config.address, 80), gai_strerror(rc)));
  const std::unique_ptr<addrinfo, AddrInfoFree> info(found);
  std::memcpy(&target, info->ai_addr, info->ai_addrlen);
  return info->ai_addrlen;
}

}  // namespace

OscServer::OscServer(const OscConfig& config, OscDispatcher& dispatcher)
    : dispatcher_(dispatcher),
      address_(config.address),
      config_port_(static_cast<std::uint16_t>(config.port)),
      address_watch_(config.address),
      started_(std::chrono::steady_clock::now()) {
  target_len_ = parse_target(config, target_);
  try_bind();  // the common case: listening before the constructor returns
  thread_ = std::jthread([this](std::stop_token stop) { run(stop); });
}

OscServer::~OscServer() {
  thread_.request_stop();  // ends a back-off at once
  if (thread_.joinable()) thread_.join();
  if (fd_ >= 0) close(fd_);
}

std::uint16_t OscServer::port() const {
  std::lock_guard lock(mutex_);
  return port_;
}

std::string OscServer::url() const {
  std::lock_guard lock(mutex_);
  return url_;
}

std::string OscServer::state() const {
  std::lock_guard lock(mutex_);
  if (url_.empty())
    return fmt::format("waiting to bind to osc.address = {}, osc.port = {}: {}; retrying", address_,
                       config_port_, bind_failure_.why());
  if (address_watch_.gone())
    return fmt::format(
        "unreachable: {} is bound to osc.address = {}, which this machine no longer has; OSC "
        "hears again once the address returns",
        url_, address_);
  return url_;
}

// No IP_FREEBIND: it would bind an address the machine does not have, and status would say OSC
// listens while nothing can arrive (for ever, if osc.address is mistyped). Retrying shows why
// it waits, and binds within 10 s of the address appearing.
bool OscServer::try_bind() {
  bind_tries_.fetch_add(1);
  int fd = socket(target_.ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd >= 0 && bind(fd, reinterpret_cast<const sockaddr*>(&target_), target_len_) != 0) {
    const int err = errno;
    close(fd);
    fd = -1;
    errno = err;
  }
  if (fd < 0) {
    const std::string why = std::strerror(errno);
    if (bind_failure_.note(why))  // the first failure and each new reason, not every try
      spdlog::error("osc: cannot listen on osc.address = {}, osc.port = {}: {}; retrying", address_,
                    config_port_, why);
    return false;
  }
  sockaddr_storage bound{};
  socklen_t len = sizeof bound;
  getsockname(fd, reinterpret_cast<sockaddr*>(&bound), &len);
  fd_ = fd;
  const std::string url = url_of(bound);
  {
    std::lock_guard lock(mutex_);
    url_ = url;
    port_ = bound.ss_family == AF_INET6
                ? ntohs(reinterpret_cast<const sockaddr_in6*>(&bound)->sin6_port)
                : ntohs(reinterpret_cast<const sockaddr_in*>(&bound)->sin_port);
  }
  const auto waited = std::chrono::duration<double>(std::chrono::steady_clock::now() - started_);
  spdlog::info(
      "osc: listening on {}{} (/dreamwindow/param/..., /dreamwindow/get/..., "
      "/dreamwindow/action/...; replies to {})",
      url, bind_tries_.load() > 1 ? fmt::format(" after {:.1f} s of retrying", waited.count()) : "",
      kOscReplyPath);
  if (!is_loopback(bound))
    spdlog::warn(
        "osc: {} is reachable from the network and OSC has no authentication: anyone "
        "who can reach it can change settings and run actions",
        url);
  return true;
}

void OscServer::answer(const std::vector<OscOutcome>& outcomes, std::size_t size, const void* to,
                       unsigned to_len) {
  const OscReplies replies = osc_replies(outcomes, size);
  // A sender that does not listen for replies is normal (a fader on a control surface).
  for (const std::vector<std::uint8_t>& r : replies.datagrams)
    sendto(fd_, r.data(), r.size(), MSG_DONTWAIT, static_cast<const sockaddr*>(to), to_len);
  if (replies.left_out == 0) return;
  const std::uint64_t total = left_out_ += replies.left_out;
  if (worth_logging(++datagrams_cut_))
    spdlog::info(
        "osc: {} of {} answers to a {}-byte datagram not sent: replies never add up to more "
        "than what was sent ({} not sent so far)",
        replies.left_out, outcomes.size(), size, total);
}

void OscServer::run(std::stop_token stop) {
  if (fd_ < 0 && !retry_unless_stopped(stop, [this] { return try_bind(); })) return;
  std::vector<std::uint8_t> buffer(kMaxDatagram);
  while (!stop.stop_requested()) {
    pollfd p{fd_, POLLIN, 0};
    if (poll(&p, 1, kPollMs) <= 0) continue;
    sockaddr_storage from{};
    socklen_t from_len = sizeof from;
    const ssize_t n = recvfrom(fd_, buffer.data(), buffer.size(), MSG_DONTWAIT,
                               reinterpret_cast<sockaddr*>(&from), &from_len);
    if (n < 0) continue;
    const std::vector<OscOutcome> outcomes =
        dispatcher_.handle_packet(buffer.data(), static_cast<std::size_t>(n));
    for (const OscOutcome& outcome : outcomes) {
      ++messages_;
      if (!outcome.ok) {
        const std::uint64_t errors = ++errors_;
        if (worth_logging(errors))
          spdlog::warn("osc: {}: {} ({} refused so far)",
                       outcome.path.empty() ? "packet" : outcome.path, outcome.message, errors);
      } else if (outcome.path.starts_with("/dreamwindow/action/")) {
        spdlog::info("osc: {}: {}", outcome.path, outcome.message);
      } else {
        spdlog::debug("osc: {}: {}", outcome.path, outcome.message);  // faders send many
      }
    }
    answer(outcomes, static_cast<std::size_t>(n), &from, from_len);
  }
}

}  // namespace dw::remote
