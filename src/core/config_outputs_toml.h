// The [[output]] tables of the config file: parsed and checked field by field (errors name the
// output, its line and the field), and written back for --print-config and saves. Used by
// params.cpp (load_config_file, config_to_toml, validate_config, check_paths).
#pragma once

#include <toml++/toml.h>

#include <optional>
#include <string>

#include "core/config.h"

namespace dw {

// Reads the value of the top-level key "output" (an array of tables) into `outputs`, replacing
// what was there. A relative mask path is taken from `base_dir` (the config file's folder).
// Returns an error text ("output 2 ([[output]] at line 14): blend_left = 0.7 ...") or nothing.
std::optional<std::string> parse_output_tables(const toml::node& node, OutputsConfig& outputs,
                                               const std::string& base_dir);
// The outputs as [[output]] tables (empty text when there are none).
std::string outputs_to_toml(const OutputsConfig& outputs);
// check_output for every output, naming it ("output 2: ...").
std::optional<std::string> validate_outputs(const Config& config);
// Every mask file can be read as an image, and is of the output's size where that is known
// before the window opens (full-screen outputs are checked when their window opens).
std::optional<std::string> check_output_masks(const Config& config);

}  // namespace dw
