#include "remote/http_api.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <nlohmann/json.hpp>

#include "core/params.h"
#include "core/text.h"
#include "remote/http_parse.h"
#include "remote/http_server.h"

namespace dw::remote {
namespace {

constexpr std::string_view kJson = "application/json";

std::string json_text(const nlohmann::json& j) {
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

void answer_error(httplib::Response& res, int status, std::string_view error) {
  res.status = status;
  res.set_content(json_text({{"error", printable_text(error, 2000)}}), std::string(kJson));
}

// The default text of an error httplib answered itself (a body over the cap, a bad request).
std::string_view default_error(int status) {
  switch (status) {
    case 400:
      return "malformed request";
    case 404:
      return "no such path";
    case 413:
      return "request body too large";
    case 414:
      return "request target too long";
    default:
      return "request refused";
  }
}

// "event: status" with each line of the JSON as a data line (SSE data lines hold no newline).
std::string status_event(std::string_view json) {
  std::string out = "event: status\n";
  std::size_t start = 0;
  while (start <= json.size()) {
    const std::size_t end = std::min(json.find('\n', start), json.size());
    out += "data: ";
    out.append(json.substr(start, end - start));
    out += '\n';
    start = end + 1;
  }
  return out + '\n';
}

}  // namespace

HttpApi::HttpApi(HttpApiOptions options, ParamEditor& editor, ActionTable& actions)
    : options_(std::move(options)), editor_(editor), actions_(actions) {
  HttpLimits limits;
  limits.threads = std::max<std::size_t>(options_.max_clients, 2);
  limits.max_body_bytes = options_.max_body_bytes;
  server_ = std::make_unique<HttpServer>(options_.address, options_.port, limits);
  httplib::Server& routes = server_->routes();
  routes.set_pre_routing_handler([this](const Request& req, Response& res) {
    ++requests_;
    return admit(req, res) ? httplib::Server::HandlerResponse::Unhandled
                           : httplib::Server::HandlerResponse::Handled;
  });
  const auto handler = [this](const Request& req, Response& res) { dispatch(req, res); };
  routes.Get(".*", handler);
  routes.Put(".*", handler);
  routes.Post(".*", handler);
  routes.set_error_handler([](const Request&, Response& res) {
    if (res.body.empty()) answer_error(res, res.status, default_error(res.status));
  });
  routes.set_exception_handler([](const Request&, Response& res, std::exception_ptr e) {
    std::string what = "internal error";
    try {
      if (e) std::rethrow_exception(e);
    } catch (const std::exception& ex) {
      what = ex.what();
    } catch (...) {
    }
    answer_error(res, 500, what);
  });
  server_->start([this](std::string_view retried) {
    if (options_.on_listening) options_.on_listening(url(), retried);
  });
}

HttpApi::~HttpApi() {
  stop();
}

void HttpApi::stop() {
  {
    std::lock_guard lock(tick_mutex_);
    stopping_ = true;
  }
  tick_.notify_all();
  if (server_) server_->stop();
}

std::uint16_t HttpApi::port() const {
  return server_->port();
}

bool HttpApi::listening() const {
  return server_->listening();
}

std::uint64_t HttpApi::relistens() const {
  return server_->relistens();
}

std::string HttpApi::waiting_to_bind() const {
  return server_->waiting_to_bind();
}

std::string HttpApi::url() const {
  const std::string& a = options_.address;
  const bool v6 = a.find(':') != std::string::npos;
  return fmt::format("http://{}{}{}:{}", v6 ? "[" : "", a, v6 ? "]" : "", port());
}

std::size_t HttpApi::max_event_clients() const {
  return std::max<std::size_t>(options_.max_clients / 2, 1);
}

void HttpApi::attach_status(StatusSource source) {
  std::unique_lock lock(status_mutex_);
  status_ = std::move(source);
}

void HttpApi::detach_status() {
  std::unique_lock lock(status_mutex_);
  status_ = {};
}

bool HttpApi::admit(const Request& req, Response& res) {
  const Route route = route_request(req.method, req.path);
  const bool page = route.endpoint == Endpoint::Page;
  if (token_required() && !page) {
    const auto given = bearer_token(req.get_header_value("Authorization"));
    if (!given || !tokens_equal(*given, options_.token)) {
      res.set_header("WWW-Authenticate", "Bearer realm=\"dreamwindow\"");
      answer_error(
          res, 401,
          given ? "wrong token" : "this remote needs its token: Authorization: Bearer ...");
      return false;
    }
  } else if (!token_required() && !loopback_host(req.get_header_value("Host"))) {
    answer_error(res, 403, "without a token the remote answers only to 127.0.0.1 or localhost");
    return false;
  }
  if (req.method != "GET" && req.method != "HEAD" &&
      !origin_matches_host(req.get_header_value("Origin"), req.get_header_value("Host"))) {
    answer_error(res, 403, "requests from another site's page are refused");
    return false;
  }
  if (route.status != 200) {
    if (!route.allow.empty()) res.set_header("Allow", route.allow);
    answer_error(res, route.status, route.error);
    return false;
  }
  return true;
}

void HttpApi::dispatch(const Request& req, Response& res) {
  const Route route = route_request(req.method, req.path);
  res.set_header("Cache-Control", "no-store");
  switch (route.endpoint) {
    case Endpoint::Page:
      // img-src data: for the page's inline icon (a data: URL, so no /favicon.ico 404).
      res.set_header("Content-Security-Policy",
                     "default-src 'self'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; "
                     "img-src 'self' data:");
      res.set_content(options_.page, "text/html; charset=utf-8");
      return;
    case Endpoint::Metrics:
      return serve_status(true, res);
    case Endpoint::Status:
      return serve_status(false, res);
    case Endpoint::Events:
      return serve_events(res);
    case Endpoint::Params:
      res.set_content(params_json(editor_), std::string(kJson));
      return;
    case Endpoint::Param:
      if (req.method == "PUT") return put_param(route, req, res);
      return get_param(route, res);
    case Endpoint::Actions: {
      nlohmann::json list = nlohmann::json::array();
      for (const ActionInfo& a : actions_.list())
        list.push_back({{"name", a.name}, {"help", a.help}});
      res.set_content(json_text({{"actions", list}}), std::string(kJson));
      return;
    }
    case Endpoint::Action:
      return post_action(route, res);
    case Endpoint::None:
      break;
  }
  answer_error(res, route.status == 200 ? 404 : route.status, route.error);
}

void HttpApi::get_param(const Route& route, Response& res) {
  if (!find_param(route.arg))
    return answer_error(res, 404, fmt::format("unknown parameter '{}'", route.arg));
  res.set_content(param_json(route.arg, editor_), std::string(kJson));
}

void HttpApi::put_param(const Route& route, const Request& req, Response& res) {
  if (!find_param(route.arg))
    return answer_error(res, 404, fmt::format("unknown parameter '{}'", route.arg));
  const BodyValue value = parse_value_body(req.body, req.get_header_value("Content-Type"));
  if (!value.ok) return answer_error(res, 400, fmt::format("{}: {}", route.arg, value.error));
  const EditOutcome outcome = editor_.edit(route.arg, value.text);
  if (!outcome.ok) return answer_error(res, 400, outcome.error);
  spdlog::info("remote: {} = {}{}", route.arg, printable_text(value.text, 120),
               outcome.pending_restart ? " (after a restart)" : "");
  res.set_content(param_json(route.arg, editor_), std::string(kJson));
}

void HttpApi::post_action(const Route& route, Response& res) {
  if (!actions_.contains(route.arg))
    return answer_error(res, 404, actions_.run(route.arg).message);  // names the known ones
  const ActionResult result = actions_.run(route.arg);
  if (!result.ok) return answer_error(res, 500, result.message);
  spdlog::info("remote: action {}: {}", route.arg, printable_text(result.message, 200));
  res.set_content(json_text({{"action", route.arg}, {"ok", true}, {"message", result.message}}),
                  std::string(kJson));
}

std::optional<std::string> HttpApi::status_text(bool prometheus) {
  std::shared_lock lock(status_mutex_);
  const auto& render = prometheus ? status_.prometheus : status_.json;
  if (!render) return std::nullopt;
  return render();
}

void HttpApi::serve_status(bool prometheus, Response& res) {
  auto text = status_text(prometheus);
  if (!text) return answer_error(res, 503, "status is not available yet (starting or stopping)");
  if (prometheus)
    res.set_content(*text, "text/plain; version=0.0.4; charset=utf-8");
  else
    res.set_content(*text, std::string(kJson));
}

bool HttpApi::wait_tick() {
  std::unique_lock lock(tick_mutex_);
  tick_.wait_for(lock, options_.event_interval, [this] { return stopping_; });
  return !stopping_;
}

void HttpApi::serve_events(Response& res) {
  if (event_clients_.fetch_add(1) >= max_event_clients()) {
    --event_clients_;
    return answer_error(res, 503,
                        fmt::format("{} live status streams are open already; poll /api/status",
                                    max_event_clients()));
  }
  res.set_header("X-Accel-Buffering", "no");
  res.set_chunked_content_provider(
      "text/event-stream",
      [this, first = true](std::size_t, httplib::DataSink& sink) mutable {
        if (!first && !wait_tick()) {
          sink.done();
          return true;
        }
        first = false;
        const auto text = status_text(false);
        const std::string event = text ? status_event(*text) : std::string(": starting\n\n");
        return sink.write(event.data(), event.size());
      },
      [this](bool) { --event_clients_; });
}

}  // namespace dw::remote
