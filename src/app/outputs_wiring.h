// The app's wiring of the canvas and its outputs ([[output]] tables): opening their windows (or
// headless targets) for the render loop, and after the run their screenshots and upload count.
#pragma once

#include <memory>
#include <string>

#include "core/config.h"
#include "render/outputs.h"
#include "render/render_loop.h"

namespace dw {

// Opens every output and hands them to `loop`; null (and the loop untouched) with no outputs.
// Throws dw::InputError naming the output for a display that does not exist or a mask that does
// not fit its window.
std::unique_ptr<render::Outputs> start_outputs(render::Window& window, render::RenderLoop& loop,
                                               const Config& config, bool headless);
// With outputs: writes outputs 2.. and the canvas beside the --screenshot (PATH-output2.png,
// PATH-canvas.png; PATH itself is output 1) and prints the content upload count on stdout.
void finish_outputs(const render::Outputs* outputs, const render::RenderLoop& loop,
                    const std::string& screenshot);

}  // namespace dw
