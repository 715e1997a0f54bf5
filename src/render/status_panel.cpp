#include "render/status_panel.h"

#include <imgui.h>

#include <algorithm>
#include <array>
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

void draw_status_panel(const std::vector<StatusLine>& lines) {
  for (const StatusSection& section : group_status_lines(lines)) {
    const bool open_first =
        std::find(kOpenSections.begin(), kOpenSections.end(), section.name) != kOpenSections.end();
    if (!ImGui::TreeNodeEx(section.name.c_str(), open_first ? ImGuiTreeNodeFlags_DefaultOpen : 0))
      continue;
    if (ImGui::BeginTable(section.name.c_str(), 2, ImGuiTableFlags_SizingStretchProp)) {
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
