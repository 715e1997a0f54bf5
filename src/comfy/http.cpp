#include "comfy/http.h"

#include <curl/curl.h>
#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <mutex>

namespace dw::comfy {
namespace {

void global_init() {
  static std::once_flag once;
  std::call_once(once, [] {
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
      throw Error("libcurl failed to initialise");
  });
}

CURL* handle(void* p) {
  return static_cast<CURL*>(p);
}

}  // namespace

struct HttpClient::Transfer {
  HttpClient* self = nullptr;
  bool sized = false;  // the body's capacity was set from Content-Length
  HttpResponse response;
  bool over_cap = false;
  const HttpClient::BodySink* sink = nullptr;  // get_streamed: every piece goes here
  std::size_t keep = 0;                        // get_streamed: how much of the body to hold
  bool sink_failed = false;
  curl_slist* headers = nullptr;
  curl_mime* mime = nullptr;
  ~Transfer() {
    if (headers) curl_slist_free_all(headers);
    if (mime) curl_mime_free(mime);
  }
};

namespace {

std::size_t on_body(char* data, std::size_t size, std::size_t count, void* user) {
  auto* t = static_cast<HttpClient::Transfer*>(user);
  const std::size_t n = size * count;
  if (t->sink) {
    try {
      (*t->sink)(std::string_view(data, n));
    } catch (const std::exception&) {
      t->sink_failed = true;
      return 0;  // aborts the transfer
    }
    const std::size_t room = t->keep - std::min(t->keep, t->response.body.size());
    t->response.body.append(data, std::min(n, room));
    t->response.truncated = t->response.truncated || n > room;
    return n;
  }
  const std::size_t cap = t->self->options().max_response_bytes;
  if (t->response.body.size() + n > cap) {
    t->over_cap = true;
    return 0;  // aborts the transfer
  }
  if (!t->sized) {  // one allocation of the announced size (within the cap), not repeated doubling
    t->sized = true;
    curl_off_t length = -1;
    if (curl_easy_getinfo(handle(t->self->curl()), CURLINFO_CONTENT_LENGTH_DOWNLOAD_T, &length) ==
            CURLE_OK &&
        length > 0 && static_cast<std::uint64_t>(length) <= cap)
      t->response.body.reserve(static_cast<std::size_t>(length));
  }
  t->response.body.append(data, n);
  return n;
}

int on_progress(void* user, curl_off_t, curl_off_t, curl_off_t, curl_off_t) {
  return static_cast<const HttpClient*>(user)->should_abort() ? 1 : 0;
}

}  // namespace

HttpClient::HttpClient(HttpOptions options) : options_(options) {
  global_init();
  curl_ = curl_easy_init();
  if (!curl_) throw Error("curl_easy_init failed");
  CURL* c = handle(curl_);
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(c, CURLOPT_TCP_KEEPALIVE, 1L);
  curl_easy_setopt(c, CURLOPT_TCP_NODELAY, 1L);
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, &on_body);
  curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
  curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, &on_progress);
  curl_easy_setopt(c, CURLOPT_XFERINFODATA, this);
  curl_easy_setopt(c, CURLOPT_USERAGENT, "dreamwindow/0.1");
  // Only what we asked for: no redirects to other hosts, no other protocols.
  curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
  curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
}

HttpClient::~HttpClient() {
  if (curl_) curl_easy_cleanup(handle(curl_));
}

HttpResponse HttpClient::perform(const std::string& url, Transfer& transfer) {
  CURL* c = handle(curl_);
  transfer.self = this;
  curl_easy_setopt(c, CURLOPT_URL, url.c_str());
  curl_easy_setopt(c, CURLOPT_WRITEDATA, &transfer);
  curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS,
                   static_cast<long>(options_.connect_timeout_s * 1000.0));
  curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, static_cast<long>(options_.total_timeout_s * 1000.0));
  // "Expect: 100-continue" would cost a round trip (or a second) on every upload.
  transfer.headers = curl_slist_append(transfer.headers, "Expect:");
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, transfer.headers);
  const CURLcode rc = curl_easy_perform(c);
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, nullptr);
  curl_easy_setopt(c, CURLOPT_MIMEPOST, nullptr);
  if (rc == CURLE_ABORTED_BY_CALLBACK) throw Cancelled("request to " + url + " cancelled");
  if (transfer.sink_failed)
    throw TransportError(fmt::format("{}: the answer could not be read (out of memory?)", url));
  if (transfer.over_cap)
    throw TransportError(fmt::format("{}: the answer exceeds the limit of {} bytes", url,
                                     options_.max_response_bytes));
  if (rc != CURLE_OK) throw TransportError(fmt::format("{}: {}", url, curl_easy_strerror(rc)));
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &transfer.response.status);
  const char* type = nullptr;
  if (curl_easy_getinfo(c, CURLINFO_CONTENT_TYPE, &type) == CURLE_OK && type)
    transfer.response.content_type = type;
  return std::move(transfer.response);
}

HttpResponse HttpClient::get(const std::string& url) {
  curl_easy_setopt(handle(curl_), CURLOPT_HTTPGET, 1L);
  Transfer t;
  return perform(url, t);
}

HttpResponse HttpClient::get_streamed(const std::string& url, const BodySink& sink,
                                      std::size_t keep) {
  curl_easy_setopt(handle(curl_), CURLOPT_HTTPGET, 1L);
  Transfer t;
  t.sink = &sink;
  t.keep = keep;
  return perform(url, t);
}

HttpResponse HttpClient::post_json(const std::string& url, std::string_view json) {
  CURL* c = handle(curl_);
  Transfer t;
  t.headers = curl_slist_append(t.headers, "Content-Type: application/json");
  curl_easy_setopt(c, CURLOPT_POST, 1L);
  curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(json.size()));
  curl_easy_setopt(c, CURLOPT_POSTFIELDS, json.data());
  return perform(url, t);
}

HttpResponse HttpClient::post_form(const std::string& url, const std::vector<FormPart>& parts) {
  CURL* c = handle(curl_);
  Transfer t;
  t.mime = curl_mime_init(c);
  for (const FormPart& p : parts) {
    curl_mimepart* part = curl_mime_addpart(t.mime);
    curl_mime_name(part, p.name.c_str());
    curl_mime_data(part, p.value.data(), p.value.size());
    if (!p.filename.empty()) curl_mime_filename(part, p.filename.c_str());
    if (!p.content_type.empty()) curl_mime_type(part, p.content_type.c_str());
  }
  curl_easy_setopt(c, CURLOPT_MIMEPOST, t.mime);
  return perform(url, t);
}

std::string url_escape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (const char ch : text) {
    const auto u = static_cast<unsigned char>(ch);
    if (std::isalnum(u) || ch == '-' || ch == '_' || ch == '.' || ch == '~')
      out.push_back(ch);
    else
      out += fmt::format("%{:02X}", u);
  }
  return out;
}

std::string normalise_base_url(const std::string& url) {
  std::string u = url;
  while (!u.empty() && u.back() == '/') u.pop_back();
  const auto scheme = u.find("://");
  const std::string_view s =
      scheme == std::string::npos ? "" : std::string_view(u).substr(0, scheme);
  if ((s != "http" && s != "https") || u.size() <= scheme + 3)
    throw InputError(
        fmt::format("comfy.urls: '{}' is not an http:// or https:// server address "
                    "(e.g. http://127.0.0.1:8188)",
                    url));
  return u;
}

}  // namespace dw::comfy
