#include "core/param_table_parts.h"

namespace dw {

// The canvas's rows; the outputs themselves are [[output]] tables (core/config_outputs_toml.h).
void add_outputs_params(std::vector<ParamSpec>& t) {
  using C = Config;
  t.push_back(param_int("canvas.width", bind(&C::outputs, &OutputsConfig::canvas_width), 0, 16384,
                        Apply::Restart,
                        "canvas width in pixels that [[output]]s show regions of (0: the content "
                        "frame's width)"));
  t.push_back(param_int("canvas.height", bind(&C::outputs, &OutputsConfig::canvas_height), 0, 16384,
                        Apply::Restart, "canvas height in pixels (0: the content frame's height)"));
  t.push_back(param_bool("canvas.vsync_matched", bind(&C::outputs, &OutputsConfig::vsync_matched),
                         Apply::Live,
                         "outputs 2.. on displays at output 1's refresh rate wait for vsync too: "
                         "no tearing on matched projectors, but drivers that block in every swap "
                         "halve the frame rate (false: only output 1 waits)"));
}

}  // namespace dw
