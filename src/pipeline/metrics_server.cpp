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

void send_all(int fd, std::string_view data) {
  while (!data.empty()) {
    const ssize_t n = ::send(fd, data.data(), data.size(), MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
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
  listen_fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (listen_fd_ < 0)
    throw Error(fmt::format("metrics endpoint: socket(): {}", std::strerror(errno)));
  const int yes = 1;
  ::setsockopt(listen_fd_, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);  // never exposed beyond this machine
  addr.sin_port = htons(port);
  if (::bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      ::listen(listen_fd_, 16) != 0) {
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
  while (!stop.stop_requested()) {
    pollfd p{listen_fd_, POLLIN, 0};
    const int ready = ::poll(&p, 1, kPollMs);
    if (ready <= 0) continue;
    const int client = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (client < 0) continue;
    try {
      serve_one(client);
    } catch (const std::exception& e) {
      spdlog::warn("metrics endpoint: {}", e.what());
    }
    ::close(client);
  }
}

void MetricsServer::serve_one(int client) {
  std::string request;
  const auto deadline = std::chrono::steady_clock::now() + kRequestDeadline;
  char buffer[1024];
  while (request.find("\r\n\r\n") == std::string::npos) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0 || request.size() > kMaxRequestBytes) return;
    pollfd p{client, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) return;
    const ssize_t n = ::recv(client, buffer, sizeof buffer, 0);
    if (n <= 0) return;
    request.append(buffer, static_cast<std::size_t>(n));
  }
  const std::string_view line(request.data(), request.find("\r\n"));
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
