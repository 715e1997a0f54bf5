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
}

}  // namespace dw
