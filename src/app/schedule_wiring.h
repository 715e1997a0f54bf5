// The schedule applied: a thread evaluates pipeline/schedule.h against the local clock and writes
// what it says into the operator's Commands (light: the fade and the brightness curve, which the
// output multiplies in; pause_reasons' kPauseSchedule while closed, so generation rests) and gives
// the pipeline its state (the theme window's playlist for the prompts; status rows).
//
// It evaluates once a second, and every 50 ms while the light fades, and wakes at the next change.
// The config is read live (schedule.* rows apply at once).
//
// Test-only clock: DREAMWINDOW_TEST_CLOCK="2026-12-07T17:59:30" starts the schedule's local clock
// at that wall-clock time; a suffix "*60" makes it run 60 times faster than real time (a day in 24
// minutes at *60, in 14 s at *6000). DREAMWINDOW_TEST_CLOCK="file:PATH" reads that text from the
// file instead, again whenever the file's text changes (the clock restarts from the new time then),
// so a test can move the clock to just before closing time when it is ready. Meant for tests and
// demonstrations, never for installations.
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "core/commands.h"
#include "core/config_store.h"
#include "pipeline/pipeline.h"
#include "pipeline/schedule.h"

namespace dw::app {

class ScheduleRunner;

// Starts the schedule and sets hooks.schedule_state (call before the pipeline is made; keep the
// runner alive while the pipeline runs). Throws InputError when a theme window names a theme the
// themes file does not have, or when DREAMWINDOW_TEST_CLOCK is malformed.
std::shared_ptr<ScheduleRunner> start_schedule(ConfigStore& config, Commands& commands,
                                               pipeline::PipelineHooks& hooks);

// The check start_schedule makes, for ParamEditor::add_check: every theme a theme window of
// config.schedule names is in the themes file config.prompts reads (an error text naming the
// window, the theme and the file's themes), so that a live edit or a reload is refused where the
// next start would be.
std::optional<std::string> check_schedule_themes(const Config& config);

// A local clock that starts at `start` and runs `scale` times faster than `real` (test clock).
struct ScaledClock {
  pipeline::LocalTime start;
  double scale = 1;
};
// Parses DREAMWINDOW_TEST_CLOCK's value; throws InputError naming the variable and the form.
ScaledClock parse_test_clock(const std::string& text);

}  // namespace dw::app
