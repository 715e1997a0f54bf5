// The limits every HTTP endpoint shares (remote/http_server.h, http_connection.h), over real
// sockets with hostile clients: a request trickled a byte at a time is cut off at its deadline,
// endless header lines and an endless chunked body at the byte budget, and meanwhile a person's
// request is answered.
#include "remote/http_server.h"

#include <arpa/inet.h>
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <httplib.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "core/error.h"
#include "support/test_support.h"

namespace dw::remote {
namespace {

using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

struct Server {
  explicit Server(HttpLimits limits) : http("127.0.0.1", 0, limits) {
    http.routes().Get("/ping", [](const httplib::Request&, httplib::Response& res) {
      res.set_content("pong", "text/plain");
    });
    http.routes().Post("/echo", [this](const httplib::Request& req, httplib::Response& res) {
      largest_body = std::max<std::size_t>(largest_body, req.body.size());
      res.set_content(std::to_string(req.body.size()), "text/plain");
    });
    http.start();
  }
  bool answers_a_person() const {
    httplib::Client c("127.0.0.1", http.port());
    c.set_read_timeout(20s);
    const auto r = c.Get("/ping");
    return r && r->status == 200 && r->body == "pong";
  }
  HttpServer http;
  std::atomic<std::size_t> largest_body{0};
};

// True once the server has closed the connection (a read sees the end, or a send fails).
bool closed_by_server(int fd) {
  pollfd p{fd, POLLIN, 0};
  if (::poll(&p, 1, 0) <= 0) return false;
  char buffer[4096];
  while (true) {
    const ssize_t n = ::recv(fd, buffer, sizeof buffer, MSG_DONTWAIT);
    if (n == 0) return true;
    if (n < 0) return errno != EAGAIN && errno != EWOULDBLOCK;
  }
}

// Sends `piece` every `every` until the server closes the connection or `limit` passes; the time
// it took the server to close it (or nothing).
std::optional<Clock::duration> send_until_closed(int fd, const std::string& piece,
                                                 Clock::duration every, Clock::duration limit) {
  const auto start = Clock::now();
  while (Clock::now() - start < limit) {
    if (::send(fd, piece.data(), piece.size(), MSG_NOSIGNAL) < 0 || closed_by_server(fd))
      return Clock::now() - start;
    if (every > 0s) std::this_thread::sleep_for(every);  // the hostile client's own pace
  }
  return std::nullopt;
}

// A client that trickles a request (a header line every 300 ms: each read is quick, so per-read
// timeouts never fire) is cut off at the request's deadline; a person is answered meanwhile.
TEST(HttpServer, ATrickledRequestIsCutOffAtItsDeadline) {
  HttpLimits limits;
  limits.request_deadline = 2s;
  Server server(limits);
  const int fd = test::connect_loopback(server.http.port());
  ASSERT_GE(fd, 0);
  ASSERT_GT(::send(fd, "GET /ping HTTP/1.1\r\n", 20, MSG_NOSIGNAL), 0);
  const auto took = send_until_closed(fd, "X-Slow: 1\r\n", 300ms, 30s);
  ASSERT_TRUE(took.has_value()) << "the trickled request was never cut off";
  EXPECT_LT(*took, 10s);
  EXPECT_GE(*took, 1s) << "cut off before its deadline";
  EXPECT_EQ(server.http.refused(), 1u);
  EXPECT_TRUE(server.answers_a_person());
  ::close(fd);
}

// Header lines without end (each within httplib's line limit) end at the byte budget, long
// before the deadline: memory stays bounded.
TEST(HttpServer, EndlessHeaderLinesAreCutOffAtTheByteBudget) {
  HttpLimits limits;
  limits.request_deadline = 120s;
  Server server(limits);
  const int fd = test::connect_loopback(server.http.port());
  ASSERT_GE(fd, 0);
  ASSERT_GT(::send(fd, "GET /ping HTTP/1.1\r\n", 20, MSG_NOSIGNAL), 0);
  const std::string line = "X-Fill: " + std::string(1000, 'a') + "\r\n";
  const auto took = send_until_closed(fd, line, 0s, 60s);
  ASSERT_TRUE(took.has_value()) << "endless header lines were never cut off";
  EXPECT_EQ(server.http.refused(), 1u);
  EXPECT_TRUE(server.answers_a_person());
  ::close(fd);
}

// A chunked body (no Content-Length for httplib to refuse with 413) is cut off at the budget:
// the handler never sees a body over the cap.
TEST(HttpServer, AChunkedBodyOverTheCapIsCutOff) {
  HttpLimits limits;
  limits.max_body_bytes = 16 * 1024;
  limits.request_deadline = 120s;
  Server server(limits);
  const int fd = test::connect_loopback(server.http.port());
  ASSERT_GE(fd, 0);
  const std::string head =
      "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n"
      "Content-Type: text/plain\r\n\r\n";
  ASSERT_GT(::send(fd, head.data(), head.size(), MSG_NOSIGNAL), 0);
  const std::string chunk = "1000\r\n" + std::string(4096, 'b') + "\r\n";
  const auto took = send_until_closed(fd, chunk, 0s, 60s);
  ASSERT_TRUE(took.has_value()) << "the chunked body was never cut off";
  EXPECT_EQ(server.largest_body.load(), 0u) << "a body over the cap reached the handler";
  EXPECT_EQ(server.http.refused(), 1u);
  ::close(fd);
  // A chunked body within the cap is served.
  httplib::Client c("127.0.0.1", server.http.port());
  c.set_read_timeout(20s);
  const auto r = c.Post(
      "/echo",
      [](std::size_t offset, httplib::DataSink& sink) {
        if (offset >= 3000) {
          sink.done();
          return true;
        }
        const std::string part(1000, 'c');
        return sink.write(part.data(), part.size());
      },
      "text/plain");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->body, "3000");
}

// A flood of connections (a scanner, a stuck client reconnecting) beyond the backlog: the oldest
// waiting ones are closed unread at once, so descriptors do not pile up, and the newest, a
// person's request, is answered.
TEST(HttpServer, AFloodShedsTheOldestWaitingConnectionsAndAPersonIsAnswered) {
  HttpLimits limits;
  limits.threads = 2;
  limits.max_queued = 8;
  limits.idle = 5s;  // each connection holds its thread a while
  Server server(limits);
  std::vector<int> flood;
  for (int i = 0; i < 40; ++i) {
    flood.push_back(test::connect_loopback(server.http.port()));
    ASSERT_GE(flood.back(), 0);
  }
  // 40 connections, 2 threads, 8 may wait: about 30 are shed (fewer when a thread took one
  // while the flood was still being accepted), and their sockets are closed by the server.
  EXPECT_TRUE(test::wait_until([&] { return server.http.refused() >= 20; }, 30s))
      << server.http.refused() << " shed";
  std::vector<bool> closed(flood.size(), false);
  const auto closed_count = [&] {
    for (std::size_t i = 0; i < flood.size(); ++i)
      if (!closed[i]) closed[i] = closed_by_server(flood[i]);
    return std::count(closed.begin(), closed.end(), true);
  };
  EXPECT_TRUE(test::wait_until([&] { return closed_count() >= 20; }, 30s))
      << closed_count() << " closed by the server";
  EXPECT_TRUE(server.answers_a_person());
  for (const int fd : flood) ::close(fd);
}

// Keep-alive still serves several requests on one connection, and a body within the cap.
TEST(HttpServer, KeptAliveConnectionsServeRequestsInTurn) {
  Server server(HttpLimits{});
  httplib::Client c("127.0.0.1", server.http.port());
  c.set_keep_alive(true);
  c.set_read_timeout(20s);
  for (int i = 0; i < 5; ++i) {
    const auto r = c.Post("/echo", std::string(1000 * (i + 1), 'd'), "text/plain");
    ASSERT_TRUE(r) << "request " << i;
    EXPECT_EQ(r->body, std::to_string(1000 * (i + 1)));
  }
  EXPECT_EQ(server.http.refused(), 0u);
}

// The listening socket of `port` in this process (the accept loop's), or -1.
int listening_socket(std::uint16_t port) {
  for (int fd = 3; fd < 1024; ++fd) {
    sockaddr_in address{};
    socklen_t length = sizeof address;
    if (::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) != 0 ||
        address.sin_family != AF_INET || ntohs(address.sin_port) != port)
      continue;
    int accepting = 0;
    socklen_t size = sizeof accepting;
    if (::getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &accepting, &size) == 0 && accepting) return fd;
  }
  return -1;
}

// httplib ends its accept loop for good on an accept error other than EMFILE, EINTR or EAGAIN
// (ENFILE or ENOBUFS on a machine short of them), closing the socket: the remote was gone until a
// restart while status said it listened. A socket shut down under the loop stands in for that.
TEST(HttpServer, AnAcceptLoopThatEndsByItselfListensAgain) {
  Server server(HttpLimits{});
  ASSERT_TRUE(server.answers_a_person());
  EXPECT_TRUE(server.http.listening());
  const int fd = listening_socket(server.http.port());
  ASSERT_GE(fd, 0);
  ASSERT_EQ(::shutdown(fd, SHUT_RDWR), 0);
  ASSERT_TRUE(test::wait_until([&] { return server.http.relistens() == 1; }))
      << "the accept loop did not end: the stand-in failed";
  EXPECT_TRUE(test::wait_until([&] { return server.http.listening(); }));
  EXPECT_TRUE(server.answers_a_person()) << "the remote is gone after an accept error";
  server.http.stop();
  EXPECT_FALSE(server.http.listening());
}

// A TCP port held by another program (listening on 127.0.0.1), closed when this ends.
struct HeldPort {
  HeldPort() {
    sockaddr_in at{};
    at.sin_family = AF_INET;
    at.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t length = sizeof at;
    if (fd < 0 || ::bind(fd, reinterpret_cast<const sockaddr*>(&at), sizeof at) != 0 ||
        ::listen(fd, 4) != 0 || ::getsockname(fd, reinterpret_cast<sockaddr*>(&at), &length) != 0)
      return;
    port = ntohs(at.sin_port);
  }
  ~HeldPort() { release(); }
  void release() {
    if (fd >= 0) ::close(fd);
    fd = -1;
  }
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  std::uint16_t port = 0;
};

// The remote's port still held at start (a previous instance ending): the server does not give
// up. start() returns at once, it says why it waits, and once the port is free it listens there,
// says so once, and answers.
TEST(HttpServer, APortHeldAtStartIsBoundOnceFree) {
  HeldPort held;
  ASSERT_NE(held.port, 0);
  HttpServer http("127.0.0.1", held.port, HttpLimits{});
  http.routes().Get("/ping", [](const httplib::Request&, httplib::Response& res) {
    res.set_content("pong", "text/plain");
  });
  std::atomic<int> told{0};
  std::string retried;  // written on the server's thread before `told` moves
  const auto before = Clock::now();
  http.start([&](std::string_view r) {
    retried = r;
    told.fetch_add(1);
  });
  EXPECT_LT(Clock::now() - before, 2s) << "start() waited for the port";
  EXPECT_EQ(http.waiting_to_bind(), "Address already in use");
  EXPECT_FALSE(http.listening());
  EXPECT_EQ(http.port(), held.port);
  held.release();
  ASSERT_TRUE(test::wait_until([&] { return http.listening(); }, 30s)) << http.waiting_to_bind();
  EXPECT_EQ(http.waiting_to_bind(), "");
  ASSERT_TRUE(test::wait_until([&] { return told.load() == 1; }));
  EXPECT_TRUE(retried.starts_with(" after ") && retried.ends_with(" s of retrying")) << retried;
  httplib::Client c("127.0.0.1", held.port);
  c.set_read_timeout(20s);
  const auto r = c.Get("/ping");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->body, "pong");
  EXPECT_EQ(told.load(), 1);
}

// Stopping while the bind is tried again ends the wait at once; nothing is ever said to listen.
TEST(HttpServer, StopEndsTheWaitForAHeldPortAtOnce) {
  HeldPort held;
  ASSERT_NE(held.port, 0);
  HttpServer http("127.0.0.1", held.port, HttpLimits{});
  std::atomic<bool> told{false};
  http.start([&](std::string_view) { told.store(true); });
  ASSERT_EQ(http.waiting_to_bind(), "Address already in use");
  const auto before = Clock::now();
  http.stop();
  EXPECT_LT(Clock::now() - before, 2s);
  EXPECT_FALSE(http.listening());
  EXPECT_FALSE(told.load());
}

// What waiting cannot mend is refused at once, naming address, port and why: a host name that
// does not resolve, a free port (0) on an address the machine lacks (TEST-NET-1, RFC 5737).
TEST(HttpServer, WhatWaitingCannotMendIsRefusedAtOnce) {
  for (const auto& [address, port] :
       {std::pair<std::string, std::uint16_t>{"no-such-host.invalid", 8420}, {"192.0.2.1", 0}}) {
    try {
      HttpServer http(address, port, HttpLimits{});
      ADD_FAILURE() << address << ":" << port << " was not refused";
    } catch (const Error& e) {
      EXPECT_TRUE(
          std::string(e.what()).starts_with(fmt::format("cannot listen on {}:{}: ", address, port)))
          << e.what();
    }
  }
}

}  // namespace
}  // namespace dw::remote
