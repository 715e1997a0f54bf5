// One output drawn from the canvas texture on the GPU (shaders/output.frag): the warp, blend,
// mask and light of render/warp.h. Holds the output's GL objects: its vertex array (a container
// object, so one per context: create the pass with the output's context current), the mesh's
// look-up texture and the mask texture. Main thread only.
#pragma once

#include <optional>

#include "core/config.h"
#include "core/image.h"
#include "render/gl.h"
#include "render/shader.h"
#include "render/warp.h"

namespace dw::render {

// The output program, loaded once and shared by every output's context (GL programs are shared
// between shared contexts; vertex arrays are not).
std::unique_ptr<ShaderProgram> make_output_program();

class OutputPass {
 public:
  // `index` (from 0) names the output in errors. Throws dw::InputError for a bad warp or a mask
  // that is not the window's size.
  OutputPass(const ShaderProgram& program, const OutputConfig& output, int index, int width,
             int height);
  ~OutputPass();
  OutputPass(const OutputPass&) = delete;
  OutputPass& operator=(const OutputPass&) = delete;

  // Rebuilds the warp (and the mesh look-up) for a new window size or a changed output.
  void configure(const OutputConfig& output, int width, int height);
  // Draws into the bound framebuffer (width x height). `canvas` is the canvas texture (rows
  // bottom-up); `light` the schedule's fade; `dither` display.dither.
  void draw(GLuint canvas, double light, bool dither);
  const OutputConfig& output() const { return output_; }
  int width() const { return width_; }
  int height() const { return height_; }

 private:
  void build_mesh_lut();

  const ShaderProgram& program_;
  OutputConfig output_;
  int index_;
  int width_ = 0, height_ = 0;
  std::optional<OutputWarp> warp_;
  GLuint vertex_array_ = 0;
  GLuint mesh_lut_ = 0, mask_ = 0;
  int lut_w_ = 0, lut_h_ = 0;
  Image mask_image_;
  bool mask_uploaded_ = false;  // mask_ holds mask_image_ at width_ x height_
};

// A pass for a window at its present size. A window still waiting for its display (a projector
// in standby at boot; Window::on_its_display false) opens at another display's size, so a mask
// made for the projector does not fit yet: the pass starts without it (logged), and
// follow_output puts it on once the window is on its display at its size. Otherwise as the
// constructor: a mask that does not fit is refused.
std::unique_ptr<OutputPass> make_output_pass(const ShaderProgram& program,
                                             const OutputConfig& output, int index, int width,
                                             int height, bool on_its_display);

// Keeps `pass` following the live config and its target's size: when `wanted` differs from
// `requested` (then remembered as requested) or the size changed, the pass is rebuilt. A setting
// that does not apply (a folded quad, a mask that does not fit the new size) is warned about
// once; the output keeps running on its last good warp, without the mask if the mask is what
// does not fit. Nothing stops the show. A size of 0 (a minimised window) changes nothing.
void follow_output(OutputPass& pass, OutputConfig& requested, const OutputConfig& wanted, int width,
                   int height);

}  // namespace dw::render
