// OSC through the real server over loopback UDP, sent with liblo's client API (lo_send_from, so
// replies come back to a liblo server of the test's own): parameters change through the one
// ParamEditor, actions run through the one ActionTable, and every message is answered with
// /dreamwindow/reply "ok"|"error" <address> <message> in the config file's wording.
#include "remote/osc_server.h"

#include <gtest/gtest.h>
#include <lo/lo.h>

#include <atomic>
#include <deque>
#include <mutex>
#include <string>

#include "core/commands.h"
#include "core/error.h"
#include "support/test_support.h"

namespace dw::remote {
namespace {

struct Reply {
  std::string status, path, message;
};

// A liblo server on a free port that collects /dreamwindow/reply messages.
class ReplyCollector {
 public:
  ReplyCollector() : server_(lo_server_new_with_proto(nullptr, LO_UDP, nullptr)) {
    lo_server_add_method(server_, "/dreamwindow/reply", "sss", &ReplyCollector::on_reply, this);
  }
  ~ReplyCollector() { lo_server_free(server_); }
  lo_server server() const { return server_; }

  // The next reply, waiting up to 30 s for it.
  std::optional<Reply> next() {
    for (int i = 0; i < 300 && replies_.empty(); ++i) lo_server_recv_noblock(server_, 100);
    if (replies_.empty()) return std::nullopt;
    Reply r = replies_.front();
    replies_.pop_front();
    return r;
  }

 private:
  static int on_reply(const char*, const char*, lo_arg** argv, int, lo_message, void* self) {
    static_cast<ReplyCollector*>(self)->replies_.push_back({&argv[0]->s, &argv[1]->s, &argv[2]->s});
    return 0;
  }
  lo_server server_;
  std::deque<Reply> replies_;
};

class OscServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    actions_.add("pause", "pause", [this] {
      commands_.set_pause(kPauseOperator, true);
      return ActionResult{true, "generation paused"};
    });
    actions_.add("next_theme", "next", [this] {
      commands_.next_theme.fetch_add(1);
      return ActionResult{true, "next theme"};
    });
    OscConfig config;
    config.enabled = true;
    config.port = 0;
    server_.emplace(config, dispatcher_);
    target_ = lo_address_new("127.0.0.1", std::to_string(server_->port()).c_str());
  }
  void TearDown() override {
    if (target_) lo_address_free(target_);
  }

  ConfigStore store_{default_config()};
  ParamEditor editor_{store_, "unused.toml"};
  ActionTable actions_;
  Commands commands_;
  OscDispatcher dispatcher_{editor_, actions_};
  std::optional<OscServer> server_;
  lo_address target_ = nullptr;
  ReplyCollector client_;
};

TEST_F(OscServerTest, ListensOnLoopbackByDefault) {
  EXPECT_EQ(server_->url(), "udp://127.0.0.1:" + std::to_string(server_->port()));
  EXPECT_GT(server_->port(), 0);
}

TEST_F(OscServerTest, AFloatSetsALiveParameterAndTheReplySaysSo) {
  lo_send_from(target_, client_.server(), LO_TT_IMMEDIATE, "/dreamwindow/param/display/gamma", "f",
               1.5f);
  const auto r = client_.next();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, "ok");
  EXPECT_EQ(r->path, "/dreamwindow/param/display/gamma");
  EXPECT_EQ(r->message, "display.gamma = 1.5");
  EXPECT_DOUBLE_EQ(store_.get()->display.gamma, 1.5);
}

TEST_F(OscServerTest, IntsStringsAndBoolsBecomeTheConfigFilesText) {
  lo_send_from(target_, client_.server(), LO_TT_IMMEDIATE, "/dreamwindow/param/display/width", "i",
               640);
  auto r = client_.next();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->message, "display.width = 640 (after a restart)");
  EXPECT_EQ(editor_.pending_restart(), (std::set<std::string>{"display.width"}));
  lo_send_from(target_, client_.server(), LO_TT_IMMEDIATE, "/dreamwindow/param/display/fit", "s",
               "contain");
  r = client_.next();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, "ok") << r->message;
  EXPECT_EQ(store_.get()->display.fit, FitMode::Contain);
  lo_send_from(target_, client_.server(), LO_TT_IMMEDIATE, "/dreamwindow/param/display/dither",
               "F");
  r = client_.next();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->message, "display.dither = false");
  EXPECT_FALSE(store_.get()->display.dither);
}

TEST_F(OscServerTest, BadValuesAreRefusedInTheConfigFilesWordingAndChangeNothing) {
  const double gamma = store_.get()->display.gamma;
  lo_send_from(target_, client_.server(), LO_TT_IMMEDIATE, "/dreamwindow/param/display/gamma", "f",
               9.0f);
  auto r = client_.next();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, "error");
  EXPECT_NE(r->message.find("display.gamma"), std::string::npos) << r->message;
  EXPECT_NE(r->message.find("[0.2, 5]"), std::string::npos) << r->message;
  lo_send_from(target_, client_.server(), LO_TT_IMMEDIATE, "/dreamwindow/param/display/gama", "f",
               1.0f);
  r = client_.next();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, "error");
  EXPECT_NE(r->message.find("unknown parameter 'display.gama'"), std::string::npos) << r->message;
  lo_send_from(target_, client_.server(), LO_TT_IMMEDIATE, "/dreamwindow/param/display/gamma", "");
  r = client_.next();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->message, "display.gamma needs a value");
  lo_send_from(target_, client_.server(), LO_TT_IMMEDIATE, "/dreamwindow/param/display/gamma", "N");
  r = client_.next();
  ASSERT_TRUE(r);
  EXPECT_NE(r->message.find("OSC argument 1 is a nil"), std::string::npos) << r->message;
  lo_send_from(target_, client_.server(), LO_TT_IMMEDIATE, "/somewhere/else", "i", 1);
  r = client_.next();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, "error");
  EXPECT_NE(r->message.find("unknown OSC address '/somewhere/else'"), std::string::npos);
  EXPECT_DOUBLE_EQ(store_.get()->display.gamma, gamma);
  EXPECT_EQ(server_->stats().errors, 5u);
}

TEST_F(OscServerTest, ActionsRunThroughTheTableAndAReleaseIsIgnored) {
  lo_send_from(target_, client_.server(), LO_TT_IMMEDIATE, "/dreamwindow/action/next_theme", "f",
               1.0f);
  auto r = client_.next();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, "ok");
  EXPECT_EQ(r->message, "next theme");
  lo_send_from(target_, client_.server(), LO_TT_IMMEDIATE, "/dreamwindow/action/next_theme", "f",
               0.0f);
  r = client_.next();
  ASSERT_TRUE(r);
  EXPECT_NE(r->message.find("ignored"), std::string::npos);
  EXPECT_EQ(commands_.next_theme.load(), 1u) << "press and release run it once";
  lo_send_from(target_, client_.server(), LO_TT_IMMEDIATE, "/dreamwindow/action/pause", "");
  ASSERT_TRUE(client_.next());
  EXPECT_TRUE(commands_.generation_paused());
  lo_send_from(target_, client_.server(), LO_TT_IMMEDIATE, "/dreamwindow/action/explode", "");
  r = client_.next();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, "error");
  EXPECT_NE(r->message.find("unknown action 'explode'"), std::string::npos) << r->message;
}

TEST_F(OscServerTest, GetAnswersTheCurrentValueIncludingPendingEdits) {
  ASSERT_TRUE(editor_.edit("display.width", "800").ok);
  lo_send_from(target_, client_.server(), LO_TT_IMMEDIATE, "/dreamwindow/get/display/width", "");
  const auto r = client_.next();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, "ok");
  EXPECT_EQ(r->path, "/dreamwindow/get/display/width");
  EXPECT_EQ(r->message, "800");
}

TEST_F(OscServerTest, ABundleIsCarriedOutInOrderWithOneReplyPerMessage) {
  lo_bundle bundle = lo_bundle_new(LO_TT_IMMEDIATE);
  lo_message a = lo_message_new();
  lo_message_add_float(a, 2.0f);
  lo_message b = lo_message_new();
  lo_message_add_float(b, 3.0f);
  lo_bundle_add_message(bundle, "/dreamwindow/param/display/brightness", a);
  lo_bundle_add_message(bundle, "/dreamwindow/param/display/gamma", b);
  lo_send_bundle_from(target_, client_.server(), bundle);
  lo_bundle_free_recursive(bundle);
  const auto first = client_.next();
  const auto second = client_.next();
  ASSERT_TRUE(first && second);
  EXPECT_EQ(first->message, "display.brightness = 2.0");
  EXPECT_EQ(second->message, "display.gamma = 3.0");
  EXPECT_DOUBLE_EQ(store_.get()->display.gamma, 3.0);
}

TEST(OscAddress, FormsAndRefusals) {
  auto t = parse_osc_address("/dreamwindow/param/display/gamma");
  ASSERT_EQ(t.index(), 0u);
  EXPECT_EQ(std::get<0>(t).name, "display.gamma");
  EXPECT_EQ(std::get<0>(t).verb, OscVerb::Param);
  t = parse_osc_address("/dreamwindow/action/toggle_pause");
  ASSERT_EQ(t.index(), 0u);
  EXPECT_EQ(std::get<0>(t).verb, OscVerb::Action);
  for (const char* bad : {"/dreamwindow/param/display", "/dreamwindow/action/a/b", "/dreamwindow/",
                          "/dreamwindow/param//gamma", "/dreamwindow/param/Display/gamma",
                          "/dreamwindow/param/display/gamma\x1b[2J", "dreamwindow/action/pause"}) {
    const auto r = parse_osc_address(bad);
    ASSERT_EQ(r.index(), 1u) << bad;
    EXPECT_EQ(std::get<1>(r).find('\x1b'), std::string::npos) << "printable";
  }
}

TEST(OscServer, APortInUseIsAClearError) {
  ConfigStore store{default_config()};
  ParamEditor editor{store, "unused.toml"};
  ActionTable actions;
  OscDispatcher dispatcher{editor, actions};
  OscConfig config;
  config.port = 0;
  OscServer first(config, dispatcher);
  config.port = first.port();
  try {
    OscServer second(config, dispatcher);
    FAIL() << "a second server on the same port";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("osc.port = " + std::to_string(first.port())),
              std::string::npos)
        << e.what();
  }
  config.address = "localhost";  // numeric only
  EXPECT_THROW(OscServer bad(config, dispatcher), InputError);
}

}  // namespace
}  // namespace dw::remote
