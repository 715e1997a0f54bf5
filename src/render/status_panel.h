// The overlay's pipeline status: the lines the metrics table renders (pipeline/metrics_table.h),
// grouped by their first path component ("generation.keyframes" -> section "generation", name
// "keyframes"), each section a collapsible table. The render library knows nothing of the pipeline;
// it draws whatever lines it is given. Main thread only (Dear ImGui).
#pragma once

#include <string>
#include <utility>
#include <vector>

namespace dw::render {

using StatusLine = std::pair<std::string, std::string>;  // label (a metrics path), value

struct StatusSection {
  std::string name;
  std::vector<StatusLine> lines;  // labels without the section prefix
};

// Sections in the order their first line comes; a label without '.' or '[' is its own section's
// only line, under "general".
std::vector<StatusSection> group_status_lines(const std::vector<StatusLine>& lines);

// Draws the sections inside the current ImGui window.
void draw_status_panel(const std::vector<StatusLine>& lines);

}  // namespace dw::render
