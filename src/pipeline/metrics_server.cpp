#include "pipeline/metrics_server.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <string_view>

#include "core/error.h"
#include "remote/http_server.h"

namespace dw::pipeline {

MetricsServer::MetricsServer(std::uint16_t port, std::function<std::string()> render)
    : render_(std::move(render)) {
  remote::HttpLimits limits;
  limits.threads = kThreads;
  limits.max_body_bytes = 8192;
  try {
    server_ = std::make_unique<remote::HttpServer>("127.0.0.1", port, limits);
  } catch (const Error& e) {
    throw Error(fmt::format("metrics endpoint: {}", e.what()));
  }
  httplib::Server& routes = server_->routes();
  routes.Get("/metrics", [this](const httplib::Request&, httplib::Response& res) {
    res.set_content(render_(), "text/plain; version=0.0.4; charset=utf-8");
    ++served_;
  });
  routes.set_error_handler([](const httplib::Request& req, httplib::Response& res) {
    if (req.method != "GET" && req.method != "HEAD") {
      res.status = 405;
      res.set_header("Allow", "GET");
      res.set_content("GET only\n", "text/plain");
    } else if (res.body.empty()) {
      res.set_content("only /metrics is served here\n", "text/plain");
    }
  });
  server_->start([this](std::string_view retried) {
    spdlog::info("status: Prometheus metrics at http://127.0.0.1:{}/metrics{}", server_->port(),
                 retried);
  });
}

MetricsServer::~MetricsServer() = default;

std::uint16_t MetricsServer::port() const {
  return server_->port();
}

}  // namespace dw::pipeline
