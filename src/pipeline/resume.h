// Resume after a restart (a crash, a reboot, the watchdog): the last two keyframes of the dream,
// its theme position and time, kept small in the state directory (resume/ beside status.json,
// by default $XDG_STATE_HOME/dreamwindow/resume/):
//   keyframe-<index>.png  the newest two keyframes (names derived from the indexes, never read
//                         from the file)
//   state.json            {"version": 1, "keyframes": [i, j], "theme": ..., "theme_started_at":
//                         ..., "width": w, "height": h, "saved_at": unix seconds}
// PNGs are written first, then state.json (both atomically: temp file + rename), then PNGs no
// longer named are removed, so a crash at any point leaves a readable state or the previous one.
// At start the pipeline plays the newest keyframe first (the first frame shown), keeps its index
// and theme, and grows the dream from it; a missing state starts from a seed, an unreadable one
// too, with a warning. The cache needs nothing here: it persists on its own.
//
// Writes are bounded (SSD wear): at most one save per service.resume_every_s, only when a new
// keyframe came, and within a daily byte budget (cache::WriteBudget); once more at stop.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "cache/write_budget.h"
#include "core/image.h"

namespace dw::pipeline {

struct ThemePosition {
  std::string theme;             // the theme's name ("" when unknown)
  std::uint64_t started_at = 0;  // the keyframe index where it began
};

struct ResumeKeyframe {
  std::uint64_t index = 0;
  Image image;
};

struct ResumeState {
  std::vector<ResumeKeyframe> keyframes;  // oldest first; one or two
  ThemePosition theme;
  double saved_at = 0;  // unix seconds
};

// The state in `dir`: nullopt when there is none; throws dw::InputError naming what is wrong when
// it cannot be used (malformed JSON, a missing or broken PNG, keyframes of another size than
// width x height).
std::optional<ResumeState> load_resume_state(const std::string& dir, int width, int height);

// Writes `state` into `dir` as described above; returns the bytes written. The PNG of an index
// in `on_disk` (written by an earlier save of this run) is not written again. Throws dw::Error.
std::size_t save_resume_state(const std::string& dir, const ResumeState& state,
                              const std::set<std::uint64_t>& on_disk = {});

// resume/ beside the status file.
std::string resume_dir_for(const std::string& status_path);

// What a run starts from: the state's keyframes (empty: a seed image), its theme, and a line for
// status. Never throws: a state that cannot be used is a warning in the log and a seed start.
struct ResumeStart {
  std::vector<ResumeKeyframe> keyframes;
  ThemePosition theme;
  std::string source;  // "seed image", "resume state: keyframe 41 saved 2026-12-03 09:12:04", ...
};
ResumeStart read_resume_start(const std::string& dir, int width, int height);

struct ResumeWriterOptions {
  std::string dir;
  double every_s = 30;       // at most one save per this many seconds
  double mb_per_day = 1024;  // the daily write budget (<= 0: none)
};

struct ResumeStats {
  std::uint64_t saves = 0;
  std::uint64_t failures = 0;
  std::uint64_t last_saved_keyframe = 0;
  std::uint64_t bytes = 0;
  std::string last_error;
};

// Keeps the newest two keyframes it is offered and saves them from its own thread (never on the
// orchestrator's), bounded as above.
class ResumeWriter {
 public:
  using Clock = std::chrono::steady_clock;
  explicit ResumeWriter(ResumeWriterOptions options);
  ~ResumeWriter();
  ResumeWriter(const ResumeWriter&) = delete;
  ResumeWriter& operator=(const ResumeWriter&) = delete;

  // A keyframe was emitted (called in index order).
  void offer(std::uint64_t index, Image image, ThemePosition theme);
  // Saves what is not saved yet, then ends the thread.
  void stop();
  ResumeStats stats() const;

 private:
  void run(std::stop_token stop);
  void save_locked(std::unique_lock<std::mutex>& lock);

  ResumeWriterOptions options_;
  mutable std::mutex mutex_;
  std::condition_variable_any wake_;
  ResumeState pending_;
  bool dirty_ = false;
  std::uint64_t offers_ = 0;
  std::set<std::uint64_t> on_disk_;  // indexes whose PNG this writer saved and kept
  cache::WriteBudget budget_;
  std::optional<Clock::time_point> last_save_;
  ResumeStats stats_;
  std::jthread thread_;
};

}  // namespace dw::pipeline
