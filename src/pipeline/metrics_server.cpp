#include "pipeline/metrics_server.h"

#include <arpa/inet.h>
#include <fmt/format.h>
#include <netinet/in.h>
#include <poll.h>
#include <spdlog/spdlog.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>

#include "core/error.h"

namespace dw::pipeline {
namespace {

constexpr int kPollMs = 100;
constexpr std::size_t kMaxRequestBytes = 8192;
constexpr auto kRequestDeadline = std::chrono::seconds(2);
constexpr auto kSendDeadline = std::chrono::milliseconds(500);

// The answer is a few kilobytes and fits the socket's buffer; a client that reads nothing gets
// what fits within kSendDeadline and is then dropped.
void send_all(int fd, std::string_view data) {
  const auto deadline = std::chrono::steady_clock::now() + kSendDeadline;
  while (!data.empty()) {
    const ssize_t n = ::send(fd, data.data(), data.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline - std::chrono::steady_clock::now());
      pollfd p{fd, POLLOUT, 0};
      if (left.count() <= 0 || ::poll(&p, 1, static_cast<int>(left.count())) <= 0) return;
      continue;
    }
    if (n <= 0) return;  // the client went away; nothing to do about it
    data.remove_prefix(static_cast<std::size_t>(n));
  }
}

std::string response(int code, std::string_view reason, std::string_view type,
                     std::string_view body) {
  return fmt::format(
      "HTTP/1.1 {} {}\r\nContent-Type: {}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{}",
      code, reason, type, body.size(), body);
}

}  // namespace

MetricsServer::MetricsServer(std::uint16_t port, std::function<std::string()> render)
    : render_(std::move(render)) {
  listen_fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (listen_fd_ < 0)
    throw Error(fmt::format("metrics endpoint: socket(): {}", std::strerror(errno)));
  const int yes = 1;
  ::setsockopt(listen_fd_, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);  // never exposed beyond this machine
  addr.sin_port = htons(port);
  if (::bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      ::listen(listen_fd_, SOMAXCONN) != 0) {
    const std::string why = std::strerror(errno);
    ::close(listen_fd_);
    throw Error(fmt::format("metrics endpoint: cannot listen on 127.0.0.1:{}: {}", port, why));
  }
  socklen_t len = sizeof addr;
  ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len);
  port_ = ntohs(addr.sin_port);
  thread_ = std::jthread([this](std::stop_token stop) { run(stop); });
}

MetricsServer::~MetricsServer() {
  thread_.request_stop();
  if (thread_.joinable()) thread_.join();
  ::close(listen_fd_);
}

void MetricsServer::run(std::stop_token stop) {
  std::vector<Connection> open;
  std::vector<pollfd> fds;
  while (!stop.stop_requested()) {
    fds.assign(1, pollfd{listen_fd_, POLLIN, 0});
    for (const Connection& c : open) fds.push_back(pollfd{c.fd, POLLIN, 0});
    if (::poll(fds.data(), fds.size(), kPollMs) < 0 && errno != EINTR) break;
    const auto now = std::chrono::steady_clock::now();
    std::vector<Connection> still_open;
    for (std::size_t i = 0; i < open.size(); ++i) {
      const bool ready = fds[i + 1].revents != 0;
      if ((ready && read_from(open[i])) || now >= open[i].deadline)
        ::close(open[i].fd);
      else
        still_open.push_back(std::move(open[i]));
    }
    open = std::move(still_open);
    if (fds[0].revents & POLLIN) accept_new(open);
  }
  for (const Connection& c : open) ::close(c.fd);
}

void MetricsServer::accept_new(std::vector<Connection>& open) {
  while (true) {
    const int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK);
    if (fd < 0) return;                    // EAGAIN: all taken
    if (open.size() >= kMaxConnections) {  // the oldest has waited longest without a request
      ::close(open.front().fd);
      open.erase(open.begin());
    }
    open.push_back({fd, {}, std::chrono::steady_clock::now() + kRequestDeadline});
  }
}

bool MetricsServer::read_from(Connection& c) {
  char buffer[1024];
  while (true) {
    const ssize_t n = ::recv(c.fd, buffer, sizeof buffer, MSG_DONTWAIT);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return false;  // more to come
    if (n <= 0) return true;
    c.request.append(buffer, static_cast<std::size_t>(n));
    if (c.request.size() > kMaxRequestBytes) return true;
    if (c.request.find("\r\n\r\n") == std::string::npos) continue;
    try {
      answer(c);
    } catch (const std::exception& e) {
      spdlog::warn("metrics endpoint: {}", e.what());
    }
    return true;
  }
}

void MetricsServer::answer(const Connection& c) {
  const std::string_view line(c.request.data(), c.request.find("\r\n"));
  const int client = c.fd;
  if (line.starts_with("GET /metrics ") || line.starts_with("GET /metrics?")) {
    send_all(client, response(200, "OK", "text/plain; version=0.0.4; charset=utf-8", render_()));
    ++served_;
  } else if (line.starts_with("GET ")) {
    send_all(client, response(404, "Not Found", "text/plain", "only /metrics is served here\n"));
  } else {
    send_all(client, response(405, "Method Not Allowed", "text/plain", "GET only\n"));
  }
}

}  // namespace dw::pipeline
