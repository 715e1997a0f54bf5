#include "app/service_watchdog.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

namespace dw::service {
namespace {

double seconds(Clock::duration d) {
  return std::chrono::duration<double>(d).count();
}

}  // namespace

Clock::duration WatchdogJudge::still_for(std::optional<Seen>& seen, std::uint64_t value,
                                         Clock::time_point now) {
  if (!seen || seen->value != value) seen = Seen{value, now};
  return now - seen->since;
}

WatchdogVerdict WatchdogJudge::observe(Clock::time_point now, const WatchdogSample& sample) {
  WatchdogVerdict verdict{true, "ok"};
  const auto fail = [&verdict](std::string why) {
    if (!verdict.healthy) return;  // the first reason found is the one reported
    verdict = WatchdogVerdict{false, std::move(why)};
  };
  for (const std::string& name : sample.failed) fail(fmt::format("worker '{}' failed", name));

  const Clock::duration frames_still = still_for(frames_, sample.frames_presented, now);
  if (frames_still > window_)
    fail(fmt::format("no frame presented for {:.0f} s", seconds(frames_still)));

  outputs_.resize(sample.outputs.size());
  for (std::size_t i = 0; i < sample.outputs.size(); ++i) {
    const WatchdogSample::OutputFrames& o = sample.outputs[i];
    if (!o.judged) {
      outputs_[i] = Seen{o.presented, now};  // its window starts once it is judged again
      continue;
    }
    const Clock::duration still = still_for(outputs_[i], o.presented, now);
    if (still > window_)
      fail(fmt::format("output {} presented no frame for {:.0f} s", i + 1, seconds(still)));
  }

  // Workers that are gone (stopped) are forgotten; new ones start their window now.
  std::map<std::string, std::optional<Seen>> kept;
  for (const auto& w : sample.running) {
    const bool excused =
        sample.generation_paused || (w.fills_ring ? sample.ring_full : sample.buffer_full);
    std::optional<Seen>& seen = kept[w.name];
    if (auto it = workers_.find(w.name); it != workers_.end()) seen = it->second;
    if (excused) seen = Seen{w.steps, now};  // a legitimate wait: the window starts after it
    const Clock::duration still = still_for(seen, w.steps, now);
    if (still > window_)
      fail(fmt::format("worker '{}' made no step for {:.0f} s", w.name, seconds(still)));
  }
  workers_ = std::move(kept);
  return verdict;
}

WatchdogSample sample_from(const pipeline::StatusSnapshot& s, bool generation_paused) {
  WatchdogSample sample;
  sample.frames_presented = s.display.frames_presented;
  for (const pipeline::OutputStatus& o : s.display.outputs)
    sample.outputs.push_back({o.presented, o.own_thread && o.on_display});
  sample.generation_paused = generation_paused;
  sample.ring_full = s.ring_capacity > 0 && 2 * s.ring_depth > s.ring_capacity;
  sample.buffer_full =
      (s.buffer_target_s > 0 && s.buffer_s >= s.buffer_target_s) || sample.ring_full;
  for (const pipeline::WorkerHealth& w : s.workers) {
    if (w.state == pipeline::WorkerState::Failed) sample.failed.push_back(w.name);
    if (w.state != pipeline::WorkerState::Running || !w.steps) continue;
    const bool fills_ring = w.name == "interpolation";
    sample.running.push_back(
        {w.name, *w.steps + (fills_ring ? s.interpolation.frames : 0), fills_ring});
  }
  return sample;
}

std::string status_line(const pipeline::StatusSnapshot& s, const WatchdogVerdict& verdict,
                        bool generation_paused) {
  std::string line = fmt::format("keyframe {}", s.display.current_keyframe);
  if (!s.orchestrator.theme.empty()) line += fmt::format(", theme '{}'", s.orchestrator.theme);
  line += fmt::format(", {:.1f} fps, buffer {:.1f} s",
                      std::isfinite(s.display.fps) ? s.display.fps : 0.0, s.buffer_s);
  if (generation_paused) line += ", generation paused";
  line += verdict.healthy ? ", watchdog ok" : ", watchdog stalled: " + verdict.reason;
  // One line: a theme name or a reason never breaks it.
  std::replace_if(
      line.begin(), line.end(), [](char c) { return c == '\n' || c == '\r'; }, ' ');
  return line;
}

}  // namespace dw::service
