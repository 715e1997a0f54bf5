// Requests from the operator to the running parts: keys, the HTTP API, OSC and the schedule write
// here from their own threads; the parts that carry them out poll once per step (the render loop
// once per frame, the orchestrator before each keyframe request). Plain atomics: a writer never
// waits for a reader, and a request made twice before it is seen is carried out once (counters
// compare against the last value the reader handled).
#pragma once

#include <atomic>
#include <cstdint>

namespace dw {

// Why generation is paused: each writer owns one bit, so the schedule opening does not undo a
// pause the operator asked for, nor the other way round.
enum PauseReason : unsigned { kPauseOperator = 1u << 0, kPauseSchedule = 1u << 1 };

struct Commands {
  // Generation: no new keyframe is requested while any bit is set (the GPU and the server rest);
  // playback plays out what is buffered, then the presenter's own motion keeps the picture alive.
  std::atomic<unsigned> pause_reasons{0};
  // Render loop: hold the picture exactly as it is (a photo, a calibration check).
  std::atomic<bool> frozen{false};
  // Counters: each increment asks once.
  std::atomic<std::uint64_t> next_theme{0};  // prompt source: move on to the next theme now
  std::atomic<std::uint64_t> inject_now{0};  // orchestrator: the next keyframe is an injection
  std::atomic<std::uint64_t> screenshot{0};  // render loop: a PNG of the canvas
  std::atomic<std::uint64_t> quit{0};        // the app: quit as after SIGTERM
  // Recording (record.*): wanted on or off; the recorder follows.
  std::atomic<bool> recording{false};
  // The schedule's light level 0..1 (fade to black at closing), multiplied into the output.
  std::atomic<double> light{1.0};

  bool generation_paused() const { return pause_reasons.load(std::memory_order_acquire) != 0; }
  void set_pause(PauseReason reason, bool on) {
    if (on)
      pause_reasons.fetch_or(reason, std::memory_order_acq_rel);
    else
      pause_reasons.fetch_and(~static_cast<unsigned>(reason), std::memory_order_acq_rel);
  }
};

}  // namespace dw
