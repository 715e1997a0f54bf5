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
const ImVec4 kAlertColour(1.0f, 0.42f, 0.38f, 1.0f);
const ImVec4 kWarnColour(1.0f, 0.8f, 0.3f, 1.0f);
const ImVec4 kGoodColour(0.55f, 0.9f, 0.55f, 1.0f);
constexpr std::size_t kProblemLines = 3;  // listed under the state line; the rest are counted

void place_next_window(const PanelRect& r) {
  ImGui::SetNextWindowPos(ImVec2(r.x, r.y), ImGuiCond_Always);
  ImGui::SetNextWindowSize(ImVec2(r.width, r.height), ImGuiCond_Always);
  ImGui::SetNextWindowCollapsed(r.collapsed, ImGuiCond_Always);
}

ImVec4 tone_colour(Tone tone) {
  switch (tone) {
    case Tone::Good:
      return kGoodColour;
    case Tone::Warn:
      return kWarnColour;
    case Tone::Alert:
      return kAlertColour;
    case Tone::Plain:
      break;
  }
  return ImGui::GetStyleColorVec4(ImGuiCol_Text);
}

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

// The recording's length counts from the first frame the overlay saw it on, hidden or not.
void Overlay::follow_recording(bool recording) {
  if (!recording)
    recording_since_.reset();
  else if (!recording_since_)
    recording_since_ = std::chrono::steady_clock::now();
}

void Overlay::draw(const OverlayModel& model) {
  apply_main_thread_settings();
  follow_recording(model.state.recording);
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
    // Placed to fit on the first frame and after every change of the window's size, so neither
    // window is left off-screen; in between the user may move and resize them.
    const bool relayout = io.DisplaySize.x != laid_out_w_ || io.DisplaySize.y != laid_out_h_;
    const OverlayLayout layout = overlay_layout(io.DisplaySize.x, io.DisplaySize.y);
    if (relayout) place_next_window(layout.stats);
    draw_stats(model);
    if (relayout) place_next_window(layout.parameters);
    parameters_.draw();
    laid_out_w_ = io.DisplaySize.x;
    laid_out_h_ = io.DisplaySize.y;
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

// The line an operator looks at first: paused or frozen, recording and for how long, the source,
// the problems (the first few listed). Always at the top of the statistics window.
void Overlay::draw_state(const OverlayModel& m) {
  const double recording_s =
      recording_since_
          ? std::chrono::duration<double>(std::chrono::steady_clock::now() - *recording_since_)
                .count()
          : -1.0;
  state_parts_ = state_parts(m.state, recording_s);
  bool first = true;
  const float r = ImGui::GetFontSize() * 0.3f;  // the recording dot's radius
  for (const StatePart& part : state_parts_) {
    const bool rec = part.text.starts_with("REC");
    if (!first) {
      // Parts go on one line while they fit; one that does not starts the next line.
      const float spacing = ImGui::GetFontSize();
      const float right = ImGui::GetWindowPos().x + ImGui::GetWindowContentRegionMax().x;
      const float width = ImGui::CalcTextSize(part.text.c_str()).x + (rec ? 3 * r : 0.0f);
      if (ImGui::GetItemRectMax().x + spacing + width <= right) ImGui::SameLine(0, spacing);
    }
    first = false;
    if (rec) {  // a red dot before it, as a recorder shows
      const ImVec2 at = ImGui::GetCursorScreenPos();
      ImGui::GetWindowDrawList()->AddCircleFilled(
          ImVec2(at.x + r, at.y + ImGui::GetTextLineHeight() * 0.5f), r,
          ImGui::GetColorU32(kAlertColour));
      ImGui::Dummy(ImVec2(2 * r, ImGui::GetTextLineHeight()));
      ImGui::SameLine(0, r);
    }
    ImGui::TextColored(tone_colour(part.tone), "%s", part.text.c_str());
  }
  const std::vector<std::string>& problems = m.state.problems;
  for (std::size_t i = 0; i < problems.size() && i < kProblemLines; ++i)
    ImGui::TextColored(kAlertColour, "%s", problems[i].c_str());
  if (problems.size() > kProblemLines)
    ImGui::TextColored(kAlertColour, "and %zu more (workers and errors below)",
                       problems.size() - kProblemLines);
  ImGui::Separator();
}

void Overlay::draw_stats(const OverlayModel& m) {
  ImGui::Begin("dreamwindow");
  ImGui::PushTextWrapPos(0);  // every line wraps at the window's edge: nothing is cut off
  draw_state(m);
  ImGui::Text("%.1f fps  p50 %.2f ms  p99 %.2f ms  late %llu", m.frames.fps, m.frames.p50_ms,
              m.frames.p99_ms, static_cast<unsigned long long>(m.frames.late));
  draw_frame_graph(m);
  ImGui::Text("content %.1f fps (rate x%.2f)%s", m.frames.content_fps, m.presenter.rate_factor,
              m.presenter.playing ? "" : "  waiting for frames");
  buffer_text_ = buffer_line(m.buffer);
  ImGui::TextUnformatted(buffer_text_.c_str());
  const float fill = m.ring_capacity ? static_cast<float>(m.ring_depth) / m.ring_capacity : 0.0f;
  ImGui::ProgressBar(fill, ImVec2(-1, 0),
                     fmt::format("ring {}/{} frames", m.ring_depth, m.ring_capacity).c_str());
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
  if (!m.key_hint.empty()) ImGui::TextDisabled("%s", m.key_hint.c_str());
  ImGui::PopTextWrapPos();
  ImGui::End();
}

}  // namespace dw::render
