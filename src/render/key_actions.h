// The operator's keys outside kiosk mode: each names an action of the app's ActionTable
// (core/actions.h), so a key does exactly what the remote's button or OSC message of that name
// does. Space: pause or resume generation; F: freeze or unfreeze the picture; N: next theme;
// I: inject now; R: start or stop recording; S or F12: a screenshot of the canvas.
#pragma once

#include <SDL.h>

#include <chrono>
#include <optional>
#include <span>
#include <string_view>

#include "core/actions.h"
#include "core/background_worker.h"

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

// Runs the keys' actions on a thread of its own, in the order pressed, so that the render thread
// never waits for one: starting a recording or taking a screenshot checks its folder first, and a
// network share that stops answering would hold the picture still for as long as it hangs. What
// an action says goes to the log, as it did when the render thread ran it.
class KeyActionRunner {
 public:
  KeyActionRunner();
  // Never waits. False: the key has no action, or too many presses still wait behind one that
  // has not finished (logged: the key is dropped, not queued without end).
  bool press(const ActionTable& actions, SDL_Keycode key);
  // Until every press so far has run; false when `timeout` passed first.
  bool wait_idle(std::chrono::milliseconds timeout) { return worker_.wait_idle(timeout); }

 private:
  struct Press {
    const ActionTable* actions = nullptr;
    SDL_Keycode key = SDLK_UNKNOWN;
  };
  BackgroundWorker<Press> worker_;
};

}  // namespace dw::render
