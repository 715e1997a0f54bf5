// The overlay's status panel groups the metrics table's lines by their first path component, in
// the order the table gives them, and keeps each value with its line.
#include "render/status_panel.h"

#include <gtest/gtest.h>

namespace dw::render {
namespace {

TEST(StatusPanel, GroupsLinesBySectionInTableOrder) {
  const std::vector<StatusLine> lines = {{"uptime_s", "12 s"},
                                         {"generation.keyframes", "31"},
                                         {"generation.servers[http://a].healthy", "yes"},
                                         {"workers[cache].state", "failed"},
                                         {"generation.theme", "tide"}};
  const std::vector<StatusSection> sections = group_status_lines(lines);
  ASSERT_EQ(sections.size(), 3u);
  EXPECT_EQ(sections[0].name, "general");
  EXPECT_EQ(sections[0].lines, (std::vector<StatusLine>{{"uptime_s", "12 s"}}));
  EXPECT_EQ(sections[1].name, "generation");
  EXPECT_EQ(sections[1].lines,
            (std::vector<StatusLine>{
                {"keyframes", "31"}, {"servers[http://a].healthy", "yes"}, {"theme", "tide"}}));
  EXPECT_EQ(sections[2].name, "workers");
  EXPECT_EQ(sections[2].lines, (std::vector<StatusLine>{{"[cache].state", "failed"}}));
}

}  // namespace
}  // namespace dw::render
