// HTTP for the ComfyUI client: one libcurl easy handle per HttpClient (one per thread), kept
// alive across requests, with connect and total timeouts, a cap on every response body, and a
// stop token that aborts a transfer in progress.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <span>
#include <stop_token>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.h"

namespace dw::comfy {

// The server could not be reached, the connection broke, or a timeout or size cap was hit:
// worth retrying later. The message names the URL.
class TransportError : public Error {
 public:
  using Error::Error;
};

struct HttpOptions {
  double connect_timeout_s = 3.0;
  double total_timeout_s = 60.0;
  std::size_t max_response_bytes = 64u << 20;
};

struct HttpResponse {
  long status = 0;
  std::string body;
  std::string content_type;
  bool truncated = false;  // get_streamed: the body held only its first `keep` bytes
  bool ok() const { return status >= 200 && status < 300; }
};

struct FormPart {
  std::string name;
  std::string_view value;  // the bytes of a file part, or the text of a field (copied by libcurl)
  std::string filename;    // non-empty: a file part
  std::string content_type;
};

class HttpClient {
 public:
  explicit HttpClient(HttpOptions options);
  ~HttpClient();
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  // A stop request aborts the transfer in progress (within libcurl's progress interval) with
  // dw::Cancelled.
  void set_stop_token(std::stop_token stop) { stop_ = std::move(stop); }
  // While set, the flag turning true aborts the transfer in progress the same way (a request
  // nobody waits for any more); nullptr: none.
  void set_abandon_flag(const std::atomic<bool>* flag) { abandon_ = flag; }
  bool should_abort() const { return stop_.stop_requested() || (abandon_ && abandon_->load()); }
  const HttpOptions& options() const { return options_; }
  void set_total_timeout(double seconds) { options_.total_timeout_s = seconds; }

  // Each throws TransportError when no HTTP answer came back; any HTTP status is returned.
  HttpResponse get(const std::string& url);
  HttpResponse post_json(const std::string& url, std::string_view json);
  HttpResponse post_form(const std::string& url, const std::vector<FormPart>& parts);
  // A GET whose body is handed to `sink` piece by piece as it arrives, of any length (no cap: the
  // caller keeps what it needs of it); the response holds its first `keep` bytes, and `truncated`
  // says whether that was all of it.
  using BodySink = std::function<void(std::string_view)>;
  HttpResponse get_streamed(const std::string& url, const BodySink& sink, std::size_t keep);

  struct Transfer;                      // one request's state (libcurl's callbacks see it)
  void* curl() const { return curl_; }  // CURL*, for those callbacks

 private:
  HttpResponse perform(const std::string& url, Transfer& transfer);

  HttpOptions options_;
  void* curl_ = nullptr;  // CURL*
  std::stop_token stop_;
  const std::atomic<bool>* abandon_ = nullptr;
};

// "%XX"-escapes everything but unreserved characters (RFC 3986).
std::string url_escape(std::string_view text);
// "http://host:8188/" -> "http://host:8188" (no trailing slash); throws InputError when the URL
// is not http(s)://host[:port][/path].
std::string normalise_base_url(const std::string& url);

}  // namespace dw::comfy
