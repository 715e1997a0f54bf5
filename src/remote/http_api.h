// The web remote's HTTP API (cpp-httplib, on remote/http_server.h's limits):
//   GET  /                      the web page (assets/remote/index.html)
//   GET  /metrics               Prometheus text;  GET /api/status: the metrics table as JSON
//   GET  /api/events            server-sent events: the status every interval
//   GET  /api/params            every parameter-table row with value, default, range, pending,
//                               and config_version (status's control.config_version) as read
//                               before the rows (they are at least that new)
//   GET|PUT /api/params/{key}   one row; PUT {"value": V} or plain text, through the ParamEditor
//   GET  /api/actions           the ActionTable's actions;  POST /api/actions/{name} runs one
// Errors are JSON {"error": "..."}: 400 bad value (the config file's wording), 401 no or wrong
// token, 403 another site's page, 404, 405, 413 body over the cap, 503 not ready or too busy.
// With a token every request but the page needs "Authorization: Bearer <token>".
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <string>
#include <string_view>

#include "core/actions.h"
#include "core/param_editor.h"

namespace httplib {
struct Request;
struct Response;
}  // namespace httplib

namespace dw::remote {

class HttpServer;
struct Route;

struct HttpApiOptions {
  std::string address = "127.0.0.1";
  std::uint16_t port = 0;  // 0: a free port
  std::string token;       // empty: no token asked (loopback only)
  std::size_t max_clients = 8;
  std::size_t max_body_bytes = 64 * 1024;
  std::string page;  // the web page's HTML
  std::chrono::milliseconds event_interval{1000};
  // Called on the server's thread once it listens, with url() and "" or " after N s of retrying"
  // (a fixed port that could not be had at start: HttpServer tries it again).
  std::function<void(const std::string& url, std::string_view retried)> on_listening;
};

// What the running program reports; each returns the whole text of one answer.
struct StatusSource {
  std::function<std::string()> json;        // status.json's text
  std::function<std::string()> prometheus;  // /metrics's text
};

class HttpApi {
 public:
  // Binds and serves at once (params and actions; status once attached); a fixed port that cannot
  // be had yet is tried again meanwhile (waiting_to_bind()). Throws dw::Error naming the address
  // and port when it cannot listen and waiting cannot mend it.
  HttpApi(HttpApiOptions options, ParamEditor& editor, ActionTable& actions);
  ~HttpApi();
  HttpApi(const HttpApi&) = delete;
  HttpApi& operator=(const HttpApi&) = delete;

  // Until attached, the status endpoints answer 503. detach_status() waits for calls in flight.
  void attach_status(StatusSource source);
  void detach_status();
  void stop();

  std::uint16_t port() const;
  std::string url() const;  // "http://127.0.0.1:8420"
  bool token_required() const { return !options_.token.empty(); }
  std::uint64_t requests() const { return requests_.load(); }
  // The server's accept loop (remote/http_server.h): serving now, and how often it ended by
  // itself and was started again.
  bool listening() const;
  std::uint64_t relistens() const;
  // Why the socket is not bound yet while it is tried again; "" once bound.
  std::string waiting_to_bind() const;
  std::size_t max_event_clients() const;

 private:
  using Request = httplib::Request;
  using Response = httplib::Response;

  bool admit(const Request& req, Response& res);  // false: answered (401, 403, 404, 405)
  void dispatch(const Request& req, Response& res);
  void get_param(const Route& route, Response& res);
  void put_param(const Route& route, const Request& req, Response& res);
  void post_action(const Route& route, Response& res);
  void serve_status(bool prometheus, Response& res);
  void serve_events(Response& res);
  std::optional<std::string> status_text(bool prometheus);
  bool wait_tick();  // false when stopping

  HttpApiOptions options_;
  ParamEditor& editor_;
  ActionTable& actions_;
  std::shared_mutex status_mutex_;
  StatusSource status_;
  std::mutex tick_mutex_;
  std::condition_variable tick_;
  bool stopping_ = false;
  std::atomic<std::size_t> event_clients_{0};
  std::atomic<std::uint64_t> requests_{0};
  std::unique_ptr<HttpServer> server_;
};

// {"key", "section", "type", "apply", "value", "default", "min", "max" | "choices", "allowed",
// "help", "pending"} for one row, values typed as JSON (what GET /api/params lists).
std::string param_json(std::string_view key, const ParamEditor& editor);
std::string params_json(const ParamEditor& editor);

}  // namespace dw::remote
