#include "comfy/websocket.h"

#include <curl/curl.h>
#include <fmt/format.h>
#include <openssl/evp.h>
#include <openssl/sha.h>
#include <poll.h>

#include <array>
#include <cstring>
#include <random>

namespace dw::comfy {
namespace {

using Clock = std::chrono::steady_clock;

CURL* handle(void* p) {
  return static_cast<CURL*>(p);
}

int stop_requested(void* user, curl_off_t, curl_off_t, curl_off_t, curl_off_t) {
  return static_cast<std::stop_token*>(user)->stop_requested() ? 1 : 0;
}

std::string base64(const unsigned char* data, std::size_t n) {
  std::string out(4 * ((n + 2) / 3) + 1, '\0');
  const int len =
      EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()), data, static_cast<int>(n));
  out.resize(static_cast<std::size_t>(len));
  return out;
}

std::string accept_for(const std::string& key) {
  const std::string text = key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
  unsigned char digest[SHA_DIGEST_LENGTH];
  SHA1(reinterpret_cast<const unsigned char*>(text.data()), text.size(), digest);
  return base64(digest, sizeof digest);
}

std::mt19937_64& rng() {
  thread_local std::mt19937_64 r{std::random_device{}()};
  return r;
}

// Case-insensitive search for a header line "name: value" in the response head.
std::string header_value(std::string_view head, std::string_view name) {
  std::size_t pos = 0;
  while ((pos = head.find("\r\n", pos)) != std::string_view::npos) {
    pos += 2;
    const std::size_t end = head.find("\r\n", pos);
    const std::string_view line = head.substr(pos, end == std::string_view::npos ? end : end - pos);
    if (line.size() > name.size() && line[name.size()] == ':' &&
        std::equal(name.begin(), name.end(), line.begin(),
                   [](char a, char b) { return std::tolower(a) == std::tolower(b); })) {
      std::string_view v = line.substr(name.size() + 1);
      while (!v.empty() && v.front() == ' ') v.remove_prefix(1);
      while (!v.empty() && v.back() == ' ') v.remove_suffix(1);
      return std::string(v);
    }
  }
  return {};
}

}  // namespace

WebSocket::WebSocket(const std::string& base_url, const std::string& path, double connect_timeout_s,
                     std::size_t max_message_bytes, std::stop_token stop)
    : url_(base_url + path), reader_(url_, max_message_bytes) {
  curl_ = curl_easy_init();
  if (!curl_) throw Error("curl_easy_init failed");
  CURL* c = handle(curl_);
  curl_easy_setopt(c, CURLOPT_URL, base_url.c_str());
  curl_easy_setopt(c, CURLOPT_CONNECT_ONLY, 1L);
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(c, CURLOPT_TCP_NODELAY, 1L);
  curl_easy_setopt(c, CURLOPT_TCP_KEEPALIVE, 1L);
  curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(connect_timeout_s * 1000));
  curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
  curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, &stop_requested);
  curl_easy_setopt(c, CURLOPT_XFERINFODATA, &stop);
  const CURLcode rc = curl_easy_perform(c);
  curl_easy_setopt(c, CURLOPT_NOPROGRESS, 1L);  // `stop` lives only as long as this constructor
  if (rc != CURLE_OK) {
    curl_easy_cleanup(c);
    if (rc == CURLE_ABORTED_BY_CALLBACK) throw Cancelled(url_ + ": connect cancelled");
    throw TransportError(fmt::format("{}: {}", url_, curl_easy_strerror(rc)));
  }
  curl_socket_t s = CURL_SOCKET_BAD;
  curl_easy_getinfo(c, CURLINFO_ACTIVESOCKET, &s);
  socket_ = static_cast<int>(s);

  // The handshake: Host is the authority part of the base URL.
  const std::size_t authority = base_url.find("://") + 3;
  const std::string host = base_url.substr(authority, base_url.find('/', authority) - authority);
  std::array<unsigned char, 16> nonce{};
  for (auto& b : nonce) b = static_cast<unsigned char>(rng()());
  const std::string key = base64(nonce.data(), nonce.size());
  try {
    send_all(
        fmt::format("GET {} HTTP/1.1\r\nHost: {}\r\nUpgrade: websocket\r\nConnection: Upgrade"
                    "\r\nSec-WebSocket-Key: {}\r\nSec-WebSocket-Version: 13\r\n\r\n",
                    path, host, key));
    const auto deadline =
        Clock::now() +
        std::chrono::milliseconds(static_cast<long long>(connect_timeout_s * 1000) + 1000);
    std::size_t head_end;
    while ((head_end = std::string_view(buf_.data(), size_).find("\r\n\r\n")) ==
           std::string::npos) {
      if (size_ > 16384) throw TransportError(url_ + ": the upgrade answer is too long");
      if (stop.stop_requested()) throw Cancelled(url_ + ": upgrade cancelled");
      const auto left =
          std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
      if (left.count() <= 0) throw TransportError(url_ + ": no answer to the WebSocket upgrade");
      fill(std::min(left, std::chrono::milliseconds(100)));
    }
    const std::string head = buf_.substr(0, head_end);
    if (head.rfind("HTTP/1.1 101", 0) != 0)
      throw TransportError(
          fmt::format("{}: upgrade refused: {}", url_, head.substr(0, head.find('\r'))));
    if (header_value(head, "Sec-WebSocket-Accept") != accept_for(key))
      throw TransportError(url_ + ": the server's Sec-WebSocket-Accept does not match our key");
    pos_ = head_end + 4;
  } catch (...) {
    curl_easy_cleanup(c);
    throw;
  }
}

WebSocket::~WebSocket() {
  if (!curl_) return;
  try {
    send_frame(0x8, std::string_view("\x03\xe8", 2));  // close, 1000 normal
  } catch (const std::exception&) {
    // the peer is gone already
  }
  curl_easy_cleanup(handle(curl_));
}

void WebSocket::send_all(std::string_view bytes) {
  while (!bytes.empty()) {
    std::size_t sent = 0;
    const CURLcode rc = curl_easy_send(handle(curl_), bytes.data(), bytes.size(), &sent);
    if (rc == CURLE_AGAIN) {
      pollfd p{socket_, POLLOUT, 0};
      if (poll(&p, 1, 5000) <= 0) throw TransportError(url_ + ": send timed out");
      continue;
    }
    if (rc != CURLE_OK) throw TransportError(fmt::format("{}: {}", url_, curl_easy_strerror(rc)));
    bytes.remove_prefix(sent);
  }
}

void WebSocket::send_frame(int opcode, std::string_view payload) {
  std::string frame;
  frame.reserve(payload.size() + 14);
  frame.push_back(static_cast<char>(0x80 | opcode));
  const std::size_t n = payload.size();
  if (n < 126) {
    frame.push_back(static_cast<char>(0x80 | n));
  } else if (n < 65536) {
    frame.push_back(static_cast<char>(0x80 | 126));
    frame.push_back(static_cast<char>(n >> 8));
    frame.push_back(static_cast<char>(n & 0xFF));
  } else {
    frame.push_back(static_cast<char>(0x80 | 127));
    for (int i = 7; i >= 0; --i) frame.push_back(static_cast<char>((n >> (8 * i)) & 0xFF));
  }
  const std::uint32_t mask = static_cast<std::uint32_t>(rng()());
  char key[4];
  std::memcpy(key, &mask, 4);
  frame.append(key, 4);
  for (std::size_t i = 0; i < n; ++i) frame.push_back(static_cast<char>(payload[i] ^ key[i & 3]));
  send_all(frame);
}

void WebSocket::send_text(std::string_view text) {
  send_frame(0x1, text);
}

bool WebSocket::fill(std::chrono::milliseconds timeout) {
  if (eof_) throw TransportError(url_ + ": the server closed the connection");
  if (pos_ > 0 && (pos_ == size_ || pos_ >= size_ / 2)) {  // move the unparsed tail to the front
    std::memmove(buf_.data(), buf_.data() + pos_, size_ - pos_);
    size_ -= pos_;
    pos_ = 0;
  }
  // After a large frame the buffer is given back once it is empty: a server that sent one image
  // of many MB does not keep that much memory taken for the rest of the connection.
  if (size_ == 0 && want_ <= 65536 && buf_.size() > (8u << 20)) std::string().swap(buf_);
  const std::size_t need = std::max<std::size_t>(pos_ + want_, size_ + 65536);
  if (buf_.size() < need) buf_.resize(std::max(need, buf_.size() * 2));
  pollfd p{socket_, POLLIN, 0};
  const int ready = poll(&p, 1, static_cast<int>(std::max<long long>(0, timeout.count())));
  if (ready < 0) throw TransportError(fmt::format("{}: poll: {}", url_, std::strerror(errno)));
  if (ready == 0) return false;
  bool got = false;
  while (size_ < buf_.size()) {
    std::size_t n = 0;
    const CURLcode rc = curl_easy_recv(handle(curl_), buf_.data() + size_, buf_.size() - size_, &n);
    if (rc == CURLE_AGAIN) return got;
    if (rc != CURLE_OK) throw TransportError(fmt::format("{}: {}", url_, curl_easy_strerror(rc)));
    if (n == 0) {  // end of stream: what arrived before it is still parsed first
      eof_ = true;
      if (got) return true;
      throw TransportError(url_ + ": the server closed the connection");
    }
    size_ += n;
    got = true;
    heard_ = std::chrono::steady_clock::now();
  }
  return got;
}

WsFrameReader::Step WsFrameReader::next(std::string_view bytes) {
  Step step;
  if (bytes.size() < 2) {
    step.need = 2;
    return step;
  }
  const auto* b = reinterpret_cast<const unsigned char*>(bytes.data());
  const bool fin = (b[0] & 0x80) != 0;
  const int opcode = b[0] & 0x0F;
  const bool masked = (b[1] & 0x80) != 0;
  std::uint64_t len = b[1] & 0x7F;
  std::size_t header = 2;
  if (len == 126) {
    header = 4;
  } else if (len == 127) {
    header = 10;
  }
  if (masked) header += 4;
  if (bytes.size() < header) {
    step.need = header;
    return step;
  }
  if (len == 126) {
    len = (std::uint64_t{b[2]} << 8) | b[3];
  } else if (len == 127) {
    len = 0;
    for (int i = 0; i < 8; ++i) len = (len << 8) | b[2 + i];
    if (len >> 63)
      throw TransportError(fmt::format("{}: invalid WebSocket frame length {}", what_, len));
  }
  if ((b[0] & 0x70) != 0)
    throw TransportError(what_ +
                         ": a WebSocket frame with reserved bits set (no extension agreed)");
  const bool control = (opcode & 0x8) != 0;
  if (control && (!fin || len > 125))
    throw TransportError(
        fmt::format("{}: an invalid WebSocket control frame (opcode {}, {} bytes{})", what_, opcode,
                    len, fin ? "" : ", fragmented"));
  // Compared without adding to `len`: a length near 2^64 must not wrap around the cap.
  const std::size_t held = control ? 0 : partial_.size();
  if (len > max_message_ || held > max_message_ - len)
    throw TransportError(fmt::format("{}: a {} byte message exceeds the limit of {} bytes", what_,
                                     len, max_message_));
  const std::size_t size = static_cast<std::size_t>(len);
  if (bytes.size() - header < size) {
    step.need = header + size;
    return step;
  }
  step.consumed = header + size;
  std::string_view payload = bytes.substr(header, size);
  std::string unmasked;
  if (masked) {  // servers must not mask, but tolerate it
    unmasked.assign(payload);
    const char* key = bytes.data() + header - 4;
    for (std::size_t i = 0; i < unmasked.size(); ++i) unmasked[i] ^= key[i & 3];
    payload = unmasked;
  }
  switch (opcode) {
    case 0x8:
      throw TransportError(what_ + ": the server closed the WebSocket");
    case 0x9:
      step.ping.emplace(payload);
      return step;
    case 0xA:
      return step;
    case 0x0:
      if (!in_fragment_) throw TransportError(what_ + ": continuation frame without a start");
      partial_.append(payload);
      if (!fin) return step;
      in_fragment_ = false;
      step.message = WsMessage{partial_binary_, std::move(partial_)};
      partial_.clear();
      return step;
    case 0x1:
    case 0x2:
      if (in_fragment_) throw TransportError(what_ + ": new message inside a fragmented one");
      if (!fin) {
        in_fragment_ = true;
        partial_binary_ = opcode == 0x2;
        partial_.assign(payload);
        return step;
      }
      step.message = WsMessage{opcode == 0x2, std::string(payload)};
      return step;
    default:
      throw TransportError(fmt::format("{}: unknown WebSocket opcode {}", what_, opcode));
  }
}

std::optional<WsMessage> WebSocket::parse_one() {
  for (;;) {
    WsFrameReader::Step step = reader_.next(std::string_view(buf_).substr(pos_, size_ - pos_));
    if (step.consumed == 0) {
      want_ = step.need;
      return std::nullopt;
    }
    want_ = 0;
    pos_ += step.consumed;
    if (step.ping) send_frame(0xA, *step.ping);
    if (step.message) return std::move(step.message);
  }
}

void WebSocket::ping() {
  send_frame(0x9, "dreamwindow");
}

std::optional<WsMessage> WebSocket::receive(std::chrono::milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  for (;;) {
    if (auto m = parse_one()) return m;
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    if (left.count() <= 0) return std::nullopt;
    fill(left);
  }
}

}  // namespace dw::comfy
