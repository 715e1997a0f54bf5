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

// A UDP socket bound to the numeric address and port; throws naming the keys.
int bind_udp(const OscConfig& config, sockaddr_storage& bound) {
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
  const int fd = socket(info->ai_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) throw Error(fmt::format("osc: cannot open a UDP socket: {}", std::strerror(errno)));
  if (bind(fd, info->ai_addr, info->ai_addrlen) != 0) {
    const int err = errno;
    close(fd);
    throw Error(fmt::format("osc: cannot listen on osc.address = {}, osc.port = {}: {}",
                            config.address, config.port, std::strerror(err)));
  }
  socklen_t len = sizeof bound;
  getsockname(fd, reinterpret_cast<sockaddr*>(&bound), &len);
  return fd;
}

}  // namespace

OscServer::OscServer(const OscConfig& config, OscDispatcher& dispatcher) : dispatcher_(dispatcher) {
  sockaddr_storage bound{};
  fd_ = bind_udp(config, bound);
  url_ = url_of(bound);
  port_ = bound.ss_family == AF_INET6 ? ntohs(reinterpret_cast<sockaddr_in6*>(&bound)->sin6_port)
                                      : ntohs(reinterpret_cast<sockaddr_in*>(&bound)->sin_port);
  spdlog::info(
      "osc: listening on {} (/dreamwindow/param/..., /dreamwindow/get/..., "
      "/dreamwindow/action/...; replies to {})",
      url_, kOscReplyPath);
  if (!is_loopback(bound))
    spdlog::warn(
        "osc: {} is reachable from the network and OSC has no authentication: anyone "
        "who can reach it can change settings and run actions",
        url_);
  thread_ = std::jthread([this](std::stop_token stop) { run(stop); });
}

OscServer::~OscServer() {
  thread_.request_stop();
  if (thread_.joinable()) thread_.join();
  close(fd_);
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
