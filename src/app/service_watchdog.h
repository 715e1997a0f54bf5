// The systemd watchdog's judgement, kept pure (no clock, no threads, no systemd) so that tests can
// drive it with simulated time. Healthy means the program is doing its job:
//  - the render loop presents: frames_presented advanced within the window, and so did each
//    output drawn by a thread of its own (a projector's thread wedged in its driver would leave
//    that projector on one picture for good while the main window goes on) unless its display is
//    away (a projector switched off);
//  - the pipeline makes progress: every running worker (orchestrator, interpolation, cache)
//    finished a step within the window. A worker's steps are time-sliced (they wait 50-200 ms at
//    most for input), so an idle worker still steps; one that stops counting is wedged (a
//    deadlock, a hung call, the test fault hook). Two legitimate long waits are excepted, and the
//    window starts again after them: generation paused (Commands::generation_paused()), where
//    the parts may rest, and a full buffer, where the producers block on the ring or on each
//    other until the screen takes frames. The interpolation worker, which fills the ring, is
//    excused only by a ring more than half full (its one wait): frames queued for it count in
//    the buffer, so with the buffer's excuse a worker hung in a decode would keep the pings
//    going forever while the screen ran dry. Its progress is its steps plus the frames it wrote
//    (one step is a whole pair, which a slow decoder takes long over);
//  - no worker failed (a failed worker stays failed: its errors are bugs, and a restart is the
//    remedy).
// While unhealthy the pings stop, so systemd (WatchdogSec) kills and restarts the process.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "pipeline/status.h"

namespace dw::service {

using Clock = std::chrono::steady_clock;

struct WatchdogSample {
  std::uint64_t frames_presented = 0;
  struct OutputFrames {
    std::uint64_t presented = 0;
    bool judged = true;  // drawn by its own thread, its display there
  };
  std::vector<OutputFrames> outputs;  // [i] is output i + 1 (the main window's is frames_presented)
  bool generation_paused = false;
  bool buffer_full = false;  // the buffer at its target, or the ring more than half full
  bool ring_full = false;    // the ring more than half full
  struct WorkerSteps {
    std::string name;
    std::uint64_t steps = 0;
    bool fills_ring = false;  // excused only by ring_full (the interpolation worker)
  };
  std::vector<WorkerSteps> running;  // workers that are running now, with their step counts
  std::vector<std::string> failed;   // workers that failed
};

struct WatchdogVerdict {
  bool healthy = true;
  std::string reason;  // "ok", or what is wrong ("worker 'orchestrator' made no step for 12 s")
};

class WatchdogJudge {
 public:
  explicit WatchdogJudge(Clock::duration window) : window_(window) {}
  void set_window(Clock::duration window) { window_ = window; }
  // One observation at `now` (times only move forward); the verdict for it.
  WatchdogVerdict observe(Clock::time_point now, const WatchdogSample& sample);

 private:
  struct Seen {
    std::uint64_t value = 0;
    Clock::time_point since;
  };
  // Records `value` at `now`; the time it has stood still.
  static Clock::duration still_for(std::optional<Seen>& seen, std::uint64_t value,
                                   Clock::time_point now);

  Clock::duration window_;
  std::optional<Seen> frames_;
  std::vector<std::optional<Seen>> outputs_;  // by output index, as in the sample
  std::map<std::string, std::optional<Seen>> workers_;
};

// The sample a snapshot gives: each output's frames (judged when its own thread draws it on its
// display), running workers with a step count, failed ones, and the buffer
// counted full when the producers may be blocked on it (above its target, or the ring more than
// half full: a decode batch is at most half the ring).
WatchdogSample sample_from(const pipeline::StatusSnapshot& s, bool generation_paused);

// systemd's STATUS= text: one line ("keyframe 12, theme 'ocean', 59.9 fps, buffer 8.1 s,
// watchdog ok").
std::string status_line(const pipeline::StatusSnapshot& s, const WatchdogVerdict& verdict,
                        bool generation_paused);

}  // namespace dw::service
