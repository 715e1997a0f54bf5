#include "app/calibration_wiring.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <filesystem>

#include "core/files.h"
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
  Config file = default_config();
  std::error_code ec;
  if (std::filesystem::exists(path, ec))
    if (auto err = load_config_file(path, file))
      return fmt::format("not saved: the file does not read back ({})", err->message);
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
  const Config defaults = default_config();
  const std::string text = config_to_toml(
      file, [&](const ParamSpec& p) { return p.value_text(file) != p.value_text(defaults); });
  try {
    const auto parent = std::filesystem::path(path).parent_path();
    if (!parent.empty()) std::filesystem::create_directories(parent);
    write_file_atomic(path, text);
  } catch (const std::exception& e) {
    return fmt::format("not saved to {}: {}", path, e.what());
  }
  return std::nullopt;
}

std::unique_ptr<render::Calibration> wire_calibration(ActionTable& actions,
                                                      render::RenderLoop& loop, ConfigStore& config,
                                                      const RunOptions& run) {
  const auto initial = config.get();
  auto calibration = std::make_unique<render::Calibration>(outputs_to_calibrate(*initial));
  // Outputs configured: each move is published, so the outputs' warp follows the drag. With none
  // (the one window) the calibration's own preview shows the corner-pin until it is saved.
  if (!initial->outputs.outputs.empty())
    calibration->on_change = [&config](const std::vector<OutputConfig>& outputs) {
      Config next = *config.get();
      next.outputs.outputs = outputs;
      config.publish(std::move(next));
    };
  calibration->on_save = [path = run.save_path](const std::vector<OutputConfig>& outputs) {
    if (auto err = save_calibration(path, outputs))
      spdlog::error("calibration: {}", *err);
    else
      spdlog::info("calibration: corners and meshes saved to {}", path);
  };
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
