#include "app/calibration_wiring.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "core/background_worker.h"
#include "core/param_editor.h"
#include "core/params.h"

namespace dw {

std::vector<OutputConfig> outputs_to_calibrate(const Config& config) {
  if (!config.outputs.outputs.empty()) return config.outputs.outputs;
  OutputConfig one;
  one.display = config.display.display_index;
  one.mode = static_cast<OutputMode>(config.display.mode);  // the same names in the same order
  return {one};
}

std::optional<std::string> save_calibration(const std::string& path,
                                            const std::vector<OutputConfig>& calibrated) {
  return update_config_file(path, [&](Config& file) -> std::optional<std::string> {
    std::vector<OutputConfig>& outputs = file.outputs.outputs;
    if (outputs.size() != calibrated.size()) {
      if (!outputs.empty())
        return fmt::format("not saved: {} has {} [[output]] tables, calibration edited {}", path,
                           outputs.size(), calibrated.size());
      outputs = calibrated;
    }
    for (std::size_t i = 0; i < outputs.size(); ++i) {
      outputs[i].corners = calibrated[i].corners;
      outputs[i].mesh = calibrated[i].mesh;
    }
    return std::nullopt;
  });
}

render::Calibration::OutputsHandler save_in_background(
    std::function<std::optional<std::string>(const std::vector<OutputConfig>&)> save,
    std::string path) {
  using Saver = BackgroundWorker<std::vector<OutputConfig>>;
  auto saver = std::make_shared<Saver>(
      8, [save = std::move(save), path](std::vector<OutputConfig>& outputs) {
        if (auto err = save(outputs))
          spdlog::error("calibration: {}", *err);
        else
          spdlog::info("calibration: corners and meshes saved to {}", path);
      });
  return [saver](const std::vector<OutputConfig>& outputs) {
    if (!saver->submit(outputs))
      spdlog::error("calibration: not saved, {} saves still wait for the disk", saver->queued());
  };
}

void LeaveCalibration::operator()(render::Calibration* calibration) const {
  try {
    calibration->set_active(false);  // saves what moved, as leaving it with C would
  } catch (const std::exception& e) {
    spdlog::error("calibration: {}", e.what());
  }
  delete calibration;
}

CalibrationHandle wire_calibration(ActionTable& actions, render::RenderLoop& loop,
                                   ConfigStore& config, const RunOptions& run) {
  const auto initial = config.get();
  CalibrationHandle calibration(new render::Calibration(outputs_to_calibrate(*initial)));
  // Outputs configured: each move is published, so the outputs' warp follows the drag. With none
  // (the one window) the calibration's own preview shows the corner-pin until it is saved.
  if (!initial->outputs.outputs.empty())
    calibration->on_change = [&config](const std::vector<OutputConfig>& outputs) {
      config.update([&outputs](Config& next) { next.outputs.outputs = outputs; });
    };
  calibration->on_save = save_in_background(
      [path = run.save_path](const std::vector<OutputConfig>& outputs) {
        return save_calibration(path, outputs);
      },
      run.save_path);
  if (!run.calibrate.empty()) {
    calibration->set_pattern(render::pattern_from_name(run.calibrate).value());
    calibration->set_active(true);
  }
  actions.add("calibrate", "toggle calibration mode (test patterns, corner-pin and mesh editing)",
              [request = calibration->toggle_requester()] {
                request();
                return ActionResult{true, "calibration mode toggled"};
              });
  loop.set_calibration(calibration.get());
  return calibration;
}

}  // namespace dw
