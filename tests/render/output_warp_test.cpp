// The outputs' geometry and light on the CPU (render/warp.h): the corner-pin is a true
// perspective map, folded quads and meshes are refused by name, the mesh passes through its
// nodes and inverts, mirrored blend ramps sum to one in linear light, rotation and flips are exact
// permutations, and the reference renderer shows what these promise. Also which output windows wait
// for vsync.
#include <gtest/gtest.h>

#include <cmath>
#include <set>

#include "core/error.h"
#include "render/outputs.h"
#include "render/warp.h"

namespace dw::render {
namespace {

using Corners = std::array<OutputPoint, 4>;

// The intersection of the lines a-b and c-d.
Vec2 intersect(Vec2 a, Vec2 b, Vec2 c, Vec2 d) {
  const double den = (a.x - b.x) * (c.y - d.y) - (a.y - b.y) * (c.x - d.x);
  const double s = a.x * b.y - a.y * b.x, t = c.x * d.y - c.y * d.x;
  return {(s * (c.x - d.x) - (a.x - b.x) * t) / den, (s * (c.y - d.y) - (a.y - b.y) * t) / den};
}

TEST(CornerPin, MapsTheSquaresCornersAndIsPerspectiveCorrect) {
  const Corners quad = {{{0.1, 0.05}, {0.95, 0.2}, {0.8, 0.9}, {0.05, 0.7}}};
  const Mat3 h = square_to_quad(quad);
  const Vec2 unit[4] = {{0, 0}, {1, 0}, {1, 1}, {0, 1}};
  for (int i = 0; i < 4; ++i) {
    const Vec2 p = project(h, unit[i]);
    EXPECT_NEAR(p.x, quad[i].x, 1e-12);
    EXPECT_NEAR(p.y, quad[i].y, 1e-12);
  }
  // A projective map sends the square's centre to where the quad's diagonals cross; a bilinear
  // quad (or two affine triangles) would not.
  const Vec2 centre = project(h, {0.5, 0.5});
  const Vec2 cross = intersect({quad[0].x, quad[0].y}, {quad[2].x, quad[2].y},
                               {quad[1].x, quad[1].y}, {quad[3].x, quad[3].y});
  EXPECT_NEAR(centre.x, cross.x, 1e-12);
  EXPECT_NEAR(centre.y, cross.y, 1e-12);
  const double bilinear_x = (quad[0].x + quad[1].x + quad[2].x + quad[3].x) / 4;
  EXPECT_GT(std::abs(centre.x - bilinear_x), 1e-3);
  // Straight lines stay straight: three points on the square's diagonal stay collinear.
  const Vec2 a = project(h, {0.2, 0.3}), b = project(h, {0.5, 0.45}), c = project(h, {0.8, 0.6});
  EXPECT_NEAR((b.x - a.x) * (c.y - a.y) - (b.y - a.y) * (c.x - a.x), 0, 1e-12);
  // The inverse takes the quad back to the square.
  const Vec2 back = project(invert(h), centre);
  EXPECT_NEAR(back.x, 0.5, 1e-12);
  EXPECT_NEAR(back.y, 0.5, 1e-12);
}

TEST(CornerPin, TheDefaultCornersAreTheIdentity) {
  const Mat3 h = square_to_quad(OutputConfig{}.corners);
  const Vec2 p = project(h, {0.3, 0.7});
  EXPECT_DOUBLE_EQ(p.x, 0.3);
  EXPECT_DOUBLE_EQ(p.y, 0.7);
}

TEST(CornerPin, FoldedQuadsAreRefusedNamingTheCorner) {
  // Bow-tie: the bottom corners swapped.
  auto err = check_quad({{{0, 0}, {1, 0}, {0, 1}, {1, 1}}});
  ASSERT_TRUE(err.has_value());
  EXPECT_NE(err->find("fold"), std::string::npos) << *err;
  EXPECT_NE(err->find("[0, 0], [1, 0], [0, 1], [1, 1]"), std::string::npos) << *err;
  // Non-convex: the bottom-right corner pushed inside.
  err = check_quad({{{0, 0}, {1, 0}, {0.3, 0.3}, {0, 1}}});
  ASSERT_TRUE(err.has_value());
  EXPECT_NE(err->find("bottom-right"), std::string::npos) << *err;
  // Three corners on one line.
  err = check_quad({{{0, 0}, {0.5, 0}, {1, 0}, {0, 1}}});
  ASSERT_TRUE(err.has_value());
  EXPECT_NE(err->find("top-right"), std::string::npos) << *err;
  // All on one line / all the same point.
  EXPECT_TRUE(check_quad({{{0, 0}, {0.3, 0.3}, {0.6, 0.6}, {1, 1}}}).has_value());
  EXPECT_TRUE(check_quad({{{0.5, 0.5}, {0.5, 0.5}, {0.5, 0.5}, {0.5, 0.5}}}).has_value());
  // Mirrored order: said so, with the way to mirror.
  err = check_quad({{{1, 0}, {0, 0}, {0, 1}, {1, 1}}});
  ASSERT_TRUE(err.has_value());
  EXPECT_NE(err->find("flip_h"), std::string::npos) << *err;
  EXPECT_THROW(square_to_quad({{{0, 0}, {1, 0}, {0, 1}, {1, 1}}}), InputError);
  // A keystone trapezoid is fine.
  EXPECT_EQ(check_quad({{{0.1, 0}, {0.9, 0}, {1, 1}, {0, 1}}}), std::nullopt);
}

TEST(Mesh, IdentityMeshIsTheIdentityAndAMovedNodeIsPassedThrough) {
  const WarpMesh identity(identity_mesh(4, 5));
  for (double u : {0.0, 0.13, 0.5, 0.77, 1.0})
    for (double v : {0.0, 0.31, 0.9}) {
      const Vec2 q = identity.forward({u, v});
      EXPECT_NEAR(q.x, u, 1e-12);
      EXPECT_NEAR(q.y, v, 1e-12);
    }
  OutputMesh m = identity_mesh(3, 3);
  m.points[4] = {0.6, 0.45};  // the centre node moved
  const WarpMesh warped(m);
  const Vec2 centre = warped.forward({0.5, 0.5});
  EXPECT_NEAR(centre.x, 0.6, 1e-12);
  EXPECT_NEAR(centre.y, 0.45, 1e-12);
  const Vec2 corner = warped.forward({1, 1});
  EXPECT_NEAR(corner.x, 1, 1e-12);
  EXPECT_NEAR(corner.y, 1, 1e-12);
  // Smooth: no kink at the node (the slope on both sides agrees).
  const double h = 1e-4;
  const double left = (warped.forward({0.5, 0.5}).x - warped.forward({0.5 - h, 0.5}).x) / h;
  const double right = (warped.forward({0.5 + h, 0.5}).x - warped.forward({0.5, 0.5}).x) / h;
  EXPECT_NEAR(left, right, 1e-2);
  // The inverse undoes the forward map everywhere inside.
  for (double u : {0.05, 0.3, 0.5, 0.71, 0.95})
    for (double v : {0.02, 0.4, 0.66, 0.99}) {
      const auto uv = warped.inverse(warped.forward({u, v}));
      ASSERT_TRUE(uv.has_value()) << u << "," << v;
      EXPECT_NEAR(uv->x, u, 1e-9);
      EXPECT_NEAR(uv->y, v, 1e-9);
    }
  // A point the surface never reaches has no inverse.
  OutputMesh shrunk = identity_mesh(2, 2);
  for (OutputPoint& p : shrunk.points) p = {0.25 + p.x * 0.5, 0.25 + p.y * 0.5};
  EXPECT_FALSE(WarpMesh(shrunk).inverse({0.1, 0.1}).has_value());
}

TEST(Mesh, BadMeshesAreRefusedByName) {
  OutputMesh m = identity_mesh(3, 3);
  m.points.pop_back();
  EXPECT_NE(check_mesh(m).value_or("").find("need 9"), std::string::npos);
  m = identity_mesh(3, 3);
  std::swap(m.points[0], m.points[1]);  // a folded cell
  const auto err = check_mesh(m);
  ASSERT_TRUE(err.has_value());
  EXPECT_NE(err->find("row 0, col 0 is folded"), std::string::npos) << *err;
  m = identity_mesh(3, 3);
  m.rows = 1;
  EXPECT_TRUE(check_mesh(m).has_value());
  EXPECT_EQ(check_mesh(OutputMesh{}), std::nullopt);  // no mesh
}

TEST(Blend, MirroredRampsSumToOneInLinearLight) {
  for (double curve : {1.0, 2.0, 3.5}) {
    OutputBlend a, b;
    a.right = 0.2, b.left = 0.2;
    a.curve = b.curve = curve;
    // The overlap: a's last 20 % is b's first 20 %.
    for (double t = 0; t <= 1.0; t += 0.05) {
      const double wa = blend_weight(a, {0.8 + 0.2 * t, 0.5});
      const double wb = blend_weight(b, {0.2 * t, 0.5});
      EXPECT_NEAR(wa + wb, 1.0, 1e-12) << "curve " << curve << " t " << t;
    }
    EXPECT_DOUBLE_EQ(blend_weight(a, {0.5, 0.5}), 1.0);
    EXPECT_DOUBLE_EQ(blend_weight(a, {1.0, 0.5}), 0.0);
  }
  OutputBlend s;
  s.left = 0.1;
  EXPECT_FALSE(outside_ramps(s, {0.05, 0.5}));
  EXPECT_TRUE(outside_ramps(s, {0.5, 0.5}));
}

TEST(Blend, LightChainIsGammaAwareAndLiftsBlack) {
  OutputConfig o;
  o.blend.gamma = 2.2;
  PixelLight half;
  half.blend = 0.5;
  // Half the light of value 1 is 0.5^(1/2.2) in pixel values, not 0.5.
  EXPECT_NEAR(output_value(o, 1.0, half), std::pow(0.5, 1 / 2.2), 1e-12);
  o.blend.black_lift = 0.02;
  PixelLight lifted;
  lifted.lift = true;
  EXPECT_NEAR(std::pow(output_value(o, 0.0, lifted), 2.2), 0.02, 1e-12);
  EXPECT_NEAR(output_value(o, 1.0, lifted), 1.0, 1e-12);  // white stays white
  PixelLight dark;
  dark.light = 0;  // the schedule's fade to black
  EXPECT_EQ(output_value(o, 0.8, dark), 0.0);
}

TEST(Orientation, RotationsAndFlipsArePermutations) {
  for (int rotate : {0, 90, 180, 270})
    for (int flips = 0; flips < 4; ++flips) {
      const Orientation o{rotate, (flips & 1) != 0, (flips & 2) != 0};
      const int w = 5, h = 3;
      int lw, lh;
      logical_size(o, w, h, lw, lh);
      std::set<int> seen;
      for (int y = 0; y < h; ++y)
        for (int x = 0; x < w; ++x) {
          int lx, ly;
          physical_to_logical(o, w, h, x, y, lx, ly);
          ASSERT_TRUE(lx >= 0 && lx < lw && ly >= 0 && ly < lh);
          seen.insert(ly * lw + lx);
        }
      EXPECT_EQ(seen.size(), 15u);
    }
  // 90 clockwise: the logical top-left pixel lands at the window's top-right.
  int lx, ly;
  physical_to_logical({90, false, false}, 3, 5, 2, 0, lx, ly);
  EXPECT_EQ(lx, 0);
  EXPECT_EQ(ly, 0);
}

Image pattern(int w, int h) {
  Image img(w, h);
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x) {
      std::uint8_t* p = img.pixel(x, y);
      p[0] = static_cast<std::uint8_t>(x * 7 + y);
      p[1] = static_cast<std::uint8_t>(y * 11);
      p[2] = static_cast<std::uint8_t>((x ^ y) * 5);
      p[3] = 255;
    }
  return img;
}

TEST(Reference, IdentityRotationsAndRegionsAreExact) {
  const Image canvas = pattern(16, 10);
  OutputConfig o;
  EXPECT_EQ(render_output_cpu(canvas, o, 16, 10).rgba, canvas.rgba);
  o.rotate = 90;
  const Image r = render_output_cpu(canvas, o, 10, 16);
  for (int y = 0; y < 16; ++y)
    for (int x = 0; x < 10; ++x)  // clockwise: output (x, y) shows canvas (y, 9 - x)
      ASSERT_EQ(r.pixel(x, y)[0], canvas.pixel(y, 9 - x)[0]) << x << "," << y;
  o = OutputConfig{};
  o.flip_h = true;
  const Image f = render_output_cpu(canvas, o, 16, 10);
  EXPECT_EQ(f.pixel(0, 3)[0], canvas.pixel(15, 3)[0]);
  o = OutputConfig{};
  o.region = {0.5, 0, 0.5, 1};  // the right half at its own resolution
  const Image half = render_output_cpu(canvas, o, 8, 10);
  for (int y = 0; y < 10; ++y)
    for (int x = 0; x < 8; ++x) ASSERT_EQ(half.pixel(x, y)[1], canvas.pixel(8 + x, y)[1]);
}

TEST(Reference, CornerPinLeavesBlackOutsideTheQuad) {
  Image white(8, 8);
  for (std::size_t i = 0; i < white.rgba.size(); ++i) white.rgba[i] = 255;
  OutputConfig o;
  o.corners = {{{0.25, 0.25}, {0.75, 0.25}, {0.75, 0.75}, {0.25, 0.75}}};
  const Image out = render_output_cpu(white, o, 16, 16);
  EXPECT_EQ(out.pixel(1, 1)[0], 0);
  EXPECT_EQ(out.pixel(8, 8)[0], 255);
  EXPECT_EQ(out.pixel(14, 8)[0], 0);
  o.corners = {{{0, 0}, {1, 0}, {0, 1}, {1, 1}}};
  EXPECT_THROW(render_output_cpu(white, o, 16, 16), InputError);
}

}  // namespace
}  // namespace dw::render
