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

// The workers (and the outputs) are one row per item with a column per field, not a field per
// line; the name column that only repeats the item's key is left out, and so is "running".
TEST(StatusPanel, ItemsOfASectionAreOneRowEach) {
  const std::vector<StatusLine> lines = {{"workers[orchestrator].name", "orchestrator"},
                                         {"workers[orchestrator].state", "running"},
                                         {"workers[orchestrator].running", "yes"},
                                         {"workers[orchestrator].errors", "0"},
                                         {"workers[orchestrator].last_error", "-"},
                                         {"workers[cache].name", "cache"},
                                         {"workers[cache].state", "failed"},
                                         {"workers[cache].errors", "3"},
                                         {"workers[cache].last_error", "disk full"},
                                         {"generation.keyframes", "31"}};
  const std::vector<StatusSection> sections = group_status_lines(lines);
  ASSERT_EQ(sections.size(), 2u);
  const std::optional<StatusGrid> grid = status_grid(sections[0]);
  ASSERT_TRUE(grid);
  EXPECT_EQ(grid->rows, (std::vector<std::string>{"orchestrator", "cache"}));
  EXPECT_EQ(grid->columns, (std::vector<std::string>{"state", "errors", "last_error"}));
  EXPECT_EQ(grid->cells[1], (std::vector<std::string>{"failed", "3", "disk full"}));
  EXPECT_FALSE(status_grid(sections[1])) << "plain lines stay a two-column list";
}

TEST(StatusPanel, AFieldOneItemLacksIsAnEmptyCell) {
  const StatusSection outputs{"outputs",
                              {{"[1].fps", "60"}, {"[2].fps", "50"}, {"[2].skipped", "4"}}};
  const std::optional<StatusGrid> grid = status_grid(outputs);
  ASSERT_TRUE(grid);
  EXPECT_EQ(grid->columns, (std::vector<std::string>{"fps", "skipped"}));
  EXPECT_EQ(grid->cells[0], (std::vector<std::string>{"60", ""}));
  EXPECT_EQ(grid->cells[1], (std::vector<std::string>{"50", "4"}));
}

}  // namespace
}  // namespace dw::render
