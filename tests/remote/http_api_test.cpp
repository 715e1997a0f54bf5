// The web remote's HTTP contract, end to end over real sockets with cpp-httplib's client: every
// endpoint and every refusal a phone or a script can meet, and what each did to the running
// configuration and actions.
#include "remote/http_api.h"

#include <arpa/inet.h>
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <httplib.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <thread>

#include "core/config_store.h"
#include "core/error.h"
#include "core/params.h"
#include "support/test_support.h"

namespace dw::remote {
namespace {

using nlohmann::json;

struct Remote {
  explicit Remote(HttpApiOptions options = {})
      : store(default_config()), editor(store, scratch / "config.toml") {
    actions.add("test_ping", "counts a ping", [this] {
      ++pings;
      return ActionResult{true, "pinged"};
    });
    actions.add("test_fail", "always fails",
                []() -> ActionResult { throw std::runtime_error("the lamp is out"); });
    options.page = "<!doctype html><title>remote</title>";
    api = std::make_unique<HttpApi>(std::move(options), editor, actions);
  }
  httplib::Client client(const std::string& token = {}) const {
    httplib::Client c("127.0.0.1", api->port());
    c.set_read_timeout(std::chrono::seconds(20));
    if (!token.empty()) c.set_bearer_token_auth(token);
    return c;
  }

  test::ScratchDir scratch;
  ConfigStore store;
  ParamEditor editor;
  ActionTable actions;
  std::atomic<int> pings{0};
  std::unique_ptr<HttpApi> api;
};

json body_of(const httplib::Result& r) {
  return json::parse(r->body);
}

std::string error_of(const httplib::Result& r) {
  return body_of(r).at("error").get<std::string>();
}

TEST(HttpApi, ListsEveryParameterWithTypeRangeDefaultAndHelp) {
  Remote remote;
  auto r = remote.client().Get("/api/params");
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200);
  const json params = body_of(r).at("params");
  EXPECT_EQ(params.size(), param_table().size());
  const auto gamma = std::find_if(params.begin(), params.end(),
                                  [](const json& p) { return p["key"] == "display.gamma"; });
  ASSERT_NE(gamma, params.end());
  EXPECT_EQ((*gamma)["type"], "float");
  EXPECT_EQ((*gamma)["apply"], "live");
  EXPECT_EQ((*gamma)["section"], "display");
  EXPECT_DOUBLE_EQ((*gamma)["min"].get<double>(), 0.2);
  EXPECT_DOUBLE_EQ((*gamma)["max"].get<double>(), 5.0);
  EXPECT_DOUBLE_EQ((*gamma)["default"].get<double>(), default_config().display.gamma);
  EXPECT_FALSE((*gamma)["help"].get<std::string>().empty());
  const auto fit = std::find_if(params.begin(), params.end(),
                                [](const json& p) { return p["key"] == "display.fit"; });
  ASSERT_NE(fit, params.end());
  EXPECT_EQ((*fit)["choices"], (json{"cover", "contain", "stretch"}));
}

TEST(HttpApi, PutOfALiveRowAppliesToTheRunningConfig) {
  Remote remote;
  auto r =
      remote.client().Put("/api/params/display.gamma", R"({"value": 1.75})", "application/json");
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200) << r->body;
  EXPECT_FALSE(body_of(r)["pending"].get<bool>());
  EXPECT_DOUBLE_EQ(body_of(r)["value"].get<double>(), 1.75);
  EXPECT_DOUBLE_EQ(remote.store.get()->display.gamma, 1.75);
  // Plain text works as the config file's text.
  r = remote.client().Put("/api/params/display.fit", "contain", "text/plain");
  ASSERT_EQ(r->status, 200) << r->body;
  EXPECT_EQ(remote.store.get()->display.fit, FitMode::Contain);
  r = remote.client().Get("/api/params/display.gamma");
  ASSERT_EQ(r->status, 200);
  EXPECT_DOUBLE_EQ(body_of(r)["value"].get<double>(), 1.75);
}

TEST(HttpApi, PutOfARestartRowIsStoredAndReportedPending) {
  Remote remote;
  const int before = remote.store.get()->display.width;
  auto r =
      remote.client().Put("/api/params/display.width", R"({"value": 800})", "application/json");
  ASSERT_EQ(r->status, 200) << r->body;
  EXPECT_TRUE(body_of(r)["pending"].get<bool>());
  EXPECT_EQ(remote.store.get()->display.width, before);  // the running window keeps its size
  r = remote.client().Get("/api/params");
  EXPECT_EQ(body_of(r)["pending_restart"], (json{"display.width"}));
  r = remote.client().Get("/api/params/display.width");
  EXPECT_EQ(body_of(r)["value"], 800);
  EXPECT_TRUE(body_of(r)["pending"].get<bool>());
}

TEST(HttpApi, BadValuesAre400NamingTheKeyAndWhatIsAllowed) {
  Remote remote;
  auto r = remote.client().Put("/api/params/display.gamma", R"({"value": 9})", "application/json");
  ASSERT_EQ(r->status, 400);
  EXPECT_NE(error_of(r).find("display.gamma"), std::string::npos) << error_of(r);
  EXPECT_NE(error_of(r).find("[0.2, 5]"), std::string::npos) << error_of(r);
  r = remote.client().Put("/api/params/display.fit", "sideways", "text/plain");
  ASSERT_EQ(r->status, 400);
  EXPECT_NE(error_of(r).find("cover"), std::string::npos) << error_of(r);
  r = remote.client().Put("/api/params/display.gamma", R"({"value": )", "application/json");
  ASSERT_EQ(r->status, 400);
  EXPECT_NE(error_of(r).find("display.gamma"), std::string::npos) << error_of(r);
  r = remote.client().Put("/api/params/display.gamma", R"({"gamma": 2})", "application/json");
  ASSERT_EQ(r->status, 400);
  EXPECT_DOUBLE_EQ(remote.store.get()->display.gamma, default_config().display.gamma);
}

TEST(HttpApi, UnknownKeysPathsAndActionsAre404) {
  Remote remote;
  auto r = remote.client().Get("/api/params/display.gama");
  ASSERT_EQ(r->status, 404);
  EXPECT_NE(error_of(r).find("display.gama"), std::string::npos);
  r = remote.client().Put("/api/params/NOT%20A%20KEY", "1", "text/plain");
  EXPECT_EQ(r->status, 404);
  r = remote.client().Get("/api/nothing");
  ASSERT_EQ(r->status, 404);
  EXPECT_FALSE(error_of(r).empty());
  r = remote.client().Post("/api/actions/warp_drive", "", "text/plain");
  ASSERT_EQ(r->status, 404);
  EXPECT_NE(error_of(r).find("test_ping"), std::string::npos) << error_of(r);  // the known ones
}

TEST(HttpApi, ActionsAreListedAndRunThroughTheTable) {
  Remote remote;
  auto r = remote.client().Get("/api/actions");
  ASSERT_EQ(r->status, 200);
  const json list = body_of(r)["actions"];
  ASSERT_EQ(list.size(), 2u);
  EXPECT_EQ(list[1]["name"], "test_ping");
  EXPECT_EQ(list[1]["help"], "counts a ping");
  r = remote.client().Post("/api/actions/test_ping", "", "text/plain");
  ASSERT_EQ(r->status, 200) << r->body;
  EXPECT_EQ(body_of(r)["message"], "pinged");
  EXPECT_EQ(remote.pings.load(), 1);
  r = remote.client().Post("/api/actions/test_fail", "", "text/plain");
  ASSERT_EQ(r->status, 500);
  EXPECT_NE(error_of(r).find("the lamp is out"), std::string::npos);
}

TEST(HttpApi, WrongMethodsAre405AndChangeNothing) {
  Remote remote;
  auto r = remote.client().Get("/api/actions/test_ping");
  ASSERT_EQ(r->status, 405);
  EXPECT_EQ(r->get_header_value("Allow"), "POST");
  EXPECT_EQ(remote.pings.load(), 0);
  r = remote.client().Delete("/api/params/display.gamma");
  ASSERT_EQ(r->status, 405);
  EXPECT_EQ(r->get_header_value("Allow"), "GET, PUT");
  r = remote.client().Post("/api/params/display.gamma", "2", "text/plain");
  EXPECT_EQ(r->status, 405);
  EXPECT_DOUBLE_EQ(remote.store.get()->display.gamma, default_config().display.gamma);
}

TEST(HttpApi, BodiesOverTheCapAre413) {
  Remote remote;
  const std::string huge(100 * 1024, '1');
  auto r = remote.client().Put("/api/params/display.gamma", huge, "text/plain");
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 413);
  EXPECT_FALSE(error_of(r).empty());
  EXPECT_DOUBLE_EQ(remote.store.get()->display.gamma, default_config().display.gamma);
}

TEST(HttpApi, StatusIs503UntilAttachedThenTheProvidersText) {
  Remote remote;
  auto r = remote.client().Get("/api/status");
  ASSERT_EQ(r->status, 503);
  remote.api->attach_status({[] { return std::string(R"({"frame": {"fps": 60}})"); },
                             [] { return std::string("dreamwindow_frame_fps 60\n"); }});
  r = remote.client().Get("/api/status");
  ASSERT_EQ(r->status, 200);
  EXPECT_EQ(body_of(r)["frame"]["fps"], 60);
  r = remote.client().Get("/metrics");
  ASSERT_EQ(r->status, 200);
  EXPECT_NE(r->body.find("dreamwindow_frame_fps 60"), std::string::npos);
  remote.api->detach_status();
  EXPECT_EQ(remote.client().Get("/api/status")->status, 503);
}

TEST(HttpApi, OffLoopbackEveryRequestButThePageNeedsTheToken) {
  HttpApiOptions options;
  options.address = "0.0.0.0";
  options.token = "0123456789abcdef0123456789abcdef";
  Remote remote(options);
  EXPECT_TRUE(remote.api->token_required());
  remote.api->attach_status({[] { return std::string("{}"); }, [] { return std::string(); }});
  auto r = remote.client().Get("/api/status");
  ASSERT_EQ(r->status, 401);
  EXPECT_NE(r->get_header_value("WWW-Authenticate").find("Bearer"), std::string::npos);
  EXPECT_EQ(remote.client("0123456789abcdef0123456789abcdee").Get("/api/status")->status, 401);
  EXPECT_EQ(remote.client().Post("/api/actions/test_ping", "", "text/plain")->status, 401);
  EXPECT_EQ(remote.client().Put("/api/params/display.gamma", "2", "text/plain")->status, 401);
  EXPECT_EQ(remote.client().Get("/metrics")->status, 401);
  EXPECT_EQ(remote.pings.load(), 0);
  EXPECT_DOUBLE_EQ(remote.store.get()->display.gamma, default_config().display.gamma);
  EXPECT_EQ(remote.client().Get("/")->status, 200);  // the page asks for the token itself
  EXPECT_EQ(remote.client(options.token).Get("/api/status")->status, 200);
  EXPECT_EQ(remote.client(options.token).Post("/api/actions/test_ping", "", "text/plain")->status,
            200);
  EXPECT_EQ(remote.pings.load(), 1);
}

TEST(HttpApi, WithoutATokenOnlyLoopbackNamesAndNoOtherSitesPage) {
  Remote remote;
  httplib::Headers rebound{{"Host", "evil.example:8420"}};
  auto r = remote.client().Get("/api/params", rebound);
  ASSERT_EQ(r->status, 403);
  httplib::Headers cross_site{{"Origin", "http://evil.example"}};
  r = remote.client().Post("/api/actions/test_ping", cross_site, "", "text/plain");
  ASSERT_EQ(r->status, 403);
  EXPECT_EQ(remote.pings.load(), 0);
  const std::string self = "http://127.0.0.1:" + std::to_string(remote.api->port());
  r = remote.client().Post("/api/actions/test_ping", httplib::Headers{{"Origin", self}}, "",
                           "text/plain");
  EXPECT_EQ(r->status, 200) << r->body;
  EXPECT_EQ(remote.pings.load(), 1);
}

TEST(HttpApi, ServesThePageAtTheRoot) {
  Remote remote;
  auto r = remote.client().Get("/");
  ASSERT_EQ(r->status, 200);
  EXPECT_NE(r->get_header_value("Content-Type").find("text/html"), std::string::npos);
  EXPECT_NE(r->body.find("<title>remote</title>"), std::string::npos);
  // Scripts and styles inline only; images also as data: URLs (the page's icon is one, so the
  // browser asks for no /favicon.ico).
  const std::string policy = r->get_header_value("Content-Security-Policy");
  EXPECT_NE(policy.find("default-src 'self'"), std::string::npos) << policy;
  EXPECT_NE(policy.find("img-src 'self' data:"), std::string::npos) << policy;
}

// Live status as server-sent events; the number of streams is bounded (each holds a thread).
TEST(HttpApi, EventsStreamStatusAndAreBounded) {
  HttpApiOptions options;
  options.max_clients = 2;  // one stream at most
  options.event_interval = std::chrono::milliseconds(50);
  Remote remote(options);
  std::atomic<int> counter{0};
  remote.api->attach_status({[&] {
                               return json{{"n", ++counter}}.dump();
                             },
                             [] { return std::string(); }});
  std::atomic<int> events{0};
  std::atomic<bool> done{false};
  std::string first;
  std::thread stream([&] {
    auto c = remote.client();
    c.Get("/api/events", [&](const char* data, std::size_t n) {
      const std::string chunk(data, n);
      if (chunk.find("event: status\ndata: {\"n\":") != std::string::npos) {
        if (events.load() == 0) first = chunk;
        ++events;
      }
      return !done.load();
    });
  });
  ASSERT_TRUE(test::wait_until([&] { return events.load() >= 2; }, std::chrono::seconds(30)));
  auto r = remote.client().Get("/api/events");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 503);
  done = true;
  stream.join();
  EXPECT_NE(first.find("\n\n"), std::string::npos);  // one complete event per status
}

// Idle connections (a port scanner, a phone that went to sleep mid-request) cannot lock a person
// out: with three times as many open as the remote has threads, a request is still answered.
TEST(HttpApi, IdleConnectionsDoNotLockOutARequest) {
  HttpApiOptions options;
  options.max_clients = 4;
  Remote remote(options);
  std::vector<int> idle;
  for (int i = 0; i < 12; ++i) {
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = htons(remote.api->port());
    ASSERT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
    if (i % 2) ::send(fd, "GET /api/par", 12, MSG_NOSIGNAL);  // half a request
    idle.push_back(fd);
  }
  auto r = remote.client().Get("/api/actions");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  for (int fd : idle) ::close(fd);
}

// A port another remote holds (a previous instance ending) is waited for, not given up: once it
// is free this one listens there, says so with its URL, and answers.
TEST(HttpApi, ATakenPortIsServedOnceFree) {
  std::optional<Remote> first;
  first.emplace();
  const std::uint16_t port = first->api->port();
  HttpApiOptions options;
  options.port = port;
  std::mutex mutex;
  std::string told;
  options.on_listening = [&](const std::string& url, std::string_view retried) {
    std::lock_guard lock(mutex);
    told = url + std::string(retried);
  };
  Remote second(options);
  EXPECT_EQ(second.api->waiting_to_bind(), "Address already in use");
  EXPECT_FALSE(second.api->listening());
  first.reset();
  ASSERT_TRUE(test::wait_until([&] { return second.api->listening(); }, std::chrono::seconds(30)));
  EXPECT_EQ(second.api->waiting_to_bind(), "");
  ASSERT_TRUE(test::wait_until([&] {
    std::lock_guard lock(mutex);
    return !told.empty();
  }));
  {
    std::lock_guard lock(mutex);
    EXPECT_TRUE(told.starts_with(fmt::format("http://127.0.0.1:{} after ", port))) << told;
  }
  const auto r = second.client().Get("/api/actions");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
}

}  // namespace
}  // namespace dw::remote
