#include "app/actions_wiring.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <vector>

namespace dw {
namespace {

std::string joined(const std::vector<std::string>& keys) {
  return keys.empty() ? std::string("nothing") : fmt::format("{}", fmt::join(keys, ", "));
}

ActionResult set_operator_pause(Commands& commands, bool on) {
  commands.set_pause(kPauseOperator, on);
  if (on) return {true, "generation paused"};
  if (commands.generation_paused())
    return {true, "operator pause lifted; generation stays paused by the schedule"};
  return {true, "generation resumed"};
}

ActionResult set_frozen(Commands& commands, bool on) {
  commands.frozen.store(on, std::memory_order_release);
  return {true, on ? "picture frozen" : "picture unfrozen"};
}

void add_generation_actions(ActionTable& actions, Commands& commands) {
  actions.add("pause", "Pause generation (playback plays out the buffer, then idles).",
              [&commands] { return set_operator_pause(commands, true); });
  actions.add("resume", "Resume generation after an operator pause.",
              [&commands] { return set_operator_pause(commands, false); });
  actions.add("toggle_pause", "Pause or resume generation.", [&commands] {
    const bool paused = (commands.pause_reasons.load() & kPauseOperator) != 0;
    return set_operator_pause(commands, !paused);
  });
  actions.add("next_theme", "Move on to the next prompt theme at the next keyframe request.",
              [&commands] {
                commands.next_theme.fetch_add(1, std::memory_order_acq_rel);
                return ActionResult{true, "next theme at the next keyframe request"};
              });
  actions.add("inject_now", "Make the next keyframe an injection from the cache or a seed.",
              [&commands] {
                commands.inject_now.fetch_add(1, std::memory_order_acq_rel);
                return ActionResult{true, "the next keyframe will be an injection"};
              });
}

void add_display_actions(ActionTable& actions, Commands& commands) {
  actions.add("freeze", "Hold the picture exactly as it is.",
              [&commands] { return set_frozen(commands, true); });
  actions.add("unfreeze", "Let the picture move again.",
              [&commands] { return set_frozen(commands, false); });
  actions.add("toggle_freeze", "Freeze or unfreeze the picture.",
              [&commands] { return set_frozen(commands, !commands.frozen.load()); });
  actions.add("quit", "Quit the program (as after SIGTERM; the installed service starts it again).",
              [&commands] {
                commands.quit.fetch_add(1, std::memory_order_acq_rel);
                return ActionResult{true, "quitting"};
              });
}

void add_config_actions(ActionTable& actions, ParamEditor& editor,
                        std::function<void(const ActionResult&)> reloaded) {
  actions.add("save_config", "Write the edited settings to the config file.", [&editor] {
    if (auto err = editor.save()) return ActionResult{false, *err};
    return ActionResult{true, fmt::format("configuration saved to {}", editor.save_path())};
  });
  actions.add("reload_config", "Read the config file again (live settings apply at once).",
              [&editor, reloaded = std::move(reloaded)] {
                ActionResult result = reload_config(editor);
                if (reloaded) reloaded(result);
                return result;
              });
}

}  // namespace

ActionResult reload_config(ParamEditor& editor) {
  const ReloadOutcome out = editor.reload();
  if (!out.ok) {
    const std::string message = fmt::format("config reload: {} is not loaded, nothing changed: {}",
                                            editor.save_path(), out.error);
    spdlog::error("{}", message);
    return {false, message};
  }
  const std::string message =
      fmt::format("config reloaded from {}: applied {}; after a restart: {}", editor.save_path(),
                  joined(out.applied), joined(out.pending));
  spdlog::info("{}", message);
  if (!out.pending.empty())
    spdlog::warn("config reload: {} change(s) wait for a restart: {}", out.pending.size(),
                 joined(out.pending));
  return {true, message};
}

void register_control_actions(ActionTable& actions, Commands& commands, ParamEditor& editor,
                              std::function<void(const ActionResult&)> reloaded) {
  add_generation_actions(actions, commands);
  add_display_actions(actions, commands);
  add_config_actions(actions, editor, std::move(reloaded));
}

}  // namespace dw
