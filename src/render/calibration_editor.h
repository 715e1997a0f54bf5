// Calibration's edit model, GL-free: the outputs' corner-pins and warp meshes as the operator
// moves their points with the keys and the mouse. One output and one point are selected at a
// time; points 0-3 are the corners (top-left, top-right, bottom-right, bottom-left), points 4 and
// up the mesh nodes (row-major). Every position is in the output's logical frame (0..1, y down:
// core/config_outputs.h); mesh nodes are stored quad-local and shown through the corner-pin.
// A move that would fold the quad or a mesh cell is refused (the outputs keep their last good
// geometry, so the warp can always be built); every point stays on its output (0..1).
#pragma once

#include <string>
#include <vector>

#include "core/config_outputs.h"

namespace dw::render {

class CalibrationEditor {
 public:
  explicit CalibrationEditor(std::vector<OutputConfig> outputs);

  int output_count() const { return static_cast<int>(outputs_.size()); }
  int selected_output() const { return output_; }
  void select_output(int index);  // wraps around (Tab cycles)
  void next_output() { select_output(output_ + 1); }

  // Corners plus mesh nodes of the selected output.
  int point_count() const;
  int selected_point() const { return point_; }
  void select_point(int index);  // ignored when out of range
  // A point of the selected output in its logical frame (mesh nodes through the corner-pin).
  OutputPoint point(int index) const;
  // The point of the selected output nearest `at`, selected.
  int select_nearest(OutputPoint at);

  // Moves the selected point by (dx, dy) (logical units), clamped to the output; false (and
  // nothing moves) when the move would fold the quad or a mesh cell.
  bool nudge(double dx, double dy);
  // A mouse drag: selects the point nearest `from` and moves it by to - from.
  bool drag(OutputPoint from, OutputPoint to);
  // Gives the selected output an identity mesh of rows x cols inside its corner-pin (replacing
  // any mesh it had); rows == 0 removes the mesh.
  void set_mesh(int rows, int cols);
  // Puts the selected output's corners and mesh back to the identity.
  void reset_output();

  const std::vector<OutputConfig>& outputs() const { return outputs_; }
  const OutputConfig& output(int index) const { return outputs_.at(index); }
  // Why the last refused move was refused (empty after a move that was made).
  const std::string& refusal() const { return refusal_; }
  // Increments on every change, so a reader redraws or saves only when something moved.
  std::uint64_t version() const { return version_; }

 private:
  bool move_to(int index, OutputPoint target);

  std::vector<OutputConfig> outputs_;
  int output_ = 0;
  int point_ = 0;
  std::string refusal_;
  std::uint64_t version_ = 0;
};

}  // namespace dw::render
