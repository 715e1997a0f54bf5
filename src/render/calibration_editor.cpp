#include "render/calibration_editor.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>

#include "core/error.h"
#include "render/warp.h"

namespace dw::render {
namespace {

// The corner-pin of an output, or nothing when its quad cannot be built (only a config written
// by hand can hold one: the editor never makes one).
std::optional<Mat3> pin_of(const OutputConfig& o) {
  if (check_quad(o.corners)) return std::nullopt;
  return square_to_quad(o.corners);
}

}  // namespace

CalibrationEditor::CalibrationEditor(std::vector<OutputConfig> outputs)
    : outputs_(std::move(outputs)) {
  if (outputs_.empty()) outputs_.emplace_back();  // one output filling the window, as display.*
}

void CalibrationEditor::select_output(int index) {
  const int n = output_count();
  output_ = ((index % n) + n) % n;
  point_ = std::min(point_, point_count() - 1);
}

int CalibrationEditor::point_count() const {
  const OutputMesh& mesh = outputs_[output_].mesh;
  return 4 + (mesh.empty() ? 0 : mesh.rows * mesh.cols);
}

void CalibrationEditor::select_point(int index) {
  if (index >= 0 && index < point_count()) point_ = index;
}

OutputPoint CalibrationEditor::point(int index) const {
  const OutputConfig& o = outputs_[output_];
  if (index < 4) return o.corners[index];
  const OutputPoint q = o.mesh.points.at(index - 4);
  const auto pin = pin_of(o);
  if (!pin) return q;
  const Vec2 p = project(*pin, {q.x, q.y});
  return {p.x, p.y};
}

int CalibrationEditor::select_nearest(OutputPoint at) {
  double best = std::numeric_limits<double>::infinity();
  for (int i = 0; i < point_count(); ++i) {
    const OutputPoint p = point(i);
    const double d = std::hypot(p.x - at.x, p.y - at.y);
    if (d < best) {
      best = d;
      point_ = i;
    }
  }
  return point_;
}

bool CalibrationEditor::nudge(double dx, double dy) {
  const OutputPoint p = point(point_);
  return move_to(point_, {p.x + dx, p.y + dy});
}

bool CalibrationEditor::drag(OutputPoint from, OutputPoint to) {
  select_nearest(from);
  return nudge(to.x - from.x, to.y - from.y);
}

// Moves point `index` of the selected output to `target` (logical frame), clamped to the output;
// refused when the result would fold. A point the config file set off the output (overscan: a
// corner at -0.05) keeps its place: a nudge moves it from there, never further out, and never
// snaps it to the edge.
bool CalibrationEditor::move_to(int index, OutputPoint target) {
  OutputConfig next = outputs_[output_];
  const OutputPoint now = point(index);
  target = {std::clamp(target.x, std::min(0.0, now.x), std::max(1.0, now.x)),
            std::clamp(target.y, std::min(0.0, now.y), std::max(1.0, now.y))};
  std::optional<std::string> problem;
  if (index < 4) {
    next.corners[index] = target;
    problem = check_quad(next.corners);
    if (problem) problem = fmt::format("corner {}: {}", index + 1, *problem);
  } else {
    const auto pin = pin_of(next);
    if (!pin) {
      refusal_ = "the corners do not make a quad, so mesh points cannot be placed";
      return false;
    }
    const Vec2 q = project(invert(*pin), {target.x, target.y});
    next.mesh.points.at(index - 4) = {q.x, q.y};
    problem = check_mesh(next.mesh);
    if (problem) problem = fmt::format("mesh point {}: {}", index - 3, *problem);
  }
  if (problem) {
    refusal_ = *problem;
    return false;
  }
  refusal_.clear();
  if (next == outputs_[output_]) return true;  // clamped to where it already was
  outputs_[output_] = std::move(next);
  ++version_;
  return true;
}

void CalibrationEditor::set_mesh(int rows, int cols) {
  OutputConfig& o = outputs_[output_];
  o.mesh = rows == 0 ? OutputMesh{} : identity_mesh(rows, cols);
  point_ = std::min(point_, point_count() - 1);
  ++version_;
}

void CalibrationEditor::reset_output() {
  OutputConfig& o = outputs_[output_];
  o.corners = OutputConfig{}.corners;
  if (!o.mesh.empty()) o.mesh = identity_mesh(o.mesh.rows, o.mesh.cols);
  ++version_;
}

}  // namespace dw::render
