#include "render/key_actions.h"

#include <spdlog/spdlog.h>

#include <array>

namespace dw::render {
namespace {

constexpr std::size_t kMaxWaitingPresses = 16;

constexpr std::array kKeys = {
    KeyAction{SDLK_SPACE, "Space", "toggle_pause"}, KeyAction{SDLK_f, "F", "toggle_freeze"},
    KeyAction{SDLK_n, "N", "next_theme"},           KeyAction{SDLK_i, "I", "inject_now"},
    KeyAction{SDLK_r, "R", "toggle_recording"},     KeyAction{SDLK_s, "S", "screenshot"},
    KeyAction{SDLK_F12, "F12", "screenshot"},
};

}  // namespace

std::span<const KeyAction> key_actions() {
  return kKeys;
}

std::optional<std::string_view> action_for_key(SDL_Keycode key) {
  for (const KeyAction& k : kKeys)
    if (k.key == key) return k.action;
  return std::nullopt;
}

bool run_key_action(const ActionTable& actions, SDL_Keycode key) {
  const auto action = action_for_key(key);
  if (!action) return false;
  const ActionResult result = actions.run(*action);
  if (result.ok)
    spdlog::info("key {}: {}", SDL_GetKeyName(key), result.message);
  else
    spdlog::warn("key {}: {}", SDL_GetKeyName(key), result.message);
  return true;
}

KeyActionRunner::KeyActionRunner()
    : worker_(kMaxWaitingPresses, [](Press& p) { run_key_action(*p.actions, p.key); }) {}

bool KeyActionRunner::press(const ActionTable& actions, SDL_Keycode key) {
  if (!action_for_key(key)) return false;
  if (worker_.submit(Press{&actions, key})) return true;
  spdlog::warn("key {}: ignored, {} key presses still wait behind an action that has not finished",
               SDL_GetKeyName(key), worker_.queued());
  return false;
}

}  // namespace dw::render
