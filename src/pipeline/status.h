// One status snapshot, three views: status.json (written atomically every status.interval_s),
// the Prometheus text at /metrics, and the overlay's lines, all rendered from the metrics table
// (metrics_table.h). All numbers come from the components' own counters at the moment of the
// snapshot; nothing here keeps state of its own.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "pipeline/cache_worker.h"
#include "pipeline/image_folder.h"
#include "pipeline/interpolation_worker.h"
#include "pipeline/orchestrator.h"
#include "pipeline/schedule.h"
#include "pipeline/vae_service.h"
#include "pipeline/worker.h"

namespace dw::pipeline {

// What the render loop reports about itself (filled by the app from the presenter's statistics).
// One output of the canvas (with [[output]] tables): output 1 is the main window's, drawn by the
// render loop; outputs 2.. in windows are each drawn by a thread of their own at their display's
// refresh (render/output_thread.h).
struct OutputStatus {
  std::uint64_t presented = 0;  // frames this output showed
  std::uint64_t skipped = 0;    // canvases it had no refresh for (never shown)
  double fps = 0;               // frames per second over the last second it presented
  bool own_thread = false;
  bool on_display = true;  // its window is on its own display (false while a projector is off)
};

struct DisplayStatus {
  std::uint64_t frames_presented = 0;
  std::uint64_t content_frames_shown = 0;
  std::uint64_t content_uploads = 0;  // content frames uploaded to the GPU (once each, any outputs)
  std::uint64_t current_sequence = 0;  // the content frame on screen
  std::uint64_t current_keyframe = 0;
  double fps = 0;
  double frame_ms_p50 = 0;
  double frame_ms_p99 = 0;
  std::uint64_t late_frames = 0;
  double content_fps = 0;
  std::vector<OutputStatus> outputs;  // empty without [[output]] tables
  std::string display;                // the main window's display ("headless" when headless)
  bool display_on_target = true;      // false while a window's own display is gone (or not yet)
  std::uint64_t display_moves = 0;    // windows moved back onto their displays
};

// The operator's controls (core/commands.h, the app's control surfaces), for status.
struct ControlStatus {
  bool paused = false;          // generation paused: no keyframe is requested
  std::string pause_reasons;    // "operator", "schedule", "operator, schedule"; "" when running
  bool frozen = false;          // the picture is held exactly
  std::string pending_restart;  // restart keys changed (edit or reload), comma-separated
  std::string osc;              // where OSC listens ("udp://127.0.0.1:9000"), "off", "off: <why>"
                                // or "waiting to bind to ...: <why>; retrying", or
                                // "unreachable: ..." (bound to an address the machine lost)
  std::string last_reload;      // "ok: ..." or "error: ..." of the last config reload; "" if none
  std::uint64_t config_version = 0;  // ParamEditor::version(): moves on every parameter change
};

// "operator, schedule" for the bits of Commands::pause_reasons.
std::string pause_reasons_text(unsigned reasons);

// The canvas recorder and screenshots (src/record), when the app has them.
struct RecordingStatus {
  bool on = false;
  std::string file;     // being written now ("" between files or when off)
  std::string encoder;  // of the last file opened
  std::uint64_t frames_written = 0;
  std::uint64_t frames_dropped = 0;
  std::uint64_t bytes = 0;
  std::uint64_t files = 0;
  std::uint64_t free_disk_bytes = 0;
  std::uint64_t screenshots = 0;
  std::string last_error;
  // The keyframe archive (record.archive_dir): keyframes written, not written (the folder, the
  // disk, or arriving faster than it writes), its bytes now, and why the last one failed.
  std::uint64_t archive_written = 0;
  std::uint64_t archive_failed = 0;
  std::uint64_t archive_bytes = 0;
  std::string archive_last_error;
  std::uint64_t files_removed = 0;  // oldest recordings removed (record.max_total_mb, the floor)
  std::uint64_t restarts = 0;       // recordings started again after a stop for the disk
};

struct WorkerHealth {
  std::string name;
  WorkerState state = WorkerState::Starting;
  std::uint64_t errors = 0;  // recovered from
  std::string last_error;    // or, when failed, what stopped it
  // Steps the worker finished (Worker::steps); none for the keyframe source, whose threads are
  // its own. The service watchdog watches it move.
  std::optional<std::uint64_t> steps;
};

// The service side: the systemd watchdog and log file (from the app, PipelineHooks::
// service_status) and resume (the pipeline's own).
struct ServiceStatus {
  std::string watchdog = "off";  // "off", "waiting for the first frame", "ok", "stalled: ..."
  double watchdog_s = 0;         // systemd's WatchdogSec; 0: none
  double ready_at_s = -1;        // seconds after start when systemd was told READY=1; -1: not
  std::uint64_t watchdog_pings = 0;
  std::string log_file;            // "" when none
  std::string resume_source;       // what the dream started from: a seed, or the resume state
  std::uint64_t resume_saves = 0;  // resume states written
  std::uint64_t resume_saved_keyframe = 0;
};

// Where the web remote listens and whether it is protected (the app fills it through
// PipelineHooks::remote_status; remote/http_api.h).
struct RemoteStatus {
  std::string state = "off";  // "listening", "off", "waiting to bind to ...: <why>; retrying",
                              // "not listening: starting again", "unreachable: ..." (its
                              // address is gone), or "failed: <why>"
  std::string url;            // "http://127.0.0.1:8420"; empty while off or waiting to bind
  bool token_required = false;
  std::uint64_t requests = 0;
  std::uint64_t relistens = 0;  // the accept loop ended by itself and was started again
};

struct StatusSnapshot {
  double uptime_s = 0;
  std::string version;
  std::string vae_backend;
  std::string source;
  DisplayStatus display;
  std::size_t ring_depth = 0;
  std::size_t ring_capacity = 0;
  double buffer_s = 0;        // content ahead of the screen: the ring and the interpolation queue
  double buffer_ready_s = 0;  // of which frames ready in the ring
  double buffer_decoding_s = 0;  // of which frames of pairs taken for decoding, not decoded yet
  double buffer_target_s = 0;
  std::size_t source_pending = 0;   // requests at the source
  std::size_t source_capacity = 0;  // requests it can use: the pipeline's depth
  OrchestratorStats orchestrator;
  InterpolationStats interpolation;
  std::size_t interpolation_queue = 0;
  std::size_t interpolation_queued_frames = 0;
  CacheWorkerStats cache_worker;
  std::size_t cache_entries = 0;
  std::size_t cache_queue = 0;
  LockWaitStats vae_lock;
  std::vector<WorkerHealth> workers;
  SourceHealth source_health;  // the keyframe source's own counters and servers
  FolderStatus folder;         // source.folder: read or not, and why
  ControlStatus control;
  ScheduleState schedule;  // opening hours, light, theme window (pipeline/schedule.h)
  std::optional<RecordingStatus> recording;
  RemoteStatus remote;
  ServiceStatus service;
};

// What an operator must see at once, one line each, as the web remote's problems list shows them:
// workers not running or with errors, the last error, unhealthy or degraded servers, source.folder
// not read (missing, unreadable, no images), VAE, cache,
// recording and archive failures, a remote or OSC that does not listen, a stalled watchdog, a
// collapse being held. Empty when all is well.
std::vector<std::string> status_problems(const StatusSnapshot& s);

// Calls `render` every `interval` and writes the text atomically to `path`; also once more on
// stop, so the file on disk is the final state. Write errors are logged, counted and retried.
class PeriodicFileWriter {
 public:
  PeriodicFileWriter(std::string path, std::chrono::milliseconds interval,
                     std::function<std::string()> render);
  ~PeriodicFileWriter();
  void write_now();
  std::uint64_t writes() const { return writes_.load(); }
  std::uint64_t failures() const { return failures_.load(); }
  void stop();

 private:
  void run(std::stop_token stop);

  std::string path_;
  std::chrono::milliseconds interval_;
  std::function<std::string()> render_;
  std::mutex write_mutex_;
  std::atomic<std::uint64_t> writes_{0};
  std::atomic<std::uint64_t> failures_{0};
  std::jthread thread_;
};

}  // namespace dw::pipeline
