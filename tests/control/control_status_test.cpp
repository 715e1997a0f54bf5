// What the web remote learns from status about the parameters: control.config_version, in the
// status the app serves (GET /api/status and the events stream; status.json is the same text),
// moves on when a parameter is changed through the API, and GET /api/params says which version
// its list is, so a page can tell its list is out of date without fetching it.
#include <gtest/gtest.h>
#include <httplib.h>

#include <nlohmann/json.hpp>

#include "app/control_wiring.h"
#include "pipeline/metrics_table.h"
#include "remote/http_api.h"
#include "support/test_support.h"

namespace dw {
namespace {

using nlohmann::json;

class ConfigVersionInStatus : public ::testing::Test {
 protected:
  ConfigVersionInStatus() {
    // What the app attaches (app/remote_wiring.cpp), with the control part as the pipeline takes
    // it from ControlWiring (PipelineHooks::control_status).
    api_.attach_status({[this] {
                          pipeline::StatusSnapshot s;
                          s.control = control_.status();
                          return pipeline::status_to_json(s);
                        },
                        [] { return std::string(); }});
  }
  ~ConfigVersionInStatus() override { api_.detach_status(); }

  json get(const std::string& path) {
    httplib::Client c("127.0.0.1", api_.port());
    auto r = c.Get(path);
    if (!r || r->status != 200) {
      ADD_FAILURE() << "GET " << path << ": " << (r ? r->body : "no answer");
      return json::object();
    }
    return json::parse(r->body);
  }
  int put(const std::string& key, const std::string& body) {
    httplib::Client c("127.0.0.1", api_.port());
    auto r = c.Put("/api/params/" + key, body, "application/json");
    return r ? r->status : 0;
  }
  // The status's control.config_version: present, and a whole number.
  std::uint64_t status_version() {
    const json s = get("/api/status");
    const json v = s.value("/control/config_version"_json_pointer, json());
    EXPECT_TRUE(v.is_number_unsigned()) << s.dump();
    return v.is_number_unsigned() ? v.get<std::uint64_t>() : 0;
  }
  std::uint64_t list_version() { return get("/api/params").value("config_version", ~0ull); }

  test::ScratchDir dir_;
  ConfigStore store_{default_config()};
  ParamEditor editor_{store_, dir_ / "config.toml"};
  Commands commands_;
  ActionTable actions_;
  ControlWiring control_{default_config(), actions_, commands_, editor_};
  remote::HttpApi api_{{}, editor_, actions_};
};

TEST_F(ConfigVersionInStatus, MovesOnWithAnEditThroughTheApiAndMatchesTheParameterList) {
  const std::uint64_t start = status_version();
  EXPECT_EQ(list_version(), start) << "nothing changed: the list is at the status's version";
  EXPECT_EQ(status_version(), start) << "reading changes nothing";

  ASSERT_EQ(put("display.gamma", R"({"value": 1.5})"), 200);
  const std::uint64_t live = status_version();
  EXPECT_GT(live, start) << "a live row's edit";
  EXPECT_EQ(list_version(), live);

  ASSERT_EQ(put("display.width", R"({"value": 800})"), 200);
  const std::uint64_t restart = status_version();
  EXPECT_GT(restart, live) << "a restart row's edit: the row is now pending";

  ASSERT_EQ(put("display.gamma", R"({"value": 9})"), 400);
  EXPECT_EQ(status_version(), restart) << "a refused edit changes nothing";

  // The list read at a version shows what changed up to it.
  const json list = get("/api/params");
  EXPECT_EQ(list.value("config_version", ~0ull), restart);
  EXPECT_EQ(list.value("pending_restart", json()), (json{"display.width"}));
}

}  // namespace
}  // namespace dw
