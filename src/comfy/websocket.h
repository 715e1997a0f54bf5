// A WebSocket client (RFC 6455) for ComfyUI's /ws: libcurl makes the TCP connection
// (CURLOPT_CONNECT_ONLY, with its connect timeout and name resolution), this class does the
// upgrade handshake and the framing. Client frames are masked; pings are answered; fragmented
// messages are reassembled; a message larger than the cap closes the connection with an error
// before it is buffered. Not thread-safe: one thread owns a socket.
#pragma once

#include <chrono>
#include <cstddef>
#include <optional>
#include <stop_token>
#include <string>
#include <string_view>

#include "comfy/http.h"

namespace dw::comfy {

struct WsMessage {
  bool binary = false;
  std::string payload;
};

// The frame layer of RFC 6455 as a pure function of received bytes, for the client below and for
// the fuzz harness. Lengths are checked before anything is buffered and without overflow (a
// 64-bit length with its top bit set is invalid, and the cap is compared without adding to the
// length); control frames must be final and at most 125 bytes; a fragmented message is capped as
// a whole. Anything else a server sends that breaks these rules throws TransportError.
class WsFrameReader {
 public:
  WsFrameReader(std::string what, std::size_t max_message_bytes)
      : what_(std::move(what)), max_message_(max_message_bytes) {}

  struct Step {
    std::size_t consumed = 0;          // bytes of the input used; 0: the next frame is incomplete
    std::size_t need = 0;              // when incomplete: the bytes that frame needs in all
    std::optional<WsMessage> message;  // a complete data message
    std::optional<std::string> ping;   // a ping's payload, to be answered with a pong
  };
  // Reads the frame at the start of `bytes`.
  Step next(std::string_view bytes);

 private:
  std::string what_;
  std::size_t max_message_;
  std::string partial_;  // a fragmented message being reassembled
  bool partial_binary_ = false;
  bool in_fragment_ = false;
};

class WebSocket {
 public:
  // Connects to `base_url` (http://host:port) and upgrades `path` ("/ws?clientId=..."). Throws
  // TransportError when the server cannot be reached or refuses the upgrade, dw::Cancelled when
  // `stop` is requested meanwhile.
  WebSocket(const std::string& base_url, const std::string& path, double connect_timeout_s,
            std::size_t max_message_bytes, std::stop_token stop = {});
  ~WebSocket();
  WebSocket(const WebSocket&) = delete;
  WebSocket& operator=(const WebSocket&) = delete;

  // The next complete message, or nullopt when none arrived within `timeout`. Throws
  // TransportError when the connection is closed or broken.
  std::optional<WsMessage> receive(std::chrono::milliseconds timeout);
  void send_text(std::string_view text);
  // Sends a ping (the server's WebSocket layer answers it with a pong, whatever else it is busy
  // with), and when the server last sent anything at all: a frame, a pong, part of an image. A
  // server that sends nothing while pinged does not run (stopped, swapping, its loop blocked).
  void ping();
  std::chrono::steady_clock::time_point heard() const { return heard_; }

 private:
  void send_frame(int opcode, std::string_view payload);
  void send_all(std::string_view bytes);
  // Reads what is available into buf_, waiting up to `timeout`; false on timeout.
  bool fill(std::chrono::milliseconds timeout);
  std::optional<WsMessage> parse_one();

  void* curl_ = nullptr;  // CURL*
  int socket_ = -1;
  std::string url_;
  // Received bytes live in buf_[pos_, size_); buf_.size() is the capacity, grown (and zeroed)
  // only when a frame needs more, so a large image frame is read straight into place.
  std::string buf_;
  std::size_t pos_ = 0;
  std::size_t size_ = 0;
  std::size_t want_ = 0;  // bytes from pos_ that the frame being parsed needs
  std::chrono::steady_clock::time_point heard_ = std::chrono::steady_clock::now();
  bool eof_ = false;  // the peer closed its side; buffered bytes are still parsed
  WsFrameReader reader_;
};

}  // namespace dw::comfy
