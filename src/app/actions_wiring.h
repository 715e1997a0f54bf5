// The app's control actions (core/actions.h), registered once in the app's ActionTable so that the
// keys, the HTTP API and OSC all run the same handlers: pause, resume, toggle_pause, next_theme,
// inject_now, freeze, unfreeze, toggle_freeze, save_config, reload_config, quit. Each handler only
// sets a request in Commands or calls the thread-safe ParamEditor, and returns at once.
#pragma once

#include <functional>
#include <string>

#include "core/actions.h"
#include "core/commands.h"
#include "core/param_editor.h"

namespace dw {

// `reloaded` (optional) hears the outcome of every reload_config (for status).
void register_control_actions(ActionTable& actions, Commands& commands, ParamEditor& editor,
                              std::function<void(const ActionResult&)> reloaded = {});

// Reloads the config file through the editor (reload_config and SIGHUP): logs what was applied
// and what waits for a restart, or the file's error (then nothing changed).
ActionResult reload_config(ParamEditor& editor);

}  // namespace dw
