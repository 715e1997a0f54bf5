#include "render/overlay.h"

#include <fmt/format.h>
#include <imgui.h>
#include <imgui_impl_opengl3.h>
#include <imgui_impl_sdl.h>

#include <algorithm>
#include <cstring>
#include <map>
#include <vector>

#include "core/params.h"
#include "render/status_panel.h"

namespace dw::render {
namespace {

const ImVec4 kGraphColour(0.3f, 0.85f, 1.0f, 1.0f);  // a colour nothing else in the overlay uses

}  // namespace

Overlay::Overlay(SDL_Window* window, SDL_GLContext context, ConfigStore& config, bool visible,
                 std::string save_path)
    : config_(config),
      visible_(visible),
      parameters_(config, std::move(save_path)),
      seen_version_(config.version()) {
  init_imgui(window, context);
}

Overlay::Overlay(SDL_Window* window, SDL_GLContext context, ConfigStore& config,
                 ParamEditor& editor, bool visible)
    : config_(config), visible_(visible), parameters_(editor), seen_version_(config.version()) {
  init_imgui(window, context);
}

void Overlay::init_imgui(SDL_Window* window, SDL_GLContext context) {
  IMGUI_CHECKVERSION();
  ImGui::CreateContext();
  ImGuiIO& io = ImGui::GetIO();
  io.IniFilename = nullptr;  // no imgui.ini files left in the user's working directory
  ImGui::StyleColorsDark();
  ImGui::GetStyle().Alpha = 0.92f;
  ImGui_ImplSDL2_InitForOpenGL(window, context);
  ImGui_ImplOpenGL3_Init("#version 330 core");
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

void Overlay::apply_main_thread_settings() {
  const std::uint64_t version = config_.version();
  if (version == seen_version_) return;
  seen_version_ = version;
  apply_log_level(static_cast<int>(config_.get()->log_level));
}

void Overlay::draw(const OverlayModel& model) {
  apply_main_thread_settings();
  // Hidden, the overlay leaves the cursor alone (kiosk mode and full-screen hide it); ImGui would
  // show it again on every frame.
  ImGuiIO& io = ImGui::GetIO();
  if (visible_)
    io.ConfigFlags &= ~ImGuiConfigFlags_NoMouseCursorChange;
  else
    io.ConfigFlags |= ImGuiConfigFlags_NoMouseCursorChange;
  ImGui_ImplOpenGL3_NewFrame();
  ImGui_ImplSDL2_NewFrame();
  ImGui::NewFrame();
  if (visible_) {
    draw_stats(model);
    parameters_.draw();
  }
  ImGui::Render();
  ImGui_ImplOpenGL3_RenderDrawData(ImGui::GetDrawData());
}

// The frame-time graph across the window's width. Dear ImGui 1.86's PlotLines turns a width of -1
// into a negative size here, so the width is computed.
void Overlay::draw_frame_graph(const OverlayModel& m) {
  const float width = std::max(ImGui::GetContentRegionAvail().x, 64.0f);
  const ImVec2 size(width, 60.0f);
  if (m.frame_times.empty()) {
    ImGui::Dummy(size);  // the window keeps its layout until the first numbers arrive
    graph_rect_ = {};
    return;
  }
  // The scale follows the usual frame times (the 95th percentile, with room above), not the
  // longest: one long frame (start-up, a stall) would flatten every other one onto the axis. The
  // few above the scale are drawn at its top.
  std::vector<float> sorted = m.frame_times;
  const auto p95 = sorted.begin() + static_cast<std::ptrdiff_t>((sorted.size() - 1) * 95 / 100);
  std::nth_element(sorted.begin(), p95, sorted.end());
  const float top = std::max(34.0f, 1.5f * *p95);
  ImGui::PushStyleColor(ImGuiCol_PlotLines, kGraphColour);
  ImGui::PlotLines("##frametimes", m.frame_times.data(), static_cast<int>(m.frame_times.size()), 0,
                   fmt::format("frame time, 0-{:.0f} ms", top).c_str(), 0.0f, top, size);
  ImGui::PopStyleColor();
  const ImVec2 min = ImGui::GetItemRectMin(), max = ImGui::GetItemRectMax();
  graph_rect_ = {min.x, min.y, max.x - min.x, max.y - min.y};
}

void Overlay::draw_stats(const OverlayModel& m) {
  ImGui::SetNextWindowPos(ImVec2(12, 12), ImGuiCond_FirstUseEver);
  ImGui::SetNextWindowSize(ImVec2(460, 0), ImGuiCond_FirstUseEver);
  ImGui::Begin("dreamwindow");
  ImGui::PushTextWrapPos(0);  // every line wraps at the window's edge: nothing is cut off
  ImGui::Text("%.1f fps  p50 %.2f ms  p99 %.2f ms  late %llu", m.frames.fps, m.frames.p50_ms,
              m.frames.p99_ms, static_cast<unsigned long long>(m.frames.late));
  draw_frame_graph(m);
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
      ImGui::TextColored(colour, "%s", it->text.c_str());
    }
  }
  ImGui::TextDisabled("F1/Tab: overlay   F11: full-screen   Esc: quit");
  ImGui::PopTextWrapPos();
  ImGui::End();
}

}  // namespace dw::render
