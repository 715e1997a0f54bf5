#include "render/calibration.h"

#include <spdlog/spdlog.h>

#include <cmath>

#include "render/warp.h"

namespace dw::render {
namespace {

constexpr double kStepPixels = 4.0;   // an arrow key's nudge
constexpr double kFinePixels = 0.25;  // with Shift
constexpr float kHandlePixels = 18.0f;
constexpr int kGridCellsAcross = 16;
constexpr std::array<double, 9> kIdentity = {1, 0, 0, 0, 1, 0, 0, 0, 1};

// The mesh sizes M cycles through (rows = cols; 0: no mesh).
int next_mesh_size(int rows) {
  return rows == 0 ? 3 : rows == 3 ? 5 : 0;
}

}  // namespace

const char* pattern_name(Pattern pattern) {
  switch (pattern) {
    case Pattern::Grid:
      return "grid";
    case Pattern::Crosshair:
      return "crosshair";
    case Pattern::ColourBars:
      return "colour bars";
    case Pattern::BlendRamps:
      return "blend ramps";
    case Pattern::Numbers:
      return "numbers";
  }
  return "?";
}

std::optional<Pattern> pattern_from_name(std::string_view name) {
  constexpr std::pair<std::string_view, Pattern> kNames[] = {{"grid", Pattern::Grid},
                                                             {"crosshair", Pattern::Crosshair},
                                                             {"bars", Pattern::ColourBars},
                                                             {"ramps", Pattern::BlendRamps},
                                                             {"numbers", Pattern::Numbers}};
  for (const auto& [n, p] : kNames)
    if (n == name) return p;
  return std::nullopt;
}

Calibration::Calibration(std::vector<OutputConfig> outputs)
    : pattern_program_(shader_dir() / "calibration.vert", shader_dir() / "calibration.frag"),
      handles_program_(shader_dir() / "calibration_handles.vert",
                       shader_dir() / "calibration_handles.frag"),
      editor_(std::move(outputs)) {
  DW_GL_CHECK(glGenVertexArrays(1, &vertex_array_));
  DW_GL_CHECK(glGenVertexArrays(1, &handle_array_));
  DW_GL_CHECK(glGenBuffers(1, &handle_buffer_));
  DW_GL_CHECK(glBindVertexArray(handle_array_));
  DW_GL_CHECK(glBindBuffer(GL_ARRAY_BUFFER, handle_buffer_));
  DW_GL_CHECK(glEnableVertexAttribArray(0));
  DW_GL_CHECK(glVertexAttribPointer(0, 2, GL_FLOAT, GL_FALSE, 3 * sizeof(float), nullptr));
  DW_GL_CHECK(glEnableVertexAttribArray(1));
  DW_GL_CHECK(glVertexAttribPointer(1, 1, GL_FLOAT, GL_FALSE, 3 * sizeof(float),
                                    reinterpret_cast<const void*>(2 * sizeof(float))));
  DW_GL_CHECK(glBindVertexArray(0));
  saved_version_ = editor_.version();
}

Calibration::~Calibration() {
  glDeleteBuffers(1, &handle_buffer_);
  glDeleteVertexArrays(1, &handle_array_);
  glDeleteVertexArrays(1, &vertex_array_);
}

void Calibration::set_active(bool on) {
  if (on == active_) return;
  if (!on) save();
  active_ = on;
  dragging_ = false;
  spdlog::info("calibration {}", on ? "on: P pattern, Tab output, 1-4 corner, arrows nudge, "
                                      "mouse drags, M mesh, S saves, C leaves"
                                    : "off");
}

void Calibration::apply_requests() {
  const std::uint64_t requests = toggle_requests_->load(std::memory_order_relaxed);
  if ((requests - toggles_seen_) % 2 == 1) toggle();
  toggles_seen_ = requests;
}

void Calibration::next_pattern() {
  pattern_ = static_cast<Pattern>((static_cast<int>(pattern_) + 1) % kPatternCount);
}

bool Calibration::handle_event(const SDL_Event& event, int window_w, int window_h) {
  if (!active_) return false;
  view_w_ = std::max(window_w, 1);  // a nudge's pixel, in output units
  view_h_ = std::max(window_h, 1);
  if (event.type == SDL_KEYDOWN) return handle_key(event.key);
  return handle_mouse(event, window_w, window_h);
}

bool Calibration::handle_key(const SDL_KeyboardEvent& key) {
  const bool fine = (key.keysym.mod & KMOD_SHIFT) != 0;
  const SDL_Keycode sym = key.keysym.sym;
  if (sym >= SDLK_1 && sym <= SDLK_4) {
    editor_.select_point(static_cast<int>(sym - SDLK_1));
    return true;
  }
  switch (sym) {
    case SDLK_p:
      next_pattern();
      return true;
    case SDLK_TAB:
      editor_.next_output();
      return true;
    case SDLK_n:
      editor_.select_point((editor_.selected_point() + 1) % editor_.point_count());
      return true;
    case SDLK_LEFT:
      nudge(-1, 0, fine);
      return true;
    case SDLK_RIGHT:
      nudge(1, 0, fine);
      return true;
    case SDLK_UP:
      nudge(0, -1, fine);
      return true;
    case SDLK_DOWN:
      nudge(0, 1, fine);
      return true;
    case SDLK_m: {
      const int size = next_mesh_size(editor_.output(editor_.selected_output()).mesh.rows);
      editor_.set_mesh(size, size);
      changed();
      return true;
    }
    case SDLK_r:
      editor_.reset_output();
      changed();
      return true;
    case SDLK_s:
      save();
      return true;
    case SDLK_c:
    case SDLK_ESCAPE:
      set_active(false);
      return true;
    default:
      return false;
  }
}

bool Calibration::handle_mouse(const SDL_Event& event, int window_w, int window_h) {
  const auto at = [&](int x, int y) {
    return OutputPoint{(x + 0.5) / std::max(window_w, 1), (y + 0.5) / std::max(window_h, 1)};
  };
  switch (event.type) {
    case SDL_MOUSEBUTTONDOWN: {
      if (event.button.button != SDL_BUTTON_LEFT) return false;
      const OutputPoint p = at(event.button.x, event.button.y);
      const OutputPoint grabbed = editor_.point(editor_.select_nearest(p));
      // The point keeps its offset from the mouse: grabbing beside it does not make it jump.
      drag_last_ = {grabbed.x - p.x, grabbed.y - p.y};
      dragging_ = true;
      return true;
    }
    case SDL_MOUSEMOTION: {
      if (!dragging_) return false;
      const OutputPoint p = at(event.motion.x, event.motion.y);
      const OutputPoint now = editor_.point(editor_.selected_point());
      if (editor_.nudge(p.x + drag_last_.x - now.x, p.y + drag_last_.y - now.y)) changed();
      return true;
    }
    case SDL_MOUSEBUTTONUP:
      if (event.button.button != SDL_BUTTON_LEFT || !dragging_) return false;
      dragging_ = false;
      return true;
    default:
      return false;
  }
}

void Calibration::nudge(int dx, int dy, bool fine) {
  const double step = fine ? kFinePixels : kStepPixels;
  if (editor_.nudge(dx * step / view_w_, dy * step / view_h_))
    changed();
  else
    spdlog::info("calibration: refused: {}", editor_.refusal());
}

void Calibration::changed() {
  if (on_change) on_change(editor_.outputs());
}

void Calibration::save() {
  if (editor_.version() == saved_version_) return;
  if (on_save) on_save(editor_.outputs());
  saved_version_ = editor_.version();
}

void Calibration::draw_pattern(const PatternView& view, const std::array<double, 9>& to_pattern) {
  DW_GL_CHECK(glViewport(view.x, view.y, view.width, view.height));
  DW_GL_CHECK(glDisable(GL_BLEND));
  DW_GL_CHECK(glUseProgram(pattern_program_.id()));
  const auto u = [this](const char* name) { return pattern_program_.uniform(name); };
  DW_GL_CHECK(
      glUniform2f(u("view_size"), static_cast<float>(view.width), static_cast<float>(view.height)));
  DW_GL_CHECK(
      glUniform2f(u("view_origin"), static_cast<float>(view.x), static_cast<float>(view.y)));
  std::array<float, 9> m{};
  for (int i = 0; i < 9; ++i) m[i] = static_cast<float>(to_pattern[i]);
  DW_GL_CHECK(glUniformMatrix3fv(u("to_pattern"), 1, GL_TRUE, m.data()));  // rows -> columns
  DW_GL_CHECK(glUniform1i(u("pattern"), static_cast<int>(pattern_)));
  DW_GL_CHECK(glUniform1i(u("number"), view.number));
  const OutputRegion& r = view.canvas;
  DW_GL_CHECK(glUniform4f(u("canvas"), static_cast<float>(r.x), static_cast<float>(r.y),
                          static_cast<float>(r.w), static_cast<float>(r.h)));
  // Square cells across the whole canvas: 16 across its width.
  const double canvas_aspect =
      (view.width / std::max(r.w, 1e-6)) / (view.height / std::max(r.h, 1e-6));
  const double rows = std::max(1.0, std::round(kGridCellsAcross / canvas_aspect));
  DW_GL_CHECK(
      glUniform2f(u("grid_cells"), static_cast<float>(kGridCellsAcross), static_cast<float>(rows)));
  DW_GL_CHECK(glBindVertexArray(vertex_array_));
  DW_GL_CHECK(glDrawArrays(GL_TRIANGLES, 0, 3));
  DW_GL_CHECK(glBindVertexArray(0));
}

void Calibration::draw_handles(int view_w, int view_h) {
  std::vector<float> vertices;
  for (int i = 0; i < editor_.point_count(); ++i) {
    const OutputPoint p = editor_.point(i);
    vertices.insert(vertices.end(), {static_cast<float>(p.x), static_cast<float>(p.y),
                                     i == editor_.selected_point() ? 1.0f : 0.0f});
  }
  DW_GL_CHECK(glViewport(0, 0, view_w, view_h));
  DW_GL_CHECK(glUseProgram(handles_program_.id()));
  DW_GL_CHECK(glBindVertexArray(handle_array_));
  DW_GL_CHECK(glBindBuffer(GL_ARRAY_BUFFER, handle_buffer_));
  DW_GL_CHECK(glBufferData(GL_ARRAY_BUFFER,
                           static_cast<GLsizeiptr>(vertices.size() * sizeof(float)),
                           vertices.data(), GL_STREAM_DRAW));
  DW_GL_CHECK(glEnable(GL_PROGRAM_POINT_SIZE));
  DW_GL_CHECK(glUniform1f(handles_program_.uniform("point_size"), kHandlePixels));
  DW_GL_CHECK(glUniform1i(handles_program_.uniform("points"), 0));
  DW_GL_CHECK(glDrawArrays(GL_LINE_LOOP, 0, 4));  // the corner quad's outline
  DW_GL_CHECK(glUniform1i(handles_program_.uniform("points"), 1));
  DW_GL_CHECK(glDrawArrays(GL_POINTS, 0, editor_.point_count()));
  DW_GL_CHECK(glDisable(GL_PROGRAM_POINT_SIZE));
  DW_GL_CHECK(glBindVertexArray(0));
}

void Calibration::draw_preview(int view_w, int view_h) {
  const OutputConfig& output = editor_.output(editor_.selected_output());
  // The editor never makes a folded quad; one from a hand-written config shows unpinned.
  const std::array<double, 9> to_pattern =
      check_quad(output.corners) ? kIdentity : invert(square_to_quad(output.corners));
  PatternView view;
  view.width = view_w;
  view.height = view_h;
  view.canvas = output.region;
  view.number = editor_.selected_output() + 1;
  DW_GL_CHECK(glClearColor(0, 0, 0, 1));
  DW_GL_CHECK(glClear(GL_COLOR_BUFFER_BIT));
  draw_pattern(view, to_pattern);
  draw_handles(view_w, view_h);
}

}  // namespace dw::render
