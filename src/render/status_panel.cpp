#include "render/status_panel.h"

#include <imgui.h>

#include <algorithm>
#include <array>
#include <map>
#include <string_view>

namespace dw::render {
namespace {

// Sections a user looks at first; the others start folded.
constexpr std::array<std::string_view, 3> kOpenSections = {"generation", "buffer", "workers"};

}  // namespace

std::vector<StatusSection> group_status_lines(const std::vector<StatusLine>& lines) {
  std::vector<StatusSection> sections;
  for (const auto& [label, value] : lines) {
    const std::size_t cut = label.find_first_of(".[");
    const std::string section = cut == std::string::npos ? "general" : label.substr(0, cut);
    std::string name = cut == std::string::npos ? label : label.substr(cut);
    if (!name.empty() && name.front() == '.') name.erase(0, 1);
    auto it = std::find_if(sections.begin(), sections.end(),
                           [&](const StatusSection& s) { return s.name == section; });
    if (it == sections.end()) it = sections.insert(sections.end(), StatusSection{section, {}});
    it->lines.emplace_back(std::move(name), value);
  }
  return sections;
}

std::optional<StatusGrid> status_grid(const StatusSection& section) {
  if (section.lines.empty()) return std::nullopt;
  StatusGrid grid;
  std::vector<std::vector<std::pair<std::string, std::string>>> fields;  // per row
  for (const auto& [name, value] : section.lines) {
    const std::size_t close = name.find("].");
    if (name.empty() || name.front() != '[' || close == std::string::npos) return std::nullopt;
    const std::string key = name.substr(1, close - 1);
    const std::string field = name.substr(close + 2);
    auto row = std::find(grid.rows.begin(), grid.rows.end(), key);
    if (row == grid.rows.end()) {
      grid.rows.push_back(key);
      fields.emplace_back();
      row = grid.rows.end() - 1;
    }
    fields[static_cast<std::size_t>(row - grid.rows.begin())].emplace_back(field, value);
    if (std::find(grid.columns.begin(), grid.columns.end(), field) == grid.columns.end())
      grid.columns.push_back(field);
  }
  const auto value_of = [&](std::size_t r, const std::string& column) {
    for (const auto& [field, value] : fields[r])
      if (field == column) return value;
    return std::string();
  };
  // A column that only repeats each row's key says nothing, and workers[].running (for scrapers)
  // only says again what state says.
  std::erase_if(grid.columns, [&](const std::string& column) {
    if (section.name == "workers" && column == "running") return true;
    for (std::size_t r = 0; r < grid.rows.size(); ++r)
      if (value_of(r, column) != grid.rows[r]) return false;
    return true;
  });
  for (std::size_t r = 0; r < grid.rows.size(); ++r) {
    std::vector<std::string>& cells = grid.cells.emplace_back();
    for (const std::string& column : grid.columns) cells.push_back(value_of(r, column));
  }
  return grid;
}

namespace {

// One row per item. The fixed columns keep the widest width they have needed (per table and
// column, for the program's life), so a counter going from 9 to 10 does not shift the table.
void draw_grid(const std::string& id, const StatusGrid& grid) {
  static std::map<ImGuiID, float> widest;
  const int columns = static_cast<int>(grid.columns.size()) + 1;
  const ImGuiID table_id = ImGui::GetID(id.c_str());
  if (!ImGui::BeginTable(
          id.c_str(), columns,
          ImGuiTableFlags_SizingFixedFit | ImGuiTableFlags_RowBg | ImGuiTableFlags_BordersInnerV))
    return;
  const auto column_width = [&](int c, float needed) {
    float& w = widest[table_id + static_cast<ImGuiID>(c)];
    w = std::max(w, needed);
    return w;
  };
  const auto widest_text = [&](int c) {
    float needed = ImGui::CalcTextSize(c == 0 ? "" : grid.columns[c - 1].c_str()).x;
    for (std::size_t r = 0; r < grid.rows.size(); ++r)
      needed = std::max(
          needed,
          ImGui::CalcTextSize(c == 0 ? grid.rows[r].c_str() : grid.cells[r][c - 1].c_str()).x);
    return needed;
  };
  for (int c = 0; c < columns; ++c) {
    const char* header = c == 0 ? "" : grid.columns[c - 1].c_str();
    if (c == columns - 1 && c > 0)
      ImGui::TableSetupColumn(header, ImGuiTableColumnFlags_WidthStretch);
    else
      ImGui::TableSetupColumn(header, ImGuiTableColumnFlags_WidthFixed,
                              column_width(c, widest_text(c) + 1.0f));
  }
  ImGui::TableHeadersRow();
  for (std::size_t r = 0; r < grid.rows.size(); ++r) {
    ImGui::TableNextRow();
    ImGui::TableNextColumn();
    ImGui::TextUnformatted(grid.rows[r].c_str());
    for (const std::string& cell : grid.cells[r]) {
      ImGui::TableNextColumn();
      ImGui::TextWrapped("%s", cell.empty() ? "-" : cell.c_str());
    }
  }
  ImGui::EndTable();
}

}  // namespace

void draw_status_panel(const std::vector<StatusLine>& lines) {
  for (const StatusSection& section : group_status_lines(lines)) {
    const bool open_first =
        std::find(kOpenSections.begin(), kOpenSections.end(), section.name) != kOpenSections.end();
    if (!ImGui::TreeNodeEx(section.name.c_str(), open_first ? ImGuiTreeNodeFlags_DefaultOpen : 0))
      continue;
    if (const std::optional<StatusGrid> grid = status_grid(section)) {
      draw_grid(section.name, *grid);
    } else if (ImGui::BeginTable(section.name.c_str(), 2, ImGuiTableFlags_SizingStretchProp)) {
      for (const auto& [name, value] : section.lines) {
        ImGui::TableNextRow();
        ImGui::TableNextColumn();
        ImGui::TextUnformatted(name.c_str());
        ImGui::TableNextColumn();
        ImGui::TextWrapped("%s", value.c_str());  // wraps at the edge, never cut off
      }
      ImGui::EndTable();
    }
    ImGui::TreePop();
  }
}

}  // namespace dw::render
