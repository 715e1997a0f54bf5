// The overlay's pipeline status: the lines the metrics table renders (pipeline/metrics_table.h),
// grouped by their first path component ("generation.keyframes" -> section "generation", name
// "keyframes"), each section a collapsible table. The render library knows nothing of the pipeline;
// it draws whatever lines it is given. Main thread only (Dear ImGui).
#pragma once

#include <optional>
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

// A section whose lines all name one of several items ("[orchestrator].state", "[1].fps": the
// workers, the outputs) as a grid: one row per item, one column per field in the order the fields
// first come. A field whose value is the item's own key in every row ("[cache].name" "cache") is
// left out, and so is the workers' "running" (their state says it). Nothing for any other section.
struct StatusGrid {
  std::vector<std::string> columns;             // field names
  std::vector<std::string> rows;                // item keys, without the brackets
  std::vector<std::vector<std::string>> cells;  // rows x columns; "" where an item lacks a field
};
std::optional<StatusGrid> status_grid(const StatusSection& section);

// Draws the sections inside the current ImGui window; grids as tables whose columns keep the
// widest width they have needed, so they do not jump as values change, the last one (an error
// text) taking the rest and wrapping.
void draw_status_panel(const std::vector<StatusLine>& lines);

}  // namespace dw::render
