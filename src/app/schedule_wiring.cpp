#include "app/schedule_wiring.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <condition_variable>
#include <cstdlib>
#include <fstream>
#include <mutex>
#include <thread>

#include "core/error.h"
#include "core/paths.h"
#include "core/schedule_spec.h"
#include "pipeline/prompt_source.h"

namespace dw::app {

using pipeline::ChangeKind;
using pipeline::LocalTime;
using pipeline::ScheduleState;

namespace {

constexpr const char* kTestClockVariable = "DREAMWINDOW_TEST_CLOCK";

// Every name a theme window plays must be a theme of the file the prompts read.
void check_theme_names(const ScheduleSpec& spec, const PromptConfig& prompts) {
  if (spec.themes.empty()) return;
  std::string path = resolve_input_path(prompts.themes_file);
  if (path.empty())
    if (auto found = find_data_path("assets/themes.toml")) path = found->string();
  std::vector<pipeline::Theme> themes;
  try {
    themes = pipeline::load_themes(path);
  } catch (const std::exception& e) {
    throw InputError(fmt::format("schedule.themes names themes, but {}", e.what()));
  }
  std::string known;
  for (const pipeline::Theme& t : themes) known += (known.empty() ? "" : ", ") + t.name;
  for (const ThemeWindow& w : spec.themes)
    for (const std::string& name : w.themes)
      if (std::none_of(themes.begin(), themes.end(),
                       [&name](const pipeline::Theme& t) { return t.name == name; }))
        throw InputError(fmt::format(
            "schedule.themes: window {} names theme '{}', which the themes file '{}' does not have "
            "(it has: {})",
            w.text, name, path, known));
}

}  // namespace

std::optional<std::string> check_schedule_themes(const Config& config) {
  ScheduleSpec spec;
  if (parse_schedule(config.schedule, spec)) return std::nullopt;  // the rows' checks say that
  try {
    check_theme_names(spec, config.prompts);
  } catch (const InputError& e) {
    return e.what();
  }
  return std::nullopt;
}

namespace {

std::string transition_text(const ScheduleState& s) {
  return fmt::format("{}, light {:.2f}{}; {}", s.open ? "open" : "closed", s.output_light(),
                     s.theme_window.empty() ? "" : ", theme window " + s.theme_window, s.next.text);
}

}  // namespace

ScaledClock parse_test_clock(const std::string& text) {
  const auto bad = [&text] {
    return InputError(fmt::format(
        "{}=\"{}\" is not valid: expected YYYY-MM-DDTHH:MM:SS, optionally followed by *SCALE "
        "(\"2026-12-07T17:59:30*60\"); it is for tests only",
        kTestClockVariable, text));
  };
  int y = 0, mo = 0, d = 0, h = 0, mi = 0, s = 0, used = 0;
  if (std::sscanf(text.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d%n", &y, &mo, &d, &h, &mi, &s, &used) != 6)
    throw bad();
  std::vector<DateHours> check;
  if (parse_dates("", {fmt::format("{:04}-{:02}-{:02}=closed", y, mo, d)}, check) || h > 23 ||
      mi > 59 || s > 59 || h < 0 || mi < 0 || s < 0)
    throw bad();
  ScaledClock clock{pipeline::local_time(y, mo, d, h, mi, s), 1.0};
  const std::string rest = text.substr(static_cast<std::size_t>(used));
  if (rest.empty()) return clock;
  char* end = nullptr;
  if (rest[0] != '*') throw bad();
  clock.scale = std::strtod(rest.c_str() + 1, &end);
  if (end == rest.c_str() + 1 || *end != '\0' || !(clock.scale > 0) || clock.scale > 1e6)
    throw bad();
  return clock;
}

// The schedule's local clock: the real one, or DREAMWINDOW_TEST_CLOCK's (its text, or a file's).
class ScheduleClock {
 public:
  ScheduleClock() {
    const char* text = std::getenv(kTestClockVariable);
    if (text == nullptr) return;
    const std::string value = text;
    if (value.starts_with("file:")) {
      file_ = value.substr(5);
      if (!reread())
        throw InputError(fmt::format("{}: '{}' cannot be read", kTestClockVariable, *file_));
    } else {
      restart(value);
    }
  }

  LocalTime now() {
    if (file_) reread();
    if (!test_) return pipeline::local_time_of(std::chrono::system_clock::now());
    const double real =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - anchor_).count();
    return pipeline::advanced(test_->start, real * test_->scale);
  }
  double scale() const { return test_ ? test_->scale : 1.0; }

 private:
  void restart(const std::string& text) {
    test_ = parse_test_clock(text);
    anchor_ = std::chrono::steady_clock::now();
    text_ = text;
    spdlog::warn("schedule: test clock from {}: {}, {}x real time", kTestClockVariable,
                 pipeline::local_time_text(test_->start), test_->scale);
  }
  // False when the file cannot be read; a malformed new text is logged and ignored after start.
  bool reread() {
    std::ifstream in(*file_);
    if (!in) return false;
    std::string text;
    std::getline(in, text);
    while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back()))) text.pop_back();
    if (text == text_) return true;
    if (!test_) {
      restart(text);  // at start: a bad text is an InputError
      return true;
    }
    try {
      restart(text);
    } catch (const InputError& e) {
      spdlog::error("schedule: {}", e.what());
      text_ = text;
    }
    return true;
  }

  std::optional<std::string> file_;
  std::optional<ScaledClock> test_;
  std::string text_;
  std::chrono::steady_clock::time_point anchor_;
};

class ScheduleRunner {
 public:
  ScheduleRunner(ConfigStore& config, Commands& commands)
      : section_(config, &Config::schedule), commands_(commands) {
    reparse(*section_.get());
    check_theme_names(spec_, *LiveSection<PromptConfig>(config, &Config::prompts).get());
    step();  // the state holds before the pipeline starts (closed at start: dark, paused)
    thread_ = std::jthread([this](std::stop_token stop) { run(stop); });
  }
  ~ScheduleRunner() {
    thread_.request_stop();
    if (thread_.joinable()) thread_.join();
  }

  ScheduleState state() const {
    std::lock_guard lock(state_mutex_);
    return state_;
  }

 private:
  void reparse(const ScheduleConfig& config) {
    ScheduleSpec spec;
    // The rows' checks refuse malformed entries everywhere; keep the last good spec if one slips.
    if (auto err = parse_schedule(config, spec)) {
      spdlog::error("schedule: {}; keeping the previous schedule", *err);
      return;
    }
    spec_ = std::move(spec);
  }

  // Evaluates and applies; returns the real seconds until the next step.
  double step() {
    if (auto section = section_.get_if_changed(seen_)) reparse(*section);
    const ScheduleState s = pipeline::evaluate_schedule(spec_, clock_.now());
    const double light = applied_light(s);
    commands_.light.store(light, std::memory_order_relaxed);
    commands_.set_pause(kPauseSchedule, !s.open);
    {
      std::lock_guard lock(state_mutex_);
      const bool changed = s.open != state_.open || s.theme_window != state_.theme_window ||
                           s.enabled != state_.enabled || first_;
      first_ = false;
      state_ = s;
      if (changed) spdlog::info("schedule: {}", transition_text(s));
    }
    const double scale = clock_.scale();
    const bool fading =
        (s.open && s.light < 1) || (!s.open && s.light > 0) || light != s.output_light();
    double wait = fading ? 0.05 : 1.0;
    if (s.next.kind != ChangeKind::None) wait = std::min(wait, s.next.in_s / scale + 0.001);
    return std::clamp(wait, 0.005, 1.0);
  }

  // The light to show for state `s`: its own, except that it never changes faster than the fade
  // allows in real time. The schedule's light is continuous in wall-clock time, and the wall
  // clock jumps: daylight saving (at the autumn change a shop open until 02:30 opens again at
  // 02:00), NTP correcting a clock that booted wrong, an edit of the hours. Those now fade
  // instead of cutting to black or to full light in one frame. The first step, and turning the
  // schedule off or on, apply at once.
  double applied_light(const ScheduleState& s) {
    const auto now = std::chrono::steady_clock::now();
    const double target = s.output_light();
    double light = target;
    if (!first_ && s.enabled && last_enabled_ && spec_.fade_s > 0) {
      const double real_s = std::chrono::duration<double>(now - last_step_).count();
      const double most = real_s * clock_.scale() / spec_.fade_s;
      light = std::clamp(target, applied_ - most, applied_ + most);
    }
    applied_ = light;
    last_step_ = now;
    last_enabled_ = s.enabled;
    return light;
  }

  void run(std::stop_token stop) {
    std::mutex mutex;
    std::condition_variable_any wake;
    while (!stop.stop_requested()) {
      const double wait = step();
      std::unique_lock lock(mutex);
      wake.wait_for(lock, stop, std::chrono::duration<double>(wait), [] { return false; });
    }
  }

  LiveSection<ScheduleConfig> section_;
  Commands& commands_;
  ScheduleClock clock_;
  std::uint64_t seen_ = LiveSection<ScheduleConfig>::kNeverSeen;
  ScheduleSpec spec_;
  mutable std::mutex state_mutex_;
  ScheduleState state_;
  bool first_ = true;
  double applied_ = 1;  // the light last applied, and when
  std::chrono::steady_clock::time_point last_step_;
  bool last_enabled_ = false;
  std::jthread thread_;
};

std::shared_ptr<ScheduleRunner> start_schedule(ConfigStore& config, Commands& commands,
                                               pipeline::PipelineHooks& hooks) {
  auto runner = std::make_shared<ScheduleRunner>(config, commands);
  hooks.schedule_state = [runner] { return runner->state(); };
  return runner;
}

}  // namespace dw::app
