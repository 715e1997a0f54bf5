#include "render/calibration.h"

#include <spdlog/spdlog.h>

#include <cmath>

#include "render/warp.h"

namespace dw::render {
namespace {

constexpr double kStepPixels = 4.0;   // an arrow key's nudge
constexpr double kFinePixels = 0.25;  // with Shift
constexpr int kGridCellsAcross = 16;
constexpr std::array<double, 9> kIdentity = {1, 0, 0, 0, 1, 0, 0, 0, 1};

// The mesh sizes M cycles through (rows = cols; 0: no mesh).
int next_mesh_size(int rows) {
  return rows == 0 ? 3 : rows == 3 ? 5 : 0;
}

}  // namespace

OutputView::OutputView(const OutputConfig& output, int width, int height)
    : width_(std::max(width, 1)), height_(std::max(height, 1)) {
  const Orientation o{output.rotate, output.flip_h, output.flip_v};
  logical_size(o, width_, height_, logical_w_, logical_h_);
  // The permutation is affine in pixel indices: three pixels give it whole.
  int x0, y0, xx, yx, xy, yy;
  physical_to_logical(o, width_, height_, 0, 0, x0, y0);
  physical_to_logical(o, width_, height_, width_ - 1, 0, xx, yx);
  physical_to_logical(o, width_, height_, 0, height_ - 1, xy, yy);
  const double sx = std::max(width_ - 1, 1), sy = std::max(height_ - 1, 1);
  m_[0] = (xx - x0) / sx;
  m_[1] = (xy - x0) / sy;
  m_[2] = (yx - y0) / sx;
  m_[3] = (yy - y0) / sy;
  if (width_ == 1 && height_ == 1) m_[0] = m_[3] = 1;
  origin_x_ = x0 + 0.5;
  origin_y_ = y0 + 0.5;
}

OutputPoint OutputView::to_logical(OutputPoint window) const {
  const double px = window.x * width_ - 0.5, py = window.y * height_ - 0.5;
  const double lx = origin_x_ + m_[0] * px + m_[1] * py;
  const double ly = origin_y_ + m_[2] * px + m_[3] * py;
  return {lx / logical_w_, ly / logical_h_};
}

OutputPoint OutputView::to_window(OutputPoint logical) const {
  const double lx = logical.x * logical_w_ - origin_x_, ly = logical.y * logical_h_ - origin_y_;
  const double det = m_[0] * m_[3] - m_[1] * m_[2];  // +-1: a permutation of the axes
  const double px = (m_[3] * lx - m_[1] * ly) / det, py = (-m_[2] * lx + m_[0] * ly) / det;
  return {(px + 0.5) / width_, (py + 0.5) / height_};
}

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
      editor_(std::move(outputs)) {
  DW_GL_CHECK(glGenVertexArrays(1, &vertex_array_));
  saved_version_ = editor_.version();
}

Calibration::~Calibration() {
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

bool Calibration::handle_event(const SDL_Event& event, const EventView& view) {
  if (!active_) return false;
  view_ = view;
  if (event.type == SDL_KEYDOWN) return handle_key(event.key);
  return handle_mouse(event, view);
}

OutputView Calibration::selected_view(int width, int height) const {
  return OutputView(editor_.output(editor_.selected_output()), width, height);
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

bool Calibration::handle_mouse(const SDL_Event& event, const EventView& view) {
  const auto at = [&](int x, int y) {
    return selected_view(view.width, view.height)
        .to_logical({(x + 0.5) / std::max(view.width, 1), (y + 0.5) / std::max(view.height, 1)});
  };
  switch (event.type) {
    case SDL_MOUSEBUTTONDOWN: {
      if (event.button.button != SDL_BUTTON_LEFT) return false;
      if (view.output >= 0 && view.output < editor_.output_count())
        editor_.select_output(view.output);  // a press on another projector selects it
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
  // The arrow's direction on the window, turned into the output's logical frame.
  const double step = fine ? kFinePixels : kStepPixels;
  const OutputView view = selected_view(view_.width, view_.height);
  const OutputPoint a = view.to_logical({0.5, 0.5});
  const OutputPoint b = view.to_logical(
      {0.5 + dx * step / std::max(view_.width, 1), 0.5 + dy * step / std::max(view_.height, 1)});
  if (editor_.nudge(b.x - a.x, b.y - a.y))
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
  DW_GL_CHECK(glUniform1i(u("edge"), view.edge ? 1 : 0));
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

void Calibration::draw_canvas(int width, int height) {
  DW_GL_CHECK(glClearColor(0, 0, 0, 1));
  DW_GL_CHECK(glClear(GL_COLOR_BUFFER_BIT));
  for (int k = 0; k < editor_.output_count(); ++k) {
    const OutputRegion& r = editor_.output(k).region;
    PatternView view;
    view.x = static_cast<int>(std::lround(r.x * width));
    view.y = static_cast<int>(std::lround((1.0 - r.y - r.h) * height));  // GL: from the bottom
    view.width = std::max(1, static_cast<int>(std::lround(r.w * width)));
    view.height = std::max(1, static_cast<int>(std::lround(r.h * height)));
    view.canvas = r;
    view.number = k + 1;
    view.edge = false;  // each output's edge is drawn on the output itself (output_marks)
    draw_pattern(view, kIdentity);
  }
}

CalibrationMarks Calibration::output_marks(int index, int width, int height) const {
  if (!active_ || index < 0 || index >= editor_.output_count()) return {};
  return marks(width, height, index);
}

CalibrationMarks Calibration::marks(int view_w, int view_h, int index) const {
  const OutputView view(editor_.output(index), view_w, view_h);
  CalibrationMarks m;
  m.points = index == editor_.selected_output();
  const int count = m.points ? editor_.point_count() : 4;
  for (int i = 0; i < count; ++i) {
    const OutputPoint p =
        view.to_window(m.points ? editor_.point(i) : editor_.output(index).corners[i]);
    m.vertices.insert(m.vertices.end(), {static_cast<float>(p.x), static_cast<float>(p.y),
                                         m.points && i == editor_.selected_point() ? 1.0f : 0.0f});
  }
  return m;
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
  marks_painter_.draw(marks(view_w, view_h, editor_.selected_output()), view_w, view_h);
}

}  // namespace dw::render
