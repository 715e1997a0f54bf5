// The unit --install-service writes: ExecStart= and the display lines from the shipped template.
#include "app/service_install.h"

#include <gtest/gtest.h>

namespace dw::service {
namespace {

const std::string kTemplate =
    "[Service]\nType=notify\nExecStart=%h/.local/bin/dreamwindow --fullscreen\n"
    "Environment=DISPLAY=:0\n\n[Install]\nWantedBy=graphical-session.target\n";

TEST(SystemdQuote, PlainWordsStayQuotingWhatSystemdWouldSplitOrExpand) {
  EXPECT_EQ(systemd_quote("/usr/bin/dreamwindow"), "/usr/bin/dreamwindow");
  EXPECT_EQ(systemd_quote("/home/a b/config.toml"), "\"/home/a b/config.toml\"");
  EXPECT_EQ(systemd_quote("say \"hi\""), "\"say \\\"hi\\\"\"");
  EXPECT_EQ(systemd_quote("100%"), "100%%");
  EXPECT_EQ(systemd_quote("$HOME"), "$$HOME");
  EXPECT_EQ(systemd_quote(""), "\"\"");
}

TEST(RenderUnit, ExecStartIsTheCommandAndTheRestIsKept) {
  const std::string unit =
      render_unit(kTemplate, {"/opt/dw/dreamwindow", "--config", "/home/a b/c.toml"}, {});
  EXPECT_NE(unit.find("\nExecStart=/opt/dw/dreamwindow --config \"/home/a b/c.toml\"\n"),
            std::string::npos)
      << unit;
  EXPECT_EQ(unit.find("%h/.local/bin"), std::string::npos);
  EXPECT_NE(unit.find("Environment=DISPLAY=:0\n"), std::string::npos) << unit;
  EXPECT_NE(unit.find("Type=notify\n"), std::string::npos);
  EXPECT_NE(unit.find("WantedBy=graphical-session.target\n"), std::string::npos);
}

TEST(RenderUnit, TheInstallersDisplayVariablesReplaceTheDefault) {
  const std::string unit = render_unit(
      kTemplate, {"/x"},
      {{"DISPLAY", ":1"}, {"WAYLAND_DISPLAY", "wayland-0"}, {"XAUTHORITY", "/run/a b"}});
  EXPECT_EQ(unit.find("DISPLAY=:0"), std::string::npos) << unit;
  EXPECT_NE(unit.find("Environment=DISPLAY=:1\n"), std::string::npos) << unit;
  EXPECT_NE(unit.find("Environment=WAYLAND_DISPLAY=wayland-0\n"), std::string::npos) << unit;
  EXPECT_NE(unit.find("Environment=\"XAUTHORITY=/run/a b\"\n"), std::string::npos) << unit;
}

}  // namespace
}  // namespace dw::service
