// The canvas and its outputs: projector mapping, blending, calibration and kiosk mode.
//
// The canvas is the content picture at its own resolution (the presenter draws into it once per
// display frame). Each output shows a region of the canvas on one display: through an optional
// corner-pin (a perspective homography) and warp mesh, soft-edge blend ramps, a mask image and its
// own gamma and brightness, then rotated and flipped. With no [[output]] tables the program shows
// one window exactly as it did before outputs existed (display.* alone).
//
// Coordinates: every point here is normalised 0..1 with y down. `region` is in canvas
// coordinates; `corners` and mesh points are in the output's logical frame (the picture before
// rotation and flips: for rotate 90/270 its width and height are the window's swapped).
#pragma once

#include <array>
#include <optional>
#include <string>
#include <vector>

namespace dw {

// The window mode of one output (the same names and order as display.mode's DisplayMode).
enum class OutputMode { Windowed, Borderless, Fullscreen };

struct OutputPoint {
  double x = 0, y = 0;
  bool operator==(const OutputPoint&) const = default;
};

// The part of the canvas an output shows: x, y, w, h in 0..1 (x + w <= 1, y + h <= 1).
struct OutputRegion {
  double x = 0, y = 0, w = 1, h = 1;
  bool operator==(const OutputRegion&) const = default;
};

// A warp mesh: rows x cols control points (row-major, top row first). Point (r, c) is where the
// region's grid node (c / (cols - 1), r / (rows - 1)) lands inside the corner-pinned quad
// (quad-local 0..1 coordinates); between nodes the surface is a Catmull-Rom spline. rows == 0:
// no mesh (the identity).
struct OutputMesh {
  int rows = 0, cols = 0;
  std::vector<OutputPoint> points;
  bool empty() const { return rows == 0; }
  bool operator==(const OutputMesh&) const = default;
};

// Soft-edge blending. Each side's width is a fraction of the region (0: no ramp on that side).
// Across a ramp the light (linear light, after blend_gamma) goes from 0 at the edge to 1 as
// t^curve / (t^curve + (1 - t)^curve), so two overlapping outputs with mirrored ramps of the same
// curve sum to exactly 1 in linear light. black_lift (linear light, 0..1) raises black outside
// the ramps so that the overlap's doubled projector black is matched.
struct OutputBlend {
  double left = 0, right = 0, top = 0, bottom = 0;
  double curve = 1.0;  // ramp exponent: 1 linear in light, > 1 an S-curve
  double gamma = 2.2;  // the projector's gamma: pixel values -> light
  double black_lift = 0.0;
  bool operator==(const OutputBlend&) const = default;
};

struct OutputConfig {
  int display = 0;  // SDL display index
  OutputMode mode = OutputMode::Windowed;
  int width = 0, height = 0;  // windowed size in pixels (0: display.width / display.height)
  OutputRegion region;
  int rotate = 0;  // degrees clockwise: 0, 90, 180 or 270
  bool flip_h = false, flip_v = false;
  // Where the region's corners land in the output (top-left, top-right, bottom-right,
  // bottom-left); the default fills the output.
  std::array<OutputPoint, 4> corners = {{{0, 0}, {1, 0}, {1, 1}, {0, 1}}};
  OutputMesh mesh;
  OutputBlend blend;
  std::string mask;  // PNG of the output's size (after rotation); its luma multiplies the light
  double gamma = 1.0;
  double brightness = 1.0;
  bool operator==(const OutputConfig&) const = default;
};

struct OutputsConfig {
  // The canvas size in pixels; 0: the content frame's size.
  int canvas_width = 0, canvas_height = 0;
  // Empty: one window as configured by display.* (no canvas pass, exactly as before outputs).
  std::vector<OutputConfig> outputs;
};

// Checks that the corners (top-left, top-right, bottom-right, bottom-left) make a convex quad
// with the unit square's winding: a self-intersecting (bow-tie), non-convex, mirrored, collinear
// or zero-area quad is refused. Returns the reason (naming the corners) or nothing.
std::optional<std::string> check_quad(const std::array<OutputPoint, 4>& corners);
// Checks a mesh: 2..64 rows and columns, rows * cols points within [-1, 2], no folded cell (each
// cell's four nodes a convex quad in grid order). An empty mesh (rows 0) is fine.
std::optional<std::string> check_mesh(const OutputMesh& mesh);
// An identity mesh of rows x cols (what calibration starts from).
OutputMesh identity_mesh(int rows, int cols);
// Every field of one output: ranges, region inside the canvas, corners, mesh, blend widths.
// Returns "FIELD ...: why" or nothing. Files (the mask) are checked by check_output_masks.
std::optional<std::string> check_output(const OutputConfig& output);
// What a config reload does with the [[output]] tables. Each output's picture settings (region,
// rotation, flips, corners, mesh, blend, mask, gamma, brightness) apply live, as a calibration drag
// does; what makes the windows (how many, display, mode, size) and the canvas size wait for a
// restart. `live`: the running outputs with the file's picture settings, when any changed.
struct OutputsReload {
  std::optional<std::vector<OutputConfig>> live;
  std::vector<std::string> applied;  // "output 2", ...
  std::vector<std::string> pending;  // "output 1's window (display, mode, size)", ...
};
OutputsReload reload_outputs(const OutputsConfig& running, const OutputsConfig& loaded);

// The window size an output opens with, when it is known before the window exists (windowed:
// its width/height, else display.width/height); 0 x 0 for full-screen modes.
void known_output_size(const OutputConfig& output, int display_w, int display_h, int& w, int& h);

}  // namespace dw
