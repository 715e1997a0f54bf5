// Calibration mode's place in the app: the "calibrate" action (a toggle, through the one action
// table, so keys, the remote and OSC reach it alike), live publication of the outputs' corners and
// meshes while they are dragged, and saving them into the config file's [[output]] tables.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "app/cli.h"
#include "core/actions.h"
#include "core/config_store.h"
#include "render/calibration.h"
#include "render/render_loop.h"

namespace dw {

// Ends a calibration left on when the program quits (saving what moved), then deletes it.
struct LeaveCalibration {
  void operator()(render::Calibration* calibration) const;
};
using CalibrationHandle = std::unique_ptr<render::Calibration, LeaveCalibration>;

// Makes the calibration (on the main thread, its GL context current), hands it to the loop and
// registers the action. Keep the result alive as long as the loop runs.
CalibrationHandle wire_calibration(ActionTable& actions, render::RenderLoop& loop,
                                   ConfigStore& config, const RunOptions& run);

// The outputs calibration starts from: the configured ones, or one output made from display.*
// (the one window) when there are none.
std::vector<OutputConfig> outputs_to_calibrate(const Config& config);

// Writes the calibrated corners and meshes into the [[output]] tables of the config file at
// `path` (created when missing), keeping everything else the file sets; atomic. A file with no
// [[output]] tables gets the calibrated outputs whole. Returns an error text or nothing.
std::optional<std::string> save_calibration(const std::string& path,
                                            const std::vector<OutputConfig>& calibrated);

// An on_save handler that hands each calibration to `save` on a thread of its own, in order: the
// render thread leaves calibration (and presses S) and must not wait for the config file's disk.
// What `save` says is logged. The last copy of the handler to go finishes the saves queued.
render::Calibration::OutputsHandler save_in_background(
    std::function<std::optional<std::string>(const std::vector<OutputConfig>&)> save,
    std::string path);

}  // namespace dw
