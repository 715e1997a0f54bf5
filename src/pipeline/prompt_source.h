// Prompts for the keyframe requests: themes (positive + negative, weighted) from a TOML file,
// rotated every N keyframes, in a weighted random playlist or the file's order, with an optional
// time-of-day modifier. comfy.positive / comfy.negative, when set (e.g. live from the overlay),
// override the themes. The negative prompt always travels (the reference dropped it).
#pragma once

#include <cstdint>
#include <functional>
#include <random>
#include <string>
#include <vector>

#include "core/config_store.h"
#include "pipeline/keyframe_source.h"

namespace dw::pipeline {

struct Theme {
  std::string name;
  Prompt prompt;
  double weight = 1.0;
};

// Reads themes; throws dw::InputError naming the file, the theme and the field that is wrong.
std::vector<Theme> load_themes(const std::string& path);

// The modifier for a local hour (0-23): "at dawn", "in golden afternoon light", ...
std::string time_of_day_modifier(int hour);

// What the prompt source reads live: its own section, and comfy.positive / comfy.negative.
struct PromptSettings {
  LiveSection<PromptConfig> prompts;
  LiveSection<ComfyConfig> overrides;
  // The schedule's theme window (pipeline/schedule.h): the names to play now, in order; empty
  // (or no function): every theme. Names not in the file are skipped (the app checks at start).
  std::function<std::vector<std::string>()> scheduled_themes = {};
};

class PromptSource {
 public:
  // `local_hour` is injectable for tests; by default the wall clock's local hour.
  PromptSource(std::vector<Theme> themes, std::uint64_t seed, PromptSettings settings,
               std::function<int()> local_hour = {});

  // The prompt for keyframe `index` under the current settings. Deterministic in index order.
  Prompt prompt_for(std::uint64_t index);
  // The next prompt_for() moves on to the next theme of the playlist (the operator's "next theme").
  // Called on the thread that calls prompt_for (the orchestrator's).
  void skip_theme() { skip_ = true; }
  // The theme currently playing (for status and the overlay).
  std::string current_theme() const { return current_name_; }
  // The keyframe index where the current theme began (resume state).
  std::uint64_t theme_started_at() const { return theme_started_at_; }
  // Resume: the named theme plays on as if it had begun at keyframe `started_at`, and the
  // rotation goes on from it (the schedule's window's rotation, when one is in force). False when
  // no theme has that name or the window leaves it out: the rotation starts afresh.
  bool resume_at(const std::string& theme, std::uint64_t started_at);

 private:
  void refill_playlist(bool shuffle);
  bool follow_schedule();  // true when the scheduled themes changed (the playlist is reset)

  std::vector<Theme> themes_;
  PromptSettings settings_;
  std::mt19937_64 rng_;
  std::function<int()> local_hour_;
  std::vector<std::size_t> playlist_;
  std::size_t playlist_pos_ = 0;
  std::uint64_t theme_started_at_ = 0;
  std::size_t current_ = 0;
  std::string current_name_;
  bool started_ = false;
  bool skip_ = false;
  std::vector<std::string> scheduled_;  // the theme window's names as last seen
};

}  // namespace dw::pipeline
