// The app's recording: the recorder, the screenshot writer and the canvas router (src/record),
// the actions start_recording, stop_recording, toggle_recording and screenshot in the app's one
// ActionTable, record.enabled at start, and the recorder's figures for status.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "core/actions.h"
#include "core/canvas_sink.h"
#include "core/commands.h"
#include "core/config_store.h"
#include "pipeline/keyframe_source.h"
#include "pipeline/status.h"

namespace dw {

namespace record {
class KeyframeArchive;
class Recorder;
class StillWriter;
class CaptureRouter;
enum class StopCause;
}  // namespace record

class RecordWiring {
 public:
  // Registers the actions, and with record.enabled starts recording. A recording folder that
  // cannot be written, not on the disk record.mount wants, or a disk below record.min_free_mb
  // then (a disk the recordings filled, a USB disk not mounted yet) does not stop the show: it is
  // logged and is status's last_error, and recording starts once the disk watch finds it mended
  // (while record.enabled stays set). A recording that stopped by itself for the folder or the disk
  // (a split into a folder that vanished, a disk below the floor with nothing of ours left to
  // remove) starts again the same way, logged and counted (status restarts), unless the operator
  // starts or stops it meanwhile. The disk watch (its own thread, at once and then every
  // `watch_every`) makes that start and measures the free space status reports: neither the
  // constructor nor a status read touches a disk that may hang (a network share), which would hold
  // the start or the watchdog's ping.
  RecordWiring(const Config& initial, ConfigStore& config, Commands& commands, ActionTable& actions,
               std::chrono::milliseconds watch_every = std::chrono::seconds(10));
  ~RecordWiring();  // finishes the file being written
  RecordWiring(const RecordWiring&) = delete;
  RecordWiring& operator=(const RecordWiring&) = delete;

  // The display has stopped: writes what is queued, finishes the file and the screenshots.
  void finish();
  // For RenderLoopOptions::canvas_sink.
  CanvasSink* sink();
  // For PipelineHooks::on_keyframe: the keyframe archive (null when record.archive_dir is empty).
  pipeline::KeyframeObserver keyframe_observer();
  // For PipelineHooks::recording_status (any thread).
  pipeline::RecordingStatus status() const;

 private:
  void add_actions(ActionTable& actions);
  ActionResult start_recording();
  ActionResult stop_recording();

  // The disk watch's round: free space, and the start that record.enabled still waits for.
  void watch_disk();
  void end_wait_locked();
  void stopped_by_itself(const std::string& warning, record::StopCause cause);

  ConfigStore& config_;
  Commands& commands_;
  std::atomic<std::uint64_t> free_bytes_{0};
  mutable std::mutex start_mutex_;  // guards the two below; never held across a disk call
  bool waiting_start_;              // record.enabled has not started yet
  bool resuming_ = false;           // stopped for the folder or the disk: starts again once mended
  std::uint64_t restarts_ = 0;      // such starts again
  // A recording that stops again soon after it started again (a disk that passes the checks but
  // refuses writes) waits longer before each next start: 3 watch periods, doubling, at most 180.
  using Clock = std::chrono::steady_clock;
  const std::chrono::milliseconds watch_every_;
  std::chrono::milliseconds resume_wait_{0};
  Clock::time_point resume_after_{};
  std::optional<Clock::time_point> restarted_at_;
  std::string start_problem_;  // why (empty: not checked yet, or nothing waits)
  std::unique_ptr<record::Recorder> recorder_;
  std::unique_ptr<record::StillWriter> stills_;
  std::unique_ptr<record::CaptureRouter> router_;
  std::unique_ptr<record::KeyframeArchive> archive_;
  std::jthread watch_;  // last: stopped first
};

}  // namespace dw
