#include "render/warp.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "core/error.h"

namespace dw::render {
namespace {

Vec2 sub(Vec2 a, Vec2 b) {
  return {a.x - b.x, a.y - b.y};
}

Vec2 to_vec(const OutputPoint& p) {
  return {p.x, p.y};
}

// Catmull-Rom weights for the four nodes around a parameter t in [0, 1].
std::array<double, 4> catmull_rom(double t) {
  const double t2 = t * t, t3 = t2 * t;
  return {0.5 * (-t3 + 2 * t2 - t), 0.5 * (3 * t3 - 5 * t2 + 2), 0.5 * (-3 * t3 + 4 * t2 + t),
          0.5 * (t3 - t2)};
}

double ramp(double t, double curve) {
  if (t <= 0) return 0;
  if (t >= 1) return 1;
  const double a = std::pow(t, curve), b = std::pow(1 - t, curve);
  return a / (a + b);
}

}  // namespace

Vec2 project(const Mat3& m, Vec2 p) {
  const double x = m[0] * p.x + m[1] * p.y + m[2];
  const double y = m[3] * p.x + m[4] * p.y + m[5];
  const double w = m[6] * p.x + m[7] * p.y + m[8];
  return {x / w, y / w};
}

Mat3 multiply(const Mat3& a, const Mat3& b) {
  Mat3 r{};
  for (int i = 0; i < 3; ++i)
    for (int j = 0; j < 3; ++j)
      for (int k = 0; k < 3; ++k) r[i * 3 + j] += a[i * 3 + k] * b[k * 3 + j];
  return r;
}

Mat3 invert(const Mat3& m) {
  const double c00 = m[4] * m[8] - m[5] * m[7];
  const double c01 = m[5] * m[6] - m[3] * m[8];
  const double c02 = m[3] * m[7] - m[4] * m[6];
  const double det = m[0] * c00 + m[1] * c01 + m[2] * c02;
  if (!std::isfinite(det) || std::abs(det) < 1e-15) throw Error("singular 3x3 matrix");
  const double s = 1.0 / det;
  return {c00 * s, (m[2] * m[7] - m[1] * m[8]) * s, (m[1] * m[5] - m[2] * m[4]) * s,
          c01 * s, (m[0] * m[8] - m[2] * m[6]) * s, (m[2] * m[3] - m[0] * m[5]) * s,
          c02 * s, (m[1] * m[6] - m[0] * m[7]) * s, (m[0] * m[4] - m[1] * m[3]) * s};
}

Mat3 square_to_quad(const std::array<OutputPoint, 4>& corners) {
  if (auto err = check_quad(corners)) throw InputError(*err);
  const double x0 = corners[0].x, y0 = corners[0].y, x1 = corners[1].x, y1 = corners[1].y;
  const double x2 = corners[2].x, y2 = corners[2].y, x3 = corners[3].x, y3 = corners[3].y;
  // The closed form for the square-to-quad projective map (Heckbert 1989).
  const double sx = x0 - x1 + x2 - x3, sy = y0 - y1 + y2 - y3;
  double g = 0, h = 0;
  if (std::abs(sx) > 1e-15 || std::abs(sy) > 1e-15) {
    const double dx1 = x1 - x2, dx2 = x3 - x2, dy1 = y1 - y2, dy2 = y3 - y2;
    const double den = dx1 * dy2 - dx2 * dy1;
    g = (sx * dy2 - dx2 * sy) / den;
    h = (dx1 * sy - sx * dy1) / den;
  }
  return {x1 - x0 + g * x1, x3 - x0 + h * x3, x0, y1 - y0 + g * y1, y3 - y0 + h * y3, y0, g, h, 1};
}

// ---- mesh -----------------------------------------------------------------------------------

WarpMesh::WarpMesh(const OutputMesh& mesh) : rows_(mesh.rows), cols_(mesh.cols) {
  if (auto err = check_mesh(mesh)) throw InputError(*err);
  if (mesh.empty()) throw InputError("an empty mesh has no surface");
  for (const OutputPoint& p : mesh.points) points_.push_back(to_vec(p));
}

Vec2 WarpMesh::node(int r, int c) const {
  if (c < 0) {
    const Vec2 a = node(r, 0), b = node(r, 1);
    return {2 * a.x - b.x, 2 * a.y - b.y};
  }
  if (c >= cols_) {
    const Vec2 a = node(r, cols_ - 1), b = node(r, cols_ - 2);
    return {2 * a.x - b.x, 2 * a.y - b.y};
  }
  if (r < 0) {
    const Vec2 a = node(0, c), b = node(1, c);
    return {2 * a.x - b.x, 2 * a.y - b.y};
  }
  if (r >= rows_) {
    const Vec2 a = node(rows_ - 1, c), b = node(rows_ - 2, c);
    return {2 * a.x - b.x, 2 * a.y - b.y};
  }
  return points_[static_cast<std::size_t>(r) * cols_ + c];
}

Vec2 WarpMesh::forward(Vec2 uv) const {
  const double gx = uv.x * (cols_ - 1), gy = uv.y * (rows_ - 1);
  const int i = std::clamp(static_cast<int>(std::floor(gx)), 0, cols_ - 2);
  const int j = std::clamp(static_cast<int>(std::floor(gy)), 0, rows_ - 2);
  const auto wx = catmull_rom(gx - i), wy = catmull_rom(gy - j);
  Vec2 out;
  for (int b = 0; b < 4; ++b)
    for (int a = 0; a < 4; ++a) {
      const Vec2 p = node(j - 1 + b, i - 1 + a);
      out.x += wx[a] * wy[b] * p.x;
      out.y += wx[a] * wy[b] * p.y;
    }
  return out;
}

std::optional<Vec2> WarpMesh::inverse(Vec2 q) const {
  const auto newton = [&](Vec2 uv) -> std::optional<Vec2> {
    constexpr double kStep = 1e-6;
    for (int it = 0; it < 40; ++it) {
      const Vec2 f = sub(forward(uv), q);
      if (f.x * f.x + f.y * f.y < 1e-22) return uv;
      const Vec2 fx = sub(forward({uv.x + kStep, uv.y}), forward({uv.x - kStep, uv.y}));
      const Vec2 fy = sub(forward({uv.x, uv.y + kStep}), forward({uv.x, uv.y - kStep}));
      const double a = fx.x / (2 * kStep), b = fy.x / (2 * kStep);
      const double c = fx.y / (2 * kStep), d = fy.y / (2 * kStep);
      const double det = a * d - b * c;
      if (std::abs(det) < 1e-12) return std::nullopt;
      uv.x -= (d * f.x - b * f.y) / det;
      uv.y -= (a * f.y - c * f.x) / det;
      if (std::abs(uv.x) > 3 || std::abs(uv.y) > 3) return std::nullopt;
    }
    return std::nullopt;
  };
  std::optional<Vec2> uv = newton(q);
  if (!uv) {
    // A strong warp: start from the nearest point of a coarse sampling of the surface instead.
    Vec2 best = q;
    double best_d = 1e300;
    for (int y = 0; y <= 16; ++y)
      for (int x = 0; x <= 16; ++x) {
        const Vec2 s{x / 16.0, y / 16.0};
        const Vec2 f = sub(forward(s), q);
        const double dd = f.x * f.x + f.y * f.y;
        if (dd < best_d) best_d = dd, best = s;
      }
    uv = newton(best);
  }
  constexpr double kSlack = 1e-9;
  if (!uv || uv->x < -kSlack || uv->x > 1 + kSlack || uv->y < -kSlack || uv->y > 1 + kSlack)
    return std::nullopt;
  return Vec2{std::clamp(uv->x, 0.0, 1.0), std::clamp(uv->y, 0.0, 1.0)};
}

// ---- blending -------------------------------------------------------------------------------

double blend_weight(const OutputBlend& b, Vec2 uv) {
  double w = 1;
  if (b.left > 0) w *= ramp(uv.x / b.left, b.curve);
  if (b.right > 0) w *= ramp((1 - uv.x) / b.right, b.curve);
  if (b.top > 0) w *= ramp(uv.y / b.top, b.curve);
  if (b.bottom > 0) w *= ramp((1 - uv.y) / b.bottom, b.curve);
  return w;
}

bool outside_ramps(const OutputBlend& b, Vec2 uv) {
  return uv.x >= b.left && uv.x <= 1 - b.right && uv.y >= b.top && uv.y <= 1 - b.bottom;
}

// ---- orientation ----------------------------------------------------------------------------

void logical_size(const Orientation& o, int w, int h, int& lw, int& lh) {
  const bool swapped = o.rotate == 90 || o.rotate == 270;
  lw = swapped ? h : w;
  lh = swapped ? w : h;
}

void physical_to_logical(const Orientation& o, int w, int h, int px, int py, int& lx, int& ly) {
  int lw, lh;
  logical_size(o, w, h, lw, lh);
  int fx = px, fy = py;  // the pixel of the flipped logical picture
  switch (o.rotate) {
    case 90:
      fx = py, fy = lh - 1 - px;
      break;
    case 180:
      fx = lw - 1 - px, fy = lh - 1 - py;
      break;
    case 270:
      fx = lw - 1 - py, fy = px;
      break;
    default:
      break;
  }
  lx = o.flip_h ? lw - 1 - fx : fx;
  ly = o.flip_v ? lh - 1 - fy : fy;
}

// ---- one output -----------------------------------------------------------------------------

OutputWarp::OutputWarp(const OutputConfig& output, int width, int height)
    : region_(output.region), width_(width), height_(height) {
  if (output.rotate != 0 && output.rotate != 90 && output.rotate != 180 && output.rotate != 270)
    throw InputError(fmt::format("rotate = {}: allowed are 0, 90, 180, 270", output.rotate));
  if (width <= 0 || height <= 0)
    throw InputError(fmt::format("output size {}x{} is empty", width, height));
  logical_size({output.rotate, output.flip_h, output.flip_v}, width, height, logical_w_,
               logical_h_);
  homography_ = square_to_quad(output.corners);
  inverse_ = invert(homography_);
  if (!output.mesh.empty()) mesh_.emplace(output.mesh);
}

std::optional<Vec2> OutputWarp::region_point(Vec2 o) const {
  const Vec2 q = project(inverse_, o);
  constexpr double kSlack = 1e-9;
  if (!(q.x >= -kSlack && q.x <= 1 + kSlack && q.y >= -kSlack && q.y <= 1 + kSlack))
    return std::nullopt;
  if (!mesh_) return q;
  return mesh_->inverse(q);
}

Vec2 OutputWarp::canvas_point(Vec2 uv) const {
  return {region_.x + uv.x * region_.w, region_.y + uv.y * region_.h};
}

double output_value(const OutputConfig& output, double value, const PixelLight& p) {
  double v = value;
  if (p.blend != 1 || p.mask != 1 || (p.lift && output.blend.black_lift > 0)) {
    const double g = output.blend.gamma;
    double light = std::pow(std::max(v, 0.0), g) * p.blend * p.mask;
    if (p.lift) light = output.blend.black_lift + light * (1 - output.blend.black_lift);
    v = std::pow(light, 1 / g);
  }
  v *= output.brightness * p.light;
  v = std::pow(std::max(v, 0.0), 1 / output.gamma);
  return std::clamp(v, 0.0, 1.0);
}

namespace {

// Bilinear sampling as GL does it: texel centres at (i + 0.5) / n, edges clamped.
std::array<double, 3> sample(const Image& img, Vec2 p) {
  const double sx = p.x * img.width - 0.5, sy = p.y * img.height - 0.5;
  const int x0 = static_cast<int>(std::floor(sx)), y0 = static_cast<int>(std::floor(sy));
  const double fx = sx - x0, fy = sy - y0;
  std::array<double, 3> out{};
  for (int dy = 0; dy < 2; ++dy)
    for (int dx = 0; dx < 2; ++dx) {
      const int x = std::clamp(x0 + dx, 0, img.width - 1);
      const int y = std::clamp(y0 + dy, 0, img.height - 1);
      const double w = (dx ? fx : 1 - fx) * (dy ? fy : 1 - fy);
      const std::uint8_t* px = img.pixel(x, y);
      for (int c = 0; c < 3; ++c) out[c] += w * px[c] / 255.0;
    }
  return out;
}

}  // namespace

Image render_output_cpu(const Image& canvas, const OutputConfig& output, int width, int height,
                        const Image& mask, double light) {
  const OutputWarp warp(output, width, height);
  if (!mask.empty() && (mask.width != width || mask.height != height))
    throw InputError(fmt::format("mask is {}x{} but the output is {}x{}", mask.width, mask.height,
                                 width, height));
  const Orientation orientation{output.rotate, output.flip_h, output.flip_v};
  Image out(width, height);
  for (int py = 0; py < height; ++py)
    for (int px = 0; px < width; ++px) {
      std::uint8_t* dst = out.pixel(px, py);
      dst[3] = 255;
      int lx, ly;
      physical_to_logical(orientation, width, height, px, py, lx, ly);
      const Vec2 o{(lx + 0.5) / warp.logical_width(), (ly + 0.5) / warp.logical_height()};
      const std::optional<Vec2> uv = warp.region_point(o);
      if (!uv) continue;  // outside the warped picture: black
      PixelLight p;
      p.blend = blend_weight(output.blend, *uv);
      p.lift = outside_ramps(output.blend, *uv);
      p.light = light;
      if (!mask.empty()) {
        const std::uint8_t* m = mask.pixel(px, py);
        p.mask = (0.2126 * m[0] + 0.7152 * m[1] + 0.0722 * m[2]) / 255.0;
      }
      const auto value = sample(canvas, warp.canvas_point(*uv));
      for (int c = 0; c < 3; ++c)
        dst[c] =
            static_cast<std::uint8_t>(std::floor(output_value(output, value[c], p) * 255 + 0.5));
    }
  return out;
}

}  // namespace dw::render
