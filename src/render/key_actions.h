// The operator's keys outside kiosk mode: each names an action of the app's ActionTable
// (core/actions.h), so a key does exactly what the remote's button or OSC message of that name
// does. Space: pause or resume generation; F: freeze or unfreeze the picture; N: next theme;
// I: inject now.
#pragma once

#include <SDL.h>

#include <optional>
#include <span>
#include <string_view>

#include "core/actions.h"

namespace dw::render {

struct KeyAction {
  SDL_Keycode key;
  std::string_view name;  // what the key is called in help texts
  std::string_view action;
};

std::span<const KeyAction> key_actions();
std::optional<std::string_view> action_for_key(SDL_Keycode key);

// Runs the key's action through `actions` and logs what it said; false when the key has none.
bool run_key_action(const ActionTable& actions, SDL_Keycode key);

}  // namespace dw::render
