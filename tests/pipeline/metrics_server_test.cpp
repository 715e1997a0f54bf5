#include "pipeline/metrics_server.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "support/test_support.h"

namespace dw::pipeline {
namespace {

int connect_local(std::uint16_t port) {
  const int fd = test::connect_loopback(port);
  if (fd < 0) return -1;
  timeval tv{10, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  return fd;
}

std::string http_get(std::uint16_t port, const std::string& path) {
  const int fd = connect_local(port);
  if (fd < 0) return "";
  const std::string req = "GET " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";
  ::send(fd, req.data(), req.size(), MSG_NOSIGNAL);
  std::string out;
  char buf[4096];
  ssize_t n;
  while ((n = ::recv(fd, buf, sizeof buf, 0)) > 0) out.append(buf, static_cast<std::size_t>(n));
  ::close(fd);
  return out;
}

TEST(MetricsServer, ServesTheRenderedTextOnLoopback) {
  std::atomic<int> scrapes{0};
  MetricsServer server(0, [&] {
    ++scrapes;
    return "# TYPE dreamwindow_frames_total counter\ndreamwindow_frames_total 42\n";
  });
  ASSERT_GT(server.port(), 0);
  const std::string reply = http_get(server.port(), "/metrics");
  EXPECT_NE(reply.find("HTTP/1.1 200 OK"), std::string::npos) << reply;
  EXPECT_NE(reply.find("text/plain; version=0.0.4"), std::string::npos);
  EXPECT_NE(reply.find("dreamwindow_frames_total 42"), std::string::npos);
  EXPECT_EQ(scrapes, 1);
  EXPECT_NE(http_get(server.port(), "/secrets").find("404"), std::string::npos);
}

TEST(MetricsServer, ASilentClientDoesNotBlockTheNextOneForever) {
  MetricsServer server(0, [] { return "up 1\n"; });
  const int silent = connect_local(server.port());
  ASSERT_GE(silent, 0);
  const std::string reply = http_get(server.port(), "/metrics");
  EXPECT_NE(reply.find("up 1"), std::string::npos);
  ::close(silent);
}

// Idle connections (a port scanner, a stuck scraper) do not hold up a real scrape: under a
// one-at-a-time loop the 17th waited about 2 s for each of the 16 before it; with more idle
// connections than threads, the newest (the scrape) is served first.
TEST(MetricsServer, SixteenIdleConnectionsDoNotStallAScrape) {
  MetricsServer server(0, [] { return "up 1\n"; });
  std::vector<int> idle;
  for (int i = 0; i < 16; ++i) {
    idle.push_back(connect_local(server.port()));
    ASSERT_GE(idle.back(), 0);
  }
  const int partial = connect_local(server.port());  // and one that sends half a request
  ASSERT_GE(partial, 0);
  ::send(partial, "GET /metr", 9, MSG_NOSIGNAL);
  const auto start = std::chrono::steady_clock::now();
  const std::string reply = http_get(server.port(), "/metrics");
  const auto took = std::chrono::steady_clock::now() - start;
  EXPECT_NE(reply.find("up 1"), std::string::npos) << reply;
  // Generous for a loaded machine, and well under the 32 s the old loop needed.
  EXPECT_LT(took, std::chrono::seconds(12));
  EXPECT_EQ(server.requests_served(), 1u);
  for (int fd : idle) ::close(fd);
  ::close(partial);
}

// Many times more connections than the server has threads: the newest is served, not after the
// timeouts of all the idle ones before it.
TEST(MetricsServer, AFloodOfConnectionsDoesNotLockOutAScrape) {
  MetricsServer server(0, [] { return "up 1\n"; });
  std::vector<int> idle;
  for (std::size_t i = 0; i < MetricsServer::kThreads * 8 + 8; ++i)
    idle.push_back(connect_local(server.port()));
  EXPECT_NE(http_get(server.port(), "/metrics").find("up 1"), std::string::npos);
  for (int fd : idle) ::close(fd);
}

// A port still held (a previous instance ending) is not given up: the scrape endpoint serves once
// it is free, without a restart.
TEST(MetricsServer, ATakenPortIsServedOnceFree) {
  std::optional<MetricsServer> first;
  first.emplace(0, [] { return "first 1\n"; });
  const std::uint16_t port = first->port();
  MetricsServer second(port, [] { return "second 1\n"; });
  EXPECT_EQ(second.port(), port);
  EXPECT_NE(http_get(port, "/metrics").find("first 1"), std::string::npos);
  first.reset();
  EXPECT_TRUE(test::wait_until(
      [&] { return http_get(port, "/metrics").find("second 1") != std::string::npos; },
      std::chrono::seconds(30)))
      << "the freed port was never served";
}

}  // namespace
}  // namespace dw::pipeline
