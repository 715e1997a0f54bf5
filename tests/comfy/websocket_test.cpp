// The RFC 6455 client against a scripted in-process peer: handshake checks, masking, fragments,
// ping/pong, close, the message size cap applied from the frame header, and a length that wraps.
#include "comfy/websocket.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <openssl/evp.h>
#include <openssl/sha.h>
#include <sys/socket.h>
#include <unistd.h>

#include <functional>
#include <memory>
#include <thread>

namespace dw::comfy {
namespace {

using namespace std::chrono_literals;

std::string accept_key(const std::string& key) {
  const std::string text = key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
  unsigned char digest[SHA_DIGEST_LENGTH];
  SHA1(reinterpret_cast<const unsigned char*>(text.data()), text.size(), digest);
  char out[64] = {};
  EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out), digest, sizeof digest);
  return out;
}

std::string frame(int opcode, std::string_view payload, bool fin = true) {
  std::string f;
  f.push_back(static_cast<char>((fin ? 0x80 : 0) | opcode));
  if (payload.size() < 126) {
    f.push_back(static_cast<char>(payload.size()));
  } else {
    f.push_back(127);
    for (int i = 7; i >= 0; --i) f.push_back(static_cast<char>((payload.size() >> (8 * i)) & 0xFF));
  }
  f.append(payload);
  return f;
}

void write_all(int fd, std::string_view bytes) {
  while (!bytes.empty()) {
    const ssize_t n = ::send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    if (n <= 0) return;
    bytes.remove_prefix(static_cast<std::size_t>(n));
  }
}

std::string read_exact(int fd, std::size_t n) {
  std::string out(n, '\0');
  std::size_t got = 0;
  while (got < n) {
    const ssize_t r = ::recv(fd, out.data() + got, n - got, 0);
    if (r <= 0) return out.substr(0, got);
    got += static_cast<std::size_t>(r);
  }
  return out;
}

// Reads one client frame: (opcode, masked?, unmasked payload).
std::tuple<int, bool, std::string> read_client_frame(int fd) {
  const std::string h = read_exact(fd, 2);
  if (h.size() < 2) return {-1, false, ""};
  const int opcode = h[0] & 0x0F;
  const bool masked = (h[1] & 0x80) != 0;
  std::size_t len = h[1] & 0x7F;
  if (len == 126) {
    const std::string e = read_exact(fd, 2);
    len = (static_cast<unsigned char>(e[0]) << 8) | static_cast<unsigned char>(e[1]);
  }
  const std::string key = masked ? read_exact(fd, 4) : std::string(4, '\0');
  std::string payload = read_exact(fd, len);
  for (std::size_t i = 0; i < payload.size(); ++i) payload[i] ^= key[i & 3];
  return {opcode, masked, payload};
}

// One connection on a loopback port, answered by `script(fd, request_head)` on its own thread.
class Peer {
 public:
  explicit Peer(std::function<void(int, const std::string&)> script) {
    listener_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::bind(listener_, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
    ::listen(listener_, 1);
    socklen_t len = sizeof addr;
    ::getsockname(listener_, reinterpret_cast<sockaddr*>(&addr), &len);
    url = "http://127.0.0.1:" + std::to_string(ntohs(addr.sin_port));
    thread_ = std::thread([this, script = std::move(script)] {
      const int fd = ::accept(listener_, nullptr, nullptr);
      if (fd < 0) return;
      std::string head;
      char c;
      while (head.find("\r\n\r\n") == std::string::npos && ::recv(fd, &c, 1, 0) == 1)
        head.push_back(c);
      script(fd, head);
      ::close(fd);
    });
  }
  ~Peer() {
    ::shutdown(listener_, SHUT_RDWR);
    thread_.join();
    ::close(listener_);
  }
  std::string url;

 private:
  int listener_ = -1;
  std::thread thread_;
};

std::string key_of(const std::string& head) {
  const auto at = head.find("Sec-WebSocket-Key: ");
  return head.substr(at + 19, head.find("\r\n", at) - at - 19);
}

std::string upgrade_answer(const std::string& head) {
  return "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
         "Sec-WebSocket-Accept: " +
         accept_key(key_of(head)) + "\r\n\r\n";
}

TEST(WebSocket, ReassemblesFragmentsAnswersPingsAndMasksWhatItSends) {
  std::tuple<int, bool, std::string> pong, text;
  std::string request;
  auto peer = std::make_unique<Peer>([&](int fd, const std::string& head) {
    request = head;
    write_all(fd, upgrade_answer(head) + frame(0x1, "{\"type\":", false) + frame(0x9, "hi") +
                      frame(0x0, "\"status\"}") + frame(0x2, std::string("\0\0\0\1", 4)));
    pong = read_client_frame(fd);
    text = read_client_frame(fd);
  });
  {
    WebSocket ws(peer->url, "/ws?clientId=abc", 2.0, 1 << 20);
    auto m = ws.receive(5s);
    ASSERT_TRUE(m.has_value());
    EXPECT_FALSE(m->binary);
    EXPECT_EQ(m->payload, "{\"type\":\"status\"}");
    m = ws.receive(5s);
    ASSERT_TRUE(m.has_value());
    EXPECT_TRUE(m->binary);
    EXPECT_EQ(m->payload.size(), 4u);
    EXPECT_FALSE(ws.receive(20ms).has_value());  // nothing more yet: a timeout, not an error
    ws.send_text("{\"type\":\"feature_flags\"}");
    EXPECT_THROW(ws.receive(5s), TransportError);  // the peer has read both frames and hung up
  }
  peer.reset();  // joined: what it read is final
  EXPECT_NE(request.find("GET /ws?clientId=abc HTTP/1.1\r\n"), std::string::npos);
  EXPECT_EQ(request.find("Origin:"), std::string::npos)
      << "an Origin header gets a 403 from ComfyUI";
  EXPECT_EQ(std::get<0>(pong), 0xA);
  EXPECT_TRUE(std::get<1>(pong));
  EXPECT_EQ(std::get<2>(pong), "hi");
  EXPECT_EQ(std::get<0>(text), 0x1);
  EXPECT_TRUE(std::get<1>(text)) << "client frames must be masked";
  EXPECT_EQ(std::get<2>(text), "{\"type\":\"feature_flags\"}");
}

TEST(WebSocket, AnOversizedMessageFailsFromItsHeader) {
  Peer peer([&](int fd, const std::string& head) {
    // Announces 100 MB and sends a few bytes only: the client must not wait for (or buffer) it.
    std::string f = frame(0x2, "");
    f[1] = 127;
    const std::uint64_t n = 100u << 20;
    for (int i = 7; i >= 0; --i) f.push_back(static_cast<char>((n >> (8 * i)) & 0xFF));
    write_all(fd, upgrade_answer(head) + f + "abc");
    read_exact(fd, 1);  // until the client closes
  });
  WebSocket ws(peer.url, "/ws", 2.0, 1 << 20);
  try {
    ws.receive(5s);
    FAIL() << "a 100 MB message passed a 1 MB cap";
  } catch (const TransportError& e) {
    EXPECT_NE(std::string(e.what()).find("exceeds the limit of 1048576 bytes"), std::string::npos)
        << e.what();
  }
}

TEST(WebSocket, APingWhoseLengthWrapsIsAnErrorNotACrash) {
  // 2^64 - 1 bytes announced: added to the header length it wraps to a small number.
  Peer peer([&](int fd, const std::string& head) {
    std::string f = frame(0x9, "");
    f[1] = 127;
    f.append(8, '\xff');
    write_all(fd, upgrade_answer(head) + frame(0x1, "before") + f + "boom");
    read_exact(fd, 1);  // until the client closes
  });
  WebSocket ws(peer.url, "/ws", 2.0, 1 << 20);
  auto m = ws.receive(5s);
  ASSERT_TRUE(m.has_value());
  EXPECT_EQ(m->payload, "before");
  try {
    ws.receive(5s);
    FAIL() << "a ping of 2^64 - 1 bytes was accepted";
  } catch (const TransportError& e) {
    EXPECT_NE(std::string(e.what()).find("invalid WebSocket frame length 18446744073709551615"),
              std::string::npos)
        << e.what();
  }
}

TEST(WebSocket, RefusedUpgradeAndWrongAcceptKeyAreErrors) {
  {
    Peer peer([](int fd, const std::string&) {
      write_all(fd, "HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n");
    });
    try {
      WebSocket ws(peer.url, "/ws", 2.0, 1 << 20);
      FAIL() << "connected through a 403";
    } catch (const TransportError& e) {
      EXPECT_NE(std::string(e.what()).find("upgrade refused: HTTP/1.1 403 Forbidden"),
                std::string::npos);
    }
  }
  {
    Peer peer([](int fd, const std::string&) {
      write_all(fd, "HTTP/1.1 101 Switching Protocols\r\nSec-WebSocket-Accept: bm9wZQ==\r\n\r\n");
    });
    EXPECT_THROW(WebSocket(peer.url, "/ws", 2.0, 1 << 20), TransportError);
  }
}

TEST(WebSocket, ACloseFrameOrAClosedSocketIsAnError) {
  Peer peer([](int fd, const std::string& head) {
    write_all(fd, upgrade_answer(head) + frame(0x1, "last") + frame(0x8, "\x03\xe8"));
  });
  WebSocket ws(peer.url, "/ws", 2.0, 1 << 20);
  auto m = ws.receive(5s);
  ASSERT_TRUE(m.has_value());
  EXPECT_EQ(m->payload, "last");
  EXPECT_THROW(ws.receive(5s), TransportError);
}

TEST(WebSocket, NothingListeningIsATransportError) {
  EXPECT_THROW(WebSocket("http://127.0.0.1:9", "/ws", 1.0, 1 << 20), TransportError);
}

}  // namespace
}  // namespace dw::comfy
