// What the remote reads from a request itself: routes, names, the bearer header, PUT bodies,
// the browser checks, and the token file.
#include "remote/http_parse.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>

#include "core/error.h"
#include "core/params.h"
#include "remote/remote_token.h"
#include "support/test_support.h"

namespace dw::remote {
namespace {

TEST(HttpParse, RoutesEndpointsAndRefusesWithTheRightStatus) {
  EXPECT_EQ(route_request("GET", "/").endpoint, Endpoint::Page);
  EXPECT_EQ(route_request("HEAD", "/api/status").endpoint, Endpoint::Status);
  const Route put = route_request("PUT", "/api/params/display.gamma");
  EXPECT_EQ(put.endpoint, Endpoint::Param);
  EXPECT_EQ(put.arg, "display.gamma");
  EXPECT_EQ(route_request("POST", "/api/actions/next_theme").arg, "next_theme");
  const Route wrong = route_request("GET", "/api/actions/next_theme");
  EXPECT_EQ(wrong.status, 405);
  EXPECT_EQ(wrong.allow, "POST");
  EXPECT_EQ(route_request("PU", "/api/params/display.gamma").status, 405);  // not a prefix match
  EXPECT_EQ(route_request("GET", "/api/params/../../etc/passwd").status, 404);
  EXPECT_EQ(route_request("GET", "/api/params/display.gamma/x").status, 404);
  EXPECT_EQ(route_request("GET", "/nothing").status, 404);
}

TEST(HttpParse, KeysAndActionNames) {
  EXPECT_TRUE(valid_param_key("display.gamma"));
  EXPECT_TRUE(valid_param_key("comfy.sampler_steps"));
  EXPECT_FALSE(valid_param_key("display"));
  EXPECT_FALSE(valid_param_key(".gamma"));
  EXPECT_FALSE(valid_param_key("display."));
  EXPECT_FALSE(valid_param_key("Display.Gamma"));
  EXPECT_FALSE(valid_param_key(std::string(81, 'a') + ".b"));
  EXPECT_TRUE(valid_action_name("next_theme"));
  EXPECT_FALSE(valid_action_name(""));
  EXPECT_FALSE(valid_action_name("next-theme"));
}

TEST(HttpParse, BearerHeader) {
  EXPECT_EQ(bearer_token("Bearer abc123def456"), "abc123def456");
  EXPECT_EQ(bearer_token("  bearer   abc123  "), "abc123");
  EXPECT_FALSE(bearer_token("Basic dXNlcjpwYXNz"));
  EXPECT_FALSE(bearer_token("Bearer"));
  EXPECT_FALSE(bearer_token("Bearer "));
  EXPECT_FALSE(bearer_token("Bearer a b"));
  EXPECT_FALSE(bearer_token("Bearerabc"));
  EXPECT_TRUE(tokens_equal("abc", "abc"));
  EXPECT_FALSE(tokens_equal("abd", "abc"));
  EXPECT_FALSE(tokens_equal("ab", "abc"));
  EXPECT_FALSE(tokens_equal("abcd", "abc"));
  EXPECT_FALSE(tokens_equal("", "abc"));
}

TEST(HttpParse, ValueBodies) {
  EXPECT_EQ(parse_value_body(R"({"value": 1.5})", "application/json").text, "1.5");
  EXPECT_EQ(parse_value_body(R"({"value": 3})", "").text, "3");
  EXPECT_EQ(parse_value_body(R"({"value": true})", "").text, "true");
  EXPECT_EQ(parse_value_body(R"({"value": "cover"})", "").text, "cover");
  EXPECT_EQ(parse_value_body(R"({"value": ["a", "b"]})", "").text, R"(["a", "b"])");
  // An item may hold commas (a date with two opening ranges): the list keeps its two items.
  std::vector<std::string> items;
  EXPECT_FALSE(parse_list_text(
      parse_value_body(R"({"value": ["2026-12-24=10:00-12:00,14:00-16:00", "x"]})", "").text,
      items));
  EXPECT_EQ(items, (std::vector<std::string>{"2026-12-24=10:00-12:00,14:00-16:00", "x"}));
  EXPECT_EQ(parse_value_body("  contain\n", "text/plain").text, "contain");
  EXPECT_FALSE(parse_value_body(R"({"value": null})", "").ok);
  EXPECT_FALSE(parse_value_body(R"({"value": {"x": 1}})", "").ok);
  EXPECT_FALSE(parse_value_body(R"({"value": [[1]]})", "").ok);
  EXPECT_FALSE(parse_value_body(R"({"value": 1, "x": 2})", "").ok);
  EXPECT_FALSE(parse_value_body("{", "").ok);
  EXPECT_FALSE(parse_value_body("[1]", "application/json").ok);
  EXPECT_FALSE(parse_value_body(R"({"value": "a\nb"})", "").ok);
  EXPECT_FALSE(parse_value_body("a\x01", "text/plain").ok);
  EXPECT_FALSE(parse_value_body("\xff\xfe", "text/plain").ok);
  EXPECT_FALSE(parse_value_body(std::string(100, '[') + "]", "application/json").ok);
  EXPECT_FALSE(json_depth_within("[[[[[", 4));
  EXPECT_TRUE(json_depth_within(R"({"a": "[[[[[[["})", 1));
}

TEST(HttpParse, BrowserChecks) {
  EXPECT_TRUE(origin_matches_host("", "127.0.0.1:8420"));
  EXPECT_TRUE(origin_matches_host("http://127.0.0.1:8420", "127.0.0.1:8420"));
  EXPECT_FALSE(origin_matches_host("http://evil.example", "127.0.0.1:8420"));
  EXPECT_FALSE(origin_matches_host("https://127.0.0.1:8420", "127.0.0.1:8420"));
  EXPECT_TRUE(loopback_host("127.0.0.1:8420"));
  EXPECT_TRUE(loopback_host("localhost"));
  EXPECT_TRUE(loopback_host("[::1]:8420"));
  EXPECT_FALSE(loopback_host("127.evil.example"));
  EXPECT_FALSE(loopback_host("evil.example:8420"));
  EXPECT_FALSE(loopback_host(""));
  EXPECT_TRUE(loopback_address("127.0.0.1"));
  EXPECT_TRUE(loopback_address("::1"));
  EXPECT_FALSE(loopback_address("0.0.0.0"));
  EXPECT_FALSE(loopback_address("192.168.1.5"));
}

TEST(RemoteToken, MadeOnceWithMode0600AndReadBack) {
  test::ScratchDir dir;
  const std::string path = dir / "sub/remote_token";
  const std::string token = load_or_create_token(path);
  EXPECT_EQ(token.size(), 64u);
  EXPECT_EQ(token.find_first_not_of("0123456789abcdef"), std::string::npos);
  struct stat st {};
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  EXPECT_EQ(load_or_create_token(path), token);
  const std::string other = load_or_create_token(dir / "other_token");
  EXPECT_NE(other, token);  // random, not derived from anything
}

// A power cut during the first start's write left an empty token file, which every later start
// refused: the remote stayed off for good. An empty file is taken for no file; the new token is
// written whole (a temporary linked into place) and no temporary is left beside it.
TEST(RemoteToken, AnEmptyFileLeftByACutShortWriteIsReplaced) {
  test::ScratchDir dir;
  const std::string path = dir / "remote_token";
  std::ofstream(path).close();
  const std::string token = load_or_create_token(path);
  EXPECT_EQ(token.size(), 64u);
  EXPECT_EQ(load_or_create_token(path), token);
  std::size_t files = 0;
  for ([[maybe_unused]] const auto& e : std::filesystem::directory_iterator(dir.path())) ++files;
  EXPECT_EQ(files, 1u) << "a temporary was left beside the token";
}

TEST(RemoteToken, AFileWithoutATokenIsAClearError) {
  test::ScratchDir dir;
  std::ofstream(dir / "remote_token") << "not a token!\n";
  try {
    load_or_create_token(dir / "remote_token");
    FAIL() << "a bad token file must be refused";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("remote_token"), std::string::npos);
  }
}

}  // namespace
}  // namespace dw::remote
