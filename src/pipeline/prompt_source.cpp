#include "pipeline/prompt_source.h"

#include <fmt/format.h>
#include <toml++/toml.h>

#include <algorithm>
#include <ctime>

#include "core/error.h"
#include "core/local_time.h"

namespace dw::pipeline {

std::vector<Theme> load_themes(const std::string& path) {
  toml::table root;
  try {
    root = toml::parse_file(path);
  } catch (const toml::parse_error& e) {
    throw InputError(fmt::format("themes file '{}' is not valid TOML: {} (line {})", path,
                                 e.description(), e.source().begin.line));
  } catch (const std::exception& e) {
    throw InputError(fmt::format("themes file '{}' cannot be read: {}", path, e.what()));
  }
  const toml::array* list = root["theme"].as_array();
  if (list == nullptr || list->empty())
    throw InputError(fmt::format("themes file '{}' has no [[theme]] entries", path));
  std::vector<Theme> themes;
  for (std::size_t i = 0; i < list->size(); ++i) {
    const toml::table* t = (*list)[i].as_table();
    const auto where = [&](std::string_view field) {
      return fmt::format("themes file '{}', theme {}: {}", path, i + 1, field);
    };
    if (t == nullptr) throw InputError(where("is not a table"));
    Theme theme;
    theme.name = (*t)["name"].value_or(fmt::format("theme {}", i + 1));
    const auto positive = (*t)["positive"].value<std::string>();
    if (!positive || positive->empty()) throw InputError(where("'positive' is missing or empty"));
    theme.prompt.positive = *positive;
    theme.prompt.negative = (*t)["negative"].value_or(std::string());
    theme.weight = (*t)["weight"].value_or(1.0);
    if (!(theme.weight > 0)) throw InputError(where("'weight' must be a positive number"));
    themes.push_back(std::move(theme));
  }
  return themes;
}

std::string time_of_day_modifier(int hour) {
  if (hour >= 5 && hour < 8) return "at dawn, soft pink light";
  if (hour >= 8 && hour < 12) return "in bright morning light";
  if (hour >= 12 && hour < 17) return "in warm afternoon light";
  if (hour >= 17 && hour < 20) return "at golden hour, long shadows";
  if (hour >= 20 && hour < 23) return "at dusk, deep blue hour";
  return "at night, moonlit";
}

PromptSource::PromptSource(std::vector<Theme> themes, std::uint64_t seed, PromptSettings settings,
                           std::function<int()> local_hour)
    : themes_(std::move(themes)),
      settings_(std::move(settings)),
      rng_(seed),
      local_hour_(std::move(local_hour)) {
  DW_CHECK(!themes_.empty(), "PromptSource needs at least one theme");
  if (!local_hour_) {
    local_hour_ = [] { return local_calendar_time(std::time(nullptr)).tm_hour; };
  }
}

bool PromptSource::follow_schedule() {
  std::vector<std::string> now;
  if (settings_.scheduled_themes) now = settings_.scheduled_themes();
  if (now == scheduled_) return false;
  scheduled_ = std::move(now);
  playlist_.clear();
  playlist_pos_ = 0;
  return true;
}

void PromptSource::refill_playlist(bool shuffle) {
  playlist_.clear();
  playlist_pos_ = 0;
  // A theme window: its names in the order written (each known name once per round).
  for (const std::string& name : scheduled_)
    for (std::size_t i = 0; i < themes_.size(); ++i)
      if (themes_[i].name == name) playlist_.push_back(i);
  if (!playlist_.empty()) return;
  if (!shuffle) {
    for (std::size_t i = 0; i < themes_.size(); ++i) playlist_.push_back(i);
    return;
  }
  // A weighted order without repeats: each theme once per round, heavier themes earlier on
  // average (weighted sampling without replacement).
  std::vector<double> weights;
  for (const Theme& t : themes_) weights.push_back(t.weight);
  for (std::size_t n = 0; n < themes_.size(); ++n) {
    std::discrete_distribution<std::size_t> pick(weights.begin(), weights.end());
    const std::size_t i = pick(rng_);
    playlist_.push_back(i);
    weights[i] = 0;
  }
  // Never play the same theme twice across a round boundary.
  if (started_ && playlist_.size() > 1 && playlist_.front() == current_)
    std::swap(playlist_[0], playlist_[1]);
}

bool PromptSource::resume_at(const std::string& theme, std::uint64_t started_at) {
  const auto it =
      std::find_if(themes_.begin(), themes_.end(), [&](const Theme& t) { return t.name == theme; });
  if (it == themes_.end()) return false;
  const std::size_t i = static_cast<std::size_t>(it - themes_.begin());
  const bool shuffle = settings_.prompts.get()->shuffle;
  // The schedule's window as it is now: seen first at the next prompt, it would reset the
  // playlist and drop the resumed theme.
  follow_schedule();
  refill_playlist(shuffle);
  const auto at = std::find(playlist_.begin(), playlist_.end(), i);
  if (at == playlist_.end()) return false;  // not in the schedule's window: the window plays
  const bool window = std::find(scheduled_.begin(), scheduled_.end(), theme) != scheduled_.end();
  if (shuffle && !window) {
    // The resumed theme is this round's first: the round plays the others after it.
    std::iter_swap(playlist_.begin(), at);
    playlist_pos_ = 1;
  } else {
    // The file's order (or the window's, which is never shuffled) goes on after it.
    playlist_pos_ = static_cast<std::size_t>(at - playlist_.begin()) + 1;
  }
  current_ = i;
  current_name_ = theme;
  theme_started_at_ = started_at;
  started_ = true;
  return true;
}

Prompt PromptSource::prompt_for(std::uint64_t index) {
  const auto config = settings_.prompts.get();
  const std::uint64_t every = static_cast<std::uint64_t>(std::max(config->rotate_every, 1));
  const bool window_changed = follow_schedule();
  if (!started_ || skip_ || window_changed || index >= theme_started_at_ + every) {
    skip_ = false;
    if (playlist_pos_ >= playlist_.size()) refill_playlist(config->shuffle);
    current_ = playlist_[playlist_pos_++];
    current_name_ = themes_[current_].name;
    theme_started_at_ = index;
    started_ = true;
  }
  Prompt p = themes_[current_].prompt;
  const auto overrides = settings_.overrides.get();
  if (!overrides->positive.empty()) p.positive = overrides->positive;
  if (!overrides->negative.empty()) p.negative = overrides->negative;
  if (config->time_of_day) p.positive += ", " + time_of_day_modifier(local_hour_());
  return p;
}

}  // namespace dw::pipeline
