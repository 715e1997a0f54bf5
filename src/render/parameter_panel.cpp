#include "render/parameter_panel.h"

#include <fmt/format.h>
#include <imgui.h>
#include <imgui_stdlib.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <map>

#include "core/files.h"

namespace dw::render {
namespace {

const ImVec4 kPendingColour(1.0f, 0.8f, 0.35f, 1.0f);
const ImVec4 kErrorColour(1.0f, 0.45f, 0.4f, 1.0f);

std::string section_of(const ParamSpec& p) {
  const std::size_t dot = p.key.find('.');
  return dot == std::string::npos ? "general" : p.key.substr(0, dot);
}

// A text field whose text lives here while it is being edited (the config is rebuilt every
// frame), so no keystroke is lost; true on the frame it is left after an edit (Enter, Tab or a
// click elsewhere), with `value` set to the new text.
bool text_field(const char* label, std::string& value) {
  static std::map<ImGuiID, std::string> editing;
  const ImGuiID id = ImGui::GetID(label);
  auto it = editing.find(id);
  std::string text = it != editing.end() ? it->second : value;
  ImGui::InputText(label, &text);
  const bool done = ImGui::IsItemDeactivatedAfterEdit();
  if (ImGui::IsItemActive())
    editing[id] = text;
  else if (it != editing.end())
    editing.erase(id);
  if (done) value = text;
  return done;
}

// A list as one text field per item, a remove button each and a field that appends.
bool list_widget(const std::string& name, std::vector<std::string>& items) {
  bool changed = false;
  ImGui::TextUnformatted(name.c_str());
  ImGui::Indent();
  for (std::size_t i = 0; i < items.size(); ++i) {
    ImGui::PushID(static_cast<int>(i));
    if (ImGui::SmallButton("x")) {
      items.erase(items.begin() + static_cast<std::ptrdiff_t>(i));
      changed = true;
      ImGui::PopID();
      break;
    }
    ImGui::SameLine();
    changed |= text_field("##item", items[i]);
    ImGui::PopID();
  }
  std::string added;
  if (text_field("add##new", added) && !added.empty()) {
    items.push_back(added);
    changed = true;
  }
  ImGui::Unindent();
  // Empty items mean nothing (the command line drops them too).
  std::erase_if(items, [](const std::string& s) { return s.empty(); });
  return changed;
}

// The decimals that show x exactly, up to 3.
int decimals_of(double x) {
  for (int d = 0; d < 3; ++d) {
    const double scaled = std::abs(x) * std::pow(10.0, d);
    if (std::abs(scaled - std::round(scaled)) < 1e-6 * std::max(1.0, scaled)) return d;
  }
  return 3;
}

bool number_widget(const ParamSpec& p, const char* label, Config& view) {
  const ImGuiSliderFlags flags =
      ImGuiSliderFlags_AlwaysClamp | (slider_logarithmic(p) ? ImGuiSliderFlags_Logarithmic : 0);
  if (p.type == ParamType::Int)
    return ImGui::SliderInt(label, &p.as_int(view), static_cast<int>(p.min),
                            static_cast<int>(p.max), "%d", flags);
  float v = static_cast<float>(p.as_float(view));
  const std::string format = slider_format(p, p.as_float(view));
  if (!ImGui::SliderFloat(label, &v, static_cast<float>(p.min), static_cast<float>(p.max),
                          format.c_str(), flags))
    return false;
  p.as_float(view) = v;
  return true;
}

// A string row with the server's own choices: a list of them. A value the server does not offer
// (set in the file before the server was seen) stays visible, marked, until one is picked.
bool offered_widget(const char* label, std::string& value, const std::vector<std::string>& names) {
  const bool listed = std::find(names.begin(), names.end(), value) != names.end();
  const std::string preview = listed ? value : value + "  (not offered by the server)";
  if (!ImGui::BeginCombo(label, preview.c_str())) return false;
  bool changed = false;
  for (const std::string& n : names)
    if (ImGui::Selectable(n.c_str(), n == value) && n != value) {
      value = n;
      changed = true;
    }
  ImGui::EndCombo();
  return changed;
}

bool choice_widget(const ParamSpec& p, const char* label, Config& view) {
  int v = p.choice->get(view);
  std::string items;
  for (const std::string& n : p.choice->names) items += n + '\0';
  if (!ImGui::Combo(label, &v, items.c_str())) return false;
  p.choice->set(view, v);
  return true;
}

}  // namespace

bool slider_logarithmic(const ParamSpec& p) {
  return p.min > 0 && p.max / p.min > 1000;
}

std::string slider_format(const ParamSpec& p, double value) {
  // The range sets the step a drag makes: whole numbers over a range of 100 or more, tenths over
  // 10, hundredths over 1, else thousandths. The range's ends and the value itself keep the
  // decimals they need (a timeout of 0.5 s in [0.1, 60] shows "0.5", not "0" or "0.500").
  const double span = p.max - p.min;
  int decimals = span >= 100 ? 0 : span >= 10 ? 1 : span >= 1 ? 2 : 3;
  decimals = std::max({decimals, decimals_of(p.min), decimals_of(value)});
  return fmt::format("%.{}f", decimals);
}

std::string section_unused_reason(std::string_view section, const Config& config) {
  if (section != "comfy" && section != "prompts") return "";
  const SourceKind kind = config.source.kind;
  if (kind == SourceKind::Folder)
    return "not used now: source is folder (source.kind); set source.kind to auto or comfy";
  if (kind == SourceKind::Comfy) return "";
  if (kind == SourceKind::Auto && !config.comfy.urls.empty()) return "";
  return "not used now: source is offline (comfy.urls is empty); add a server URL below, save "
         "and restart to use ComfyUI";
}

ParameterPanel::ParameterPanel(ParamEditor& editor) : editor_(editor) {}

ParameterPanel::ParameterPanel(ConfigStore& config, std::string save_path)
    : owned_(std::make_unique<ParamEditor>(config, std::move(save_path))), editor_(*owned_) {}

std::optional<std::string> ParameterPanel::commit(const ParamSpec& p, const Config& edited) {
  EditOutcome out = editor_.edit(p.key, p.value_text(edited));
  save_failed_ = !out.ok;
  save_message_ = out.error;
  if (!out.ok) return out.error;
  return std::nullopt;
}

std::optional<std::string> ParameterPanel::edit(std::string_view key, std::string_view value) {
  EditOutcome out = editor_.edit(key, value);
  if (!out.ok) return out.error;
  save_message_.clear();
  save_failed_ = false;
  return std::nullopt;
}

std::optional<std::string> ParameterPanel::save() {
  auto err = editor_.save();
  save_failed_ = err.has_value();
  if (err) {
    save_message_ = *err;
    spdlog::error("overlay: {}", *err);
    return err;
  }
  save_message_ = fmt::format("saved the edited values to {}", editor_.save_path());
  spdlog::info("overlay: {}", save_message_);
  return std::nullopt;
}

void ParameterPanel::draw_save_bar() {
  if (ImGui::Button("save")) save();
  if (ImGui::IsItemHovered())
    ImGui::SetTooltip("writes the edited values to %s", editor_.save_path().c_str());
  ImGui::SameLine();
  ImGui::PushTextWrapPos(0);  // a long path wraps instead of being cut off
  if (!save_message_.empty())
    ImGui::TextColored(save_failed_ ? kErrorColour : ImVec4(0.6f, 0.9f, 0.6f, 1), "%s",
                       save_message_.c_str());
  else if (const std::size_t unsaved = editor_.unsaved().size(); unsaved > 0)
    ImGui::TextColored(kPendingColour, "%zu unsaved edit(s)", unsaved);
  else
    ImGui::TextDisabled("no edits");
  if (const std::size_t pending = editor_.pending_restart().size(); pending > 0)
    ImGui::TextColored(kPendingColour, "%zu edit(s) apply after a restart (save first)", pending);
  ImGui::TextDisabled("names ending in * apply after a restart");
  ImGui::PopTextWrapPos();
  ImGui::Separator();
}

bool ParameterPanel::draw_row(const ParamSpec& p, Config& view, bool in_use,
                              const std::set<std::string>& pending_keys) {
  const std::size_t dot = p.key.find('.');
  // A restart row's name ends in " *"; once edited here it turns the colour of pending edits.
  const std::string name = (dot == std::string::npos ? p.key : p.key.substr(dot + 1)) +
                           (p.apply == Apply::Restart ? " *" : "");
  const bool pending = pending_keys.contains(p.key);
  ImGui::PushID(p.key.c_str());
  if (!in_use) ImGui::PushStyleVar(ImGuiStyleVar_Alpha, ImGui::GetStyle().Alpha * 0.6f);
  if (pending) ImGui::PushStyleColor(ImGuiCol_Text, kPendingColour);
  bool changed = false;
  switch (p.type) {
    case ParamType::Bool:
      changed = ImGui::Checkbox(name.c_str(), &p.as_bool(view));
      break;
    case ParamType::Int:
    case ParamType::Float:
      changed = number_widget(p, name.c_str(), view);
      break;
    case ParamType::Choice:
      changed = choice_widget(p, name.c_str(), view);
      break;
    case ParamType::String:
      if (const auto offered = editor_.choices(p.key); !offered.empty())
        changed = offered_widget(name.c_str(), p.as_string(view), offered);
      else
        changed = text_field(name.c_str(), p.as_string(view));
      break;
    case ParamType::StringList:
      changed = list_widget(name, p.as_list(view));
      break;
  }
  if (pending) ImGui::PopStyleColor();
  if (ImGui::IsItemHovered())
    ImGui::SetTooltip("%s\n%s\n%s\napplies %s", p.key.c_str(), p.help.c_str(),
                      p.allowed_text().c_str(),
                      p.apply == Apply::Live ? "at once" : "after a restart (save first)");
  if (!in_use) ImGui::PopStyleVar();
  ImGui::PopID();
  return changed;
}

void ParameterPanel::draw() {
  ImGui::Begin("parameters");
  draw_save_bar();
  ImGui::PushItemWidth(-ImGui::GetFontSize() * 13);  // room for the longest names
  Config shown = view();
  const std::set<std::string> pending = editor_.pending_restart();
  std::string section;
  bool open = false;
  std::string reason;
  for (const ParamSpec& p : param_table()) {
    if (section_of(p) != section) {
      section = section_of(p);
      reason = section_unused_reason(section, shown);
      const std::string header =
          reason.empty() ? section : fmt::format("{}  (not used now)###{}", section, section);
      open = ImGui::CollapsingHeader(header.c_str());
      if (open && !reason.empty()) {
        ImGui::PushTextWrapPos(0);
        ImGui::TextDisabled("%s", reason.c_str());
        ImGui::PopTextWrapPos();
      }
    }
    if (!open) continue;
    if (draw_row(p, shown, reason.empty(), pending)) {  // only p's field of `shown` changed
      commit(p, shown);                                 // a refusal is shown beside the save button
      shown = view();
    }
  }
  ImGui::PopItemWidth();
  ImGui::End();
}

}  // namespace dw::render
