// The geometry and light of one output, on the CPU: the corner-pin homography, the warp mesh, the
// blend ramps, rotation and flips, and a reference renderer of an output (the canvas image in, the
// output image out) that the GPU path is tested against. GL-free and thread-safe (pure functions
// and immutable objects).
//
// The chain from an output pixel back to the canvas (output.frag does the same):
//   physical pixel (px, py) of the W x H window
//   -> logical pixel: undo rotation and flips (an exact integer permutation)
//   -> logical point o in 0..1 (pixel centres)
//   -> quad-local point q = H^-1 o (perspective divide), outside 0..1: black
//   -> region point uv = mesh^-1 (q) (the identity without a mesh)
//   -> canvas point region.xy + uv * region.wh, sampled bilinearly
//   light: value^blend_gamma * ramps(uv) * mask, black lift, back to values, then
//          (value * brightness * light)^(1 / gamma).
#pragma once

#include <array>
#include <optional>
#include <string>

#include "core/config_outputs.h"
#include "core/image.h"

namespace dw::render {

struct Vec2 {
  double x = 0, y = 0;
};

// Row-major 3x3 matrix acting on (x, y, 1).
using Mat3 = std::array<double, 9>;

Vec2 project(const Mat3& m, Vec2 p);  // with the perspective divide
Mat3 invert(const Mat3& m);           // throws dw::Error on a singular matrix
Mat3 multiply(const Mat3& a, const Mat3& b);

// The corners and the mesh are checked by dw::check_quad and dw::check_mesh
// (core/config_outputs.h). The homography that takes the unit square's corners (0,0) (1,0) (1,1)
// (0,1) to `corners`. Throws dw::InputError when check_quad refuses them.
Mat3 square_to_quad(const std::array<OutputPoint, 4>& corners);

// A warp mesh as a smooth surface: forward() maps a region point uv to the quad point q it lands
// on (Catmull-Rom through the nodes; linearly extrapolated ghost nodes at the border so that an
// identity mesh is exactly the identity); inverse() solves forward(uv) = q by Newton's method.
class WarpMesh {
 public:
  explicit WarpMesh(const OutputMesh& mesh);  // throws dw::InputError when check_mesh refuses it
  Vec2 forward(Vec2 uv) const;
  // The uv that lands on q, or nothing when no uv in (about) 0..1 does.
  std::optional<Vec2> inverse(Vec2 q) const;

 private:
  Vec2 node(int r, int c) const;  // with linear extrapolation beyond the border
  int rows_, cols_;
  std::vector<Vec2> points_;
};

// The blend ramps' light factor (linear light) at region point uv: the product of the sides'
// ramps, each t^curve / (t^curve + (1 - t)^curve) with t the distance from that edge over the
// width. 1 outside every ramp.
double blend_weight(const OutputBlend& blend, Vec2 uv);
// 1 where uv lies in no ramp (where black lift applies), 0 inside one.
bool outside_ramps(const OutputBlend& blend, Vec2 uv);

// Rotation and flips. The logical picture (what corners and mesh refer to) is flipped, then
// rotated clockwise by `rotate` degrees into the physical window of w x h pixels.
struct Orientation {
  int rotate = 0;
  bool flip_h = false, flip_v = false;
};
// The logical picture's size for a physical window of w x h (swapped for 90 and 270).
void logical_size(const Orientation& o, int w, int h, int& lw, int& lh);
// The logical pixel shown at physical pixel (px, py) (both top-down).
void physical_to_logical(const Orientation& o, int w, int h, int px, int py, int& lx, int& ly);

// One output's geometry for a window of w x h pixels, built once (when the config or the window
// size changes) and then evaluated per pixel.
class OutputWarp {
 public:
  // Throws dw::InputError (naming the field) on a folded quad or mesh or a bad rotation.
  OutputWarp(const OutputConfig& output, int width, int height);
  // The region point uv shown at logical point o (0..1), or nothing outside the warped picture.
  std::optional<Vec2> region_point(Vec2 o) const;
  // The canvas point (0..1, y down) of a region point.
  Vec2 canvas_point(Vec2 uv) const;
  const Mat3& quad_to_logical() const { return homography_; }
  const Mat3& logical_to_quad() const { return inverse_; }
  const std::optional<WarpMesh>& mesh() const { return mesh_; }
  int width() const { return width_; }
  int height() const { return height_; }
  int logical_width() const { return logical_w_; }
  int logical_height() const { return logical_h_; }

 private:
  OutputRegion region_;
  Mat3 homography_{}, inverse_{};
  std::optional<WarpMesh> mesh_;
  int width_, height_, logical_w_, logical_h_;
};

// The light chain of one pixel (values 0..1, not yet rounded): `value` is the canvas sample.
struct PixelLight {
  double blend = 1;   // blend_weight at the pixel
  double mask = 1;    // the mask's value at the pixel (0..1)
  bool lift = false;  // outside the ramps: black lift applies
  double light = 1;   // the schedule's fade
};
double output_value(const OutputConfig& output, double value, const PixelLight& p);

// The reference renderer: what output `output` shows in a width x height window for the canvas
// image `canvas` (bilinear sampling with GL's texel centres and edge clamp; values rounded to 8
// bits as GL does; no dithering). `mask` may be empty (no mask); else it is width x height.
Image render_output_cpu(const Image& canvas, const OutputConfig& output, int width, int height,
                        const Image& mask = {}, double light = 1.0);

}  // namespace dw::render
