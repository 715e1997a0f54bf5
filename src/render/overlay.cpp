#include "render/overlay.h"

#include <fmt/format.h>
#include <imgui.h>
#include <imgui_impl_opengl3.h>
#include <imgui_impl_sdl.h>

#include <algorithm>
#include <cstring>
#include <map>

#include "core/params.h"
#include "render/status_panel.h"

namespace dw::render {

Overlay::Overlay(SDL_Window* window, SDL_GLContext context, ConfigStore& config, bool visible)
    : config_(config), visible_(visible) {
  IMGUI_CHECKVERSION();
  ImGui::CreateContext();
  ImGuiIO& io = ImGui::GetIO();
  io.IniFilename = nullptr;  // no imgui.ini files left in the user's working directory
  ImGui::StyleColorsDark();
  ImGui::GetStyle().Alpha = 0.92f;
  ImGui_ImplSDL2_InitForOpenGL(window, context);
  ImGui_ImplOpenGL3_Init("#version 330 core");
  for (const ParamSpec& p : param_table())
    if (p.type == ParamType::String) text_buffers_.emplace_back(1024, '\0');
}

Overlay::~Overlay() {
  ImGui_ImplOpenGL3_Shutdown();
  ImGui_ImplSDL2_Shutdown();
  ImGui::DestroyContext();
}

bool Overlay::handle_event(const SDL_Event& event) {
  ImGui_ImplSDL2_ProcessEvent(&event);
  if (!visible_) return false;
  const ImGuiIO& io = ImGui::GetIO();
  switch (event.type) {
    case SDL_MOUSEMOTION:
    case SDL_MOUSEBUTTONDOWN:
    case SDL_MOUSEBUTTONUP:
    case SDL_MOUSEWHEEL:
      return io.WantCaptureMouse;
    case SDL_KEYDOWN:
    case SDL_KEYUP:
    case SDL_TEXTINPUT:
      return io.WantCaptureKeyboard;
    default:
      return false;
  }
}

void Overlay::draw(const OverlayModel& model) {
  ImGui_ImplOpenGL3_NewFrame();
  ImGui_ImplSDL2_NewFrame();
  ImGui::NewFrame();
  if (visible_) {
    draw_stats(model);
    draw_parameters();
  }
  ImGui::Render();
  ImGui_ImplOpenGL3_RenderDrawData(ImGui::GetDrawData());
}

void Overlay::draw_stats(const OverlayModel& m) {
  ImGui::SetNextWindowPos(ImVec2(12, 12), ImGuiCond_FirstUseEver);
  ImGui::SetNextWindowSize(ImVec2(380, 0), ImGuiCond_FirstUseEver);
  ImGui::Begin("dreamwindow");
  ImGui::Text("%.1f fps  p50 %.2f ms  p99 %.2f ms  late %llu", m.frames.fps, m.frames.p50_ms,
              m.frames.p99_ms, static_cast<unsigned long long>(m.frames.late));
  if (!m.frame_times.empty()) {
    const float top =
        std::max(34.0f, *std::max_element(m.frame_times.begin(), m.frame_times.end()));
    ImGui::PlotLines("##frametimes", m.frame_times.data(), static_cast<int>(m.frame_times.size()),
                     0, "frame time (ms)", 0.0f, top, ImVec2(-1, 60));
  }
  ImGui::Text("content %.1f fps (rate x%.2f)%s", m.frames.content_fps, m.presenter.rate_factor,
              m.presenter.playing ? "" : "  buffering...");
  const float fill = m.ring_capacity ? static_cast<float>(m.ring_depth) / m.ring_capacity : 0.0f;
  ImGui::ProgressBar(fill, ImVec2(-1, 0),
                     fmt::format("ring {}/{}", m.ring_depth, m.ring_capacity).c_str());
  ImGui::Text("showing keyframe %llu, frame %llu",
              static_cast<unsigned long long>(m.presenter.current_keyframe),
              static_cast<unsigned long long>(m.presenter.current_sequence));
  if (!m.status.empty() && ImGui::CollapsingHeader("pipeline", ImGuiTreeNodeFlags_DefaultOpen)) {
    draw_status_panel(m.status);
  }
  const auto log = LogBoard::install().recent();
  if (ImGui::CollapsingHeader(fmt::format("warnings and errors ({})###log", log.size()).c_str())) {
    for (auto it = log.rbegin(); it != log.rend(); ++it) {
      const ImVec4 colour =
          it->level >= spdlog::level::err ? ImVec4(1, 0.45f, 0.4f, 1) : ImVec4(1, 0.85f, 0.4f, 1);
      ImGui::PushTextWrapPos(0);
      ImGui::TextColored(colour, "%s", it->text.c_str());
      ImGui::PopTextWrapPos();
    }
  }
  ImGui::TextDisabled("F1/Tab: overlay   F11: full-screen   Esc: quit");
  ImGui::End();
}

void Overlay::draw_parameters() {
  ImGui::SetNextWindowPos(ImVec2(404, 12), ImGuiCond_FirstUseEver);
  ImGui::SetNextWindowSize(ImVec2(420, 520), ImGuiCond_FirstUseEver);
  ImGui::Begin("parameters");
  Config draft = *config_.get();
  bool changed = false;
  std::string open_section;
  bool section_open = false;
  std::size_t text_index = 0;
  for (const ParamSpec& p : param_table()) {
    const std::size_t dot = p.key.find('.');
    const std::string section = dot == std::string::npos ? "general" : p.key.substr(0, dot);
    const std::string name = dot == std::string::npos ? p.key : p.key.substr(dot + 1);
    if (section != open_section) {
      open_section = section;
      section_open = ImGui::CollapsingHeader(section.c_str());
    }
    const bool is_text = p.type == ParamType::String;
    std::vector<char>* text = is_text ? &text_buffers_[text_index++] : nullptr;
    if (!section_open) continue;
    const bool live = p.apply == Apply::Live;
    ImGui::PushID(p.key.c_str());
    if (!live) ImGui::BeginDisabled();
    const char* label = name.c_str();
    switch (p.type) {
      case ParamType::Bool:
        changed |= ImGui::Checkbox(label, &p.as_bool(draft));
        break;
      case ParamType::Int:
        changed |= ImGui::SliderInt(label, &p.as_int(draft), static_cast<int>(p.min),
                                    static_cast<int>(p.max), "%d", ImGuiSliderFlags_AlwaysClamp);
        break;
      case ParamType::Float: {
        float v = static_cast<float>(p.as_float(draft));
        const bool wide = p.max / std::max(p.min, 1e-9) > 1000;
        if (ImGui::SliderFloat(
                label, &v, static_cast<float>(p.min), static_cast<float>(p.max), "%.3f",
                ImGuiSliderFlags_AlwaysClamp | (wide ? ImGuiSliderFlags_Logarithmic : 0))) {
          p.as_float(draft) = v;
          changed = true;
        }
        break;
      }
      case ParamType::Choice: {
        int v = p.choice->get(draft);
        std::string items;
        for (const std::string& n : p.choice->names) items += n + '\0';
        if (ImGui::Combo(label, &v, items.c_str())) {
          p.choice->set(draft, v);
          changed = true;
        }
        break;
      }
      case ParamType::String: {
        std::string& value = p.as_string(draft);
        if (!ImGui::IsItemActive() && std::strncmp(text->data(), value.c_str(), text->size()) != 0)
          std::snprintf(text->data(), text->size(), "%s", value.c_str());
        if (ImGui::InputText(label, text->data(), text->size(),
                             ImGuiInputTextFlags_EnterReturnsTrue)) {
          value = text->data();
          changed = true;
        }
        break;
      }
      case ParamType::StringList:
        ImGui::TextDisabled("%s = %s", label, p.value_text(draft).c_str());
        break;
    }
    if (!live) {
      ImGui::EndDisabled();
      ImGui::SameLine();
      ImGui::TextDisabled("(restart)");
    }
    if (ImGui::IsItemHovered())
      ImGui::SetTooltip("%s\n%s", p.help.c_str(), p.allowed_text().c_str());
    ImGui::PopID();
  }
  ImGui::End();
  if (changed) {
    config_.publish(std::move(draft));
    ++edits_;
  }
}

}  // namespace dw::render
