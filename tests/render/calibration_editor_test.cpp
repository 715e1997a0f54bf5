// Calibration's edit model without GL: nudging and dragging corners and mesh points, clamping to
// the output, and refusing any move that would fold the quad or a mesh cell.
#include "render/calibration_editor.h"

#include <gtest/gtest.h>

#include "render/calibration.h"

namespace dw::render {
namespace {

constexpr double kEps = 1e-9;

void expect_point(OutputPoint got, double x, double y, const char* what = "") {
  EXPECT_NEAR(got.x, x, kEps) << what;
  EXPECT_NEAR(got.y, y, kEps) << what;
}

// Where the diagonals of a quad cross: the image of the square's centre under any homography
// that maps the square's corners to the quad's (a projective map keeps lines and incidences).
OutputPoint diagonals_cross(const std::array<OutputPoint, 4>& c) {
  const double ax = c[0].x, ay = c[0].y, bx = c[2].x - ax, by = c[2].y - ay;
  const double cx = c[1].x, cy = c[1].y, dx = c[3].x - cx, dy = c[3].y - cy;
  const double t = ((cx - ax) * dy - (cy - ay) * dx) / (bx * dy - by * dx);
  return {ax + t * bx, ay + t * by};
}

TEST(CalibrationEditor, NudgeMovesOnlyTheSelectedCorner) {
  CalibrationEditor editor({OutputConfig{}});
  const auto before = editor.version();
  editor.select_point(1);  // top-right
  ASSERT_TRUE(editor.nudge(-0.1, 0.05));
  const auto& c = editor.output(0).corners;
  expect_point(c[1], 0.9, 0.05, "top-right moved");
  expect_point(c[0], 0, 0);
  expect_point(c[2], 1, 1);
  expect_point(c[3], 0, 1);
  EXPECT_GT(editor.version(), before);
}

TEST(CalibrationEditor, DragPicksTheNearestPointAndMovesItByTheDrag) {
  CalibrationEditor editor({OutputConfig{}});
  // Grabbed a little off the bottom-right corner: it moves by the drag, it does not jump to the
  // mouse.
  ASSERT_TRUE(editor.drag({0.97, 0.96}, {0.87, 0.91}));
  EXPECT_EQ(editor.selected_point(), 2);
  expect_point(editor.output(0).corners[2], 0.9, 0.95);
  ASSERT_TRUE(editor.drag({0.1, 0.85}, {0.2, 0.8}));
  EXPECT_EQ(editor.selected_point(), 3) << "bottom-left is nearest to (0.1, 0.85)";
  expect_point(editor.output(0).corners[3], 0.1, 0.95);
}

TEST(CalibrationEditor, PointsStayOnTheOutput) {
  CalibrationEditor editor({OutputConfig{}});
  editor.select_point(0);
  EXPECT_TRUE(editor.nudge(-0.5, 0.2));
  expect_point(editor.output(0).corners[0], 0, 0.2);
  EXPECT_TRUE(editor.nudge(0.1, -3));
  expect_point(editor.output(0).corners[0], 0.1, 0);
}

// Overscan set by hand in the config file: a corner at -0.05 (the picture bleeds past the screen).
TEST(CalibrationEditor, ACornerSetOffTheOutputIsNudgedFromWhereItIsNotSnappedToTheEdge) {
  OutputConfig o;
  o.corners[0] = {-0.05, -0.05};
  CalibrationEditor editor({o});
  editor.select_point(0);
  ASSERT_TRUE(editor.nudge(0.01, 0.0));
  expect_point(editor.output(0).corners[0], -0.04, -0.05, "moved by the nudge only");
  ASSERT_TRUE(editor.nudge(-0.5, -0.5));
  expect_point(editor.output(0).corners[0], -0.04, -0.05, "never further out than it is");
}

TEST(CalibrationEditor, AMoveThatWouldFoldTheQuadIsRefused) {
  CalibrationEditor editor({OutputConfig{}});
  const auto corners = editor.output(0).corners;
  const auto version = editor.version();
  // Top-left dragged past bottom-right: a bow-tie.
  EXPECT_FALSE(editor.drag({0, 0}, {1, 1}));
  // Top-left pulled inside the triangle of the other three: no longer convex.
  EXPECT_FALSE(editor.drag({0, 0}, {0.8, 0.8}));
  EXPECT_EQ(editor.output(0).corners, corners) << "a refused move changes nothing";
  EXPECT_EQ(editor.version(), version);
  EXPECT_NE(editor.refusal().find("corner 1"), std::string::npos) << editor.refusal();
  EXPECT_TRUE(editor.drag({0, 0}, {0.3, 0.2})) << "a move that keeps the quad convex is made";
  EXPECT_TRUE(editor.refusal().empty());
}

TEST(CalibrationEditor, MeshNodesAreShownAndDraggedThroughTheCornerPin) {
  OutputConfig pinned;
  pinned.corners = {{{0.1, 0.05}, {0.95, 0.2}, {0.8, 0.9}, {0.05, 0.85}}};
  CalibrationEditor editor({pinned});
  editor.set_mesh(3, 3);
  ASSERT_EQ(editor.point_count(), 4 + 9);
  const int centre = 4 + 4;
  const OutputPoint cross = diagonals_cross(pinned.corners);
  expect_point(editor.point(centre), cross.x, cross.y,
               "the centre node sits on the diagonals' cross");
  // A drag that starts near the centre node moves it, and it ends where the mouse put it.
  ASSERT_TRUE(editor.drag({cross.x + 0.01, cross.y}, {cross.x + 0.06, cross.y + 0.03}));
  EXPECT_EQ(editor.selected_point(), centre);
  const OutputPoint moved = editor.point(centre);
  EXPECT_NEAR(moved.x, cross.x + 0.05, 1e-9);
  EXPECT_NEAR(moved.y, cross.y + 0.03, 1e-9);
  EXPECT_EQ(editor.output(0).corners, pinned.corners) << "moving a mesh node leaves the corners";
}

TEST(CalibrationEditor, AMeshNodeMovedPastItsNeighbourIsRefused) {
  CalibrationEditor editor({OutputConfig{}});
  editor.set_mesh(3, 3);
  const OutputMesh mesh = editor.output(0).mesh;
  editor.select_point(4 + 3);          // the middle of the left column, at (0, 0.5)
  EXPECT_FALSE(editor.nudge(0.7, 0));  // past the centre node at (0.5, 0.5)
  EXPECT_EQ(editor.output(0).mesh, mesh);
  EXPECT_NE(editor.refusal().find("mesh point 4"), std::string::npos) << editor.refusal();
  EXPECT_TRUE(editor.nudge(0.2, 0));
  expect_point(editor.point(4 + 3), 0.2, 0.5);
}

TEST(CalibrationEditor, TabCyclesOutputsAndEditsOnlyTheSelectedOne) {
  CalibrationEditor editor({OutputConfig{}, OutputConfig{}});
  editor.next_output();
  EXPECT_EQ(editor.selected_output(), 1);
  editor.select_point(3);
  ASSERT_TRUE(editor.nudge(0.1, -0.1));
  expect_point(editor.output(1).corners[3], 0.1, 0.9);
  EXPECT_EQ(editor.output(0).corners, OutputConfig{}.corners);
  editor.next_output();
  EXPECT_EQ(editor.selected_output(), 0) << "Tab wraps around";
  editor.select_output(1);
  editor.reset_output();
  EXPECT_EQ(editor.output(1).corners, OutputConfig{}.corners);
}

TEST(CalibrationEditor, NoOutputsMeansTheOneWindow) {
  CalibrationEditor editor({});
  EXPECT_EQ(editor.output_count(), 1);
  EXPECT_EQ(editor.point_count(), 4);
}

}  // namespace
}  // namespace dw::render

namespace dw::render {
namespace {

void expect_near(OutputPoint got, double x, double y, const char* what) {
  EXPECT_NEAR(got.x, x, 1e-9) << what;
  EXPECT_NEAR(got.y, y, 1e-9) << what;
}

TEST(OutputView, RotationAndFlipsPlaceTheLogicalFrameInTheWindow) {
  OutputConfig turned;
  turned.rotate = 90;  // the logical picture turned clockwise: its top-left lands top-right
  const OutputView cw(turned, 180, 320);
  expect_near(cw.to_window({0, 0}), 1, 0, "top-left");
  expect_near(cw.to_window({1, 0}), 1, 1, "top-right");
  expect_near(cw.to_window({0, 1}), 0, 0, "bottom-left");
  OutputConfig mirrored;
  mirrored.flip_h = true;  // rear projection
  const OutputView rear(mirrored, 320, 180);
  expect_near(rear.to_window({0, 0}), 1, 0, "top-left");
  expect_near(rear.to_window({0.25, 0.75}), 0.75, 0.75, "inside");
  for (const OutputView* v : {&cw, &rear}) {
    const OutputPoint p = v->to_logical(v->to_window({0.3, 0.6}));
    expect_near(p, 0.3, 0.6, "round trip");
  }
  const OutputView plain(OutputConfig{}, 320, 180);
  expect_near(plain.to_window({0.3, 0.6}), 0.3, 0.6, "no rotation: the identity");
}

}  // namespace
}  // namespace dw::render
