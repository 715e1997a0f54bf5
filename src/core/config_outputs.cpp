#include "core/config_outputs.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

namespace dw {
namespace {

constexpr const char* kCornerNames[4] = {"top-left", "top-right", "bottom-right", "bottom-left"};

struct P {
  double x, y;
};

double cross(P a, P b) {
  return a.x * b.y - a.y * b.x;
}

P sub(P a, P b) {
  return {a.x - b.x, a.y - b.y};
}

double turn(const std::array<P, 4>& p, int i) {
  return cross(sub(p[i], p[(i + 3) % 4]), sub(p[(i + 1) % 4], p[i]));
}

// The first corner of the polygon p0 -> p1 -> p2 -> p3 that does not turn the unit square's way
// (y down: every turn positive for a convex quad in that order), or -1.
int first_bad_turn(const std::array<P, 4>& p, double min_turn) {
  for (int i = 0; i < 4; ++i)
    if (!(turn(p, i) > min_turn)) return i;
  return -1;
}

std::string corners_text(const std::array<OutputPoint, 4>& c) {
  return fmt::format("[{}, {}], [{}, {}], [{}, {}], [{}, {}]", c[0].x, c[0].y, c[1].x, c[1].y,
                     c[2].x, c[2].y, c[3].x, c[3].y);
}

bool in(double v, double lo, double hi) {
  return std::isfinite(v) && v >= lo && v <= hi;
}

}  // namespace

std::optional<std::string> check_quad(const std::array<OutputPoint, 4>& corners) {
  std::array<P, 4> p;
  for (int i = 0; i < 4; ++i) {
    if (!in(corners[i].x, -10, 10) || !in(corners[i].y, -10, 10))
      return fmt::format("corners {}: the {} corner is not a number within [-10, 10]",
                         corners_text(corners), kCornerNames[i]);
    p[i] = {corners[i].x, corners[i].y};
  }
  const int bad = first_bad_turn(p, 1e-9);
  if (bad < 0) return std::nullopt;
  if (first_bad_turn({p[3], p[2], p[1], p[0]}, 1e-9) < 0)
    return fmt::format(
        "corners {} are in mirrored order (they must go top-left, top-right, "
        "bottom-right, bottom-left; use flip_h / flip_v to mirror)",
        corners_text(corners));
  double largest_turn = 0;
  for (int i = 0; i < 4; ++i) largest_turn = std::max(largest_turn, std::abs(turn(p, i)));
  if (largest_turn < 1e-9)
    return fmt::format("corners {} have no area: they are all the same point or on one line",
                       corners_text(corners));
  return fmt::format(
      "corners {} fold the quad at the {} corner (it is self-intersecting, "
      "non-convex or has three corners on one line)",
      corners_text(corners), kCornerNames[bad]);
}

std::optional<std::string> check_mesh(const OutputMesh& mesh) {
  if (mesh.rows == 0 && mesh.cols == 0 && mesh.points.empty()) return std::nullopt;
  if (mesh.rows < 2 || mesh.rows > 64 || mesh.cols < 2 || mesh.cols > 64)
    return fmt::format("mesh is {} rows x {} cols: each must be in [2, 64]", mesh.rows, mesh.cols);
  const std::size_t want = static_cast<std::size_t>(mesh.rows) * mesh.cols;
  if (mesh.points.size() != want)
    return fmt::format("mesh has {} points but {} rows x {} cols need {}", mesh.points.size(),
                       mesh.rows, mesh.cols, want);
  for (std::size_t i = 0; i < want; ++i) {
    const OutputPoint& q = mesh.points[i];
    if (!in(q.x, -1, 2) || !in(q.y, -1, 2))
      return fmt::format("mesh point {} (row {}, col {}) = [{}, {}] is outside [-1, 2]", i,
                         i / mesh.cols, i % mesh.cols, q.x, q.y);
  }
  const auto at = [&](int r, int c) {
    const OutputPoint& q = mesh.points[static_cast<std::size_t>(r) * mesh.cols + c];
    return P{q.x, q.y};
  };
  for (int r = 0; r + 1 < mesh.rows; ++r)
    for (int c = 0; c + 1 < mesh.cols; ++c) {
      const std::array<P, 4> cell = {at(r, c), at(r, c + 1), at(r + 1, c + 1), at(r + 1, c)};
      if (first_bad_turn(cell, 0) >= 0)
        return fmt::format(
            "mesh cell at row {}, col {} is folded (its points [{}, {}] [{}, {}] [{}, {}] [{}, {}] "
            "must make a convex quad in grid order)",
            r, c, cell[0].x, cell[0].y, cell[1].x, cell[1].y, cell[2].x, cell[2].y, cell[3].x,
            cell[3].y);
    }
  return std::nullopt;
}

OutputMesh identity_mesh(int rows, int cols) {
  OutputMesh m;
  m.rows = rows;
  m.cols = cols;
  for (int r = 0; r < rows; ++r)
    for (int c = 0; c < cols; ++c)
      m.points.push_back(
          {static_cast<double>(c) / (cols - 1), static_cast<double>(r) / (rows - 1)});
  return m;
}

std::optional<std::string> check_output(const OutputConfig& o) {
  if (o.display < 0 || o.display > 63)
    return fmt::format("display = {} is out of range: allowed is an integer in [0, 63]", o.display);
  for (const auto& [name, v] : {std::pair{"width", o.width}, std::pair{"height", o.height}})
    if (v != 0 && (v < 16 || v > 16384))
      return fmt::format("{} = {} is out of range: allowed is 0 (display.{}) or [16, 16384]", name,
                         v, name);
  const OutputRegion& r = o.region;
  if (!in(r.x, 0, 1) || !in(r.y, 0, 1) || !in(r.w, 1e-3, 1) || !in(r.h, 1e-3, 1) ||
      r.x + r.w > 1 + 1e-9 || r.y + r.h > 1 + 1e-9)
    return fmt::format(
        "region = [{}, {}, {}, {}] is out of range: allowed is x, y, w, h in 0..1 "
        "with w, h > 0, x + w <= 1 and y + h <= 1",
        r.x, r.y, r.w, r.h);
  if (o.rotate != 0 && o.rotate != 90 && o.rotate != 180 && o.rotate != 270)
    return fmt::format("rotate = {} is not allowed: allowed is 0, 90, 180 or 270", o.rotate);
  if (auto err = check_quad(o.corners)) return *err;
  if (auto err = check_mesh(o.mesh)) return *err;
  const OutputBlend& b = o.blend;
  for (const auto& [name, v] : {std::pair{"blend_left", b.left}, std::pair{"blend_right", b.right},
                                std::pair{"blend_top", b.top}, std::pair{"blend_bottom", b.bottom}})
    if (!in(v, 0, 1))
      return fmt::format("{} = {} is out of range: allowed is a number in [0, 1]", name, v);
  if (b.left + b.right > 1 || b.top + b.bottom > 1)
    return fmt::format(
        "blend widths overlap: blend_left + blend_right = {} and blend_top + "
        "blend_bottom = {} must each be at most 1",
        b.left + b.right, b.top + b.bottom);
  if (!in(b.curve, 0.1, 10))
    return fmt::format("blend_curve = {} is out of range: allowed is a number in [0.1, 10]",
                       b.curve);
  if (!in(b.gamma, 1, 4))
    return fmt::format("blend_gamma = {} is out of range: allowed is a number in [1, 4]", b.gamma);
  if (!in(b.black_lift, 0, 0.5))
    return fmt::format("black_lift = {} is out of range: allowed is a number in [0, 0.5]",
                       b.black_lift);
  if (!in(o.gamma, 0.2, 5))
    return fmt::format("gamma = {} is out of range: allowed is a number in [0.2, 5]", o.gamma);
  if (!in(o.brightness, 0, 4))
    return fmt::format("brightness = {} is out of range: allowed is a number in [0, 4]",
                       o.brightness);
  return std::nullopt;
}

void known_output_size(const OutputConfig& o, int display_w, int display_h, int& w, int& h) {
  w = h = 0;
  if (o.mode != OutputMode::Windowed) return;
  w = o.width > 0 ? o.width : display_w;
  h = o.height > 0 ? o.height : display_h;
}

OutputsReload reload_outputs(const OutputsConfig& running, const OutputsConfig& loaded) {
  OutputsReload out;
  if (running.canvas_width != loaded.canvas_width || running.canvas_height != loaded.canvas_height)
    out.pending.push_back("outputs.canvas size");
  const std::vector<OutputConfig>& now = running.outputs;
  const std::vector<OutputConfig>& file = loaded.outputs;
  if (now.size() != file.size()) {
    out.pending.push_back(
        fmt::format("[[output]] count ({} running, {} in the file)", now.size(), file.size()));
    return out;  // which running output a table means is not known: nothing applies
  }
  std::vector<OutputConfig> next = now;
  for (std::size_t i = 0; i < now.size(); ++i) {
    OutputConfig picture = file[i];  // the file's picture settings in the running window
    picture.display = now[i].display;
    picture.mode = now[i].mode;
    picture.width = now[i].width;
    picture.height = now[i].height;
    if (picture != file[i])
      out.pending.push_back(fmt::format("output {}'s window (display, mode, size)", i + 1));
    if (picture != now[i]) {
      out.applied.push_back(fmt::format("output {}", i + 1));
      next[i] = std::move(picture);
    }
  }
  if (!out.applied.empty()) out.live = std::move(next);
  return out;
}

}  // namespace dw
