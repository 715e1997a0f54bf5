#include "app/record_wiring.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <ctime>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "core/error.h"
#include "core/stop_sleep.h"
#include "record/capture_router.h"
#include "record/keyframe_archive.h"
#include "record/record_paths.h"
#include "record/recorder.h"
#include "record/recording_files.h"
#include "record/still_writer.h"

namespace dw {
namespace {

// What finishing the recording may take on the way out, 15 s in all: the service unit's
// TimeoutStopSec is 30 s, and the rest of the shutdown (the pipeline's workers, the ComfyUI
// servers' clean-up, the remote's connections) comes after it.
constexpr std::chrono::milliseconds kFinishBudget{10000};
constexpr std::chrono::milliseconds kCloseBudget{3000};
constexpr std::chrono::milliseconds kStillsBudget{2000};

// What stops a recording from starting in `config` now, or nothing.
std::optional<std::string> recording_problem(const RecordConfig& config) {
  const record::Folder folder = record::recording_folder(config);
  if (auto bad = record::check_writable_dir(folder)) return bad;
  const std::string& dir = folder.path;
  const std::uint64_t floor = static_cast<std::uint64_t>(config.min_free_mb) << 20;
  const auto free = record::free_bytes(dir);
  if (!free || *free >= floor) return std::nullopt;
  // With a bound the recorder removes its oldest recordings to keep the floor: below it is only a
  // problem when removing all of them would not be enough.
  if (config.max_total_mb > 0) {
    std::uint64_t ours = 0;
    for (const record::RecordingFile& f : record::own_recordings(dir)) ours += f.bytes;
    if (*free + ours >= floor) return std::nullopt;
  }
  return fmt::format("record.min_free_mb: {} has {} MB free, below the floor of {} MB", dir,
                     *free >> 20, config.min_free_mb);
}

// Free space where recordings go: the folder, or its nearest existing parent.
std::uint64_t free_space_for(const std::string& dir) {
  std::filesystem::path p(dir);
  for (; !p.empty(); p = p.parent_path()) {
    if (const auto free = record::free_bytes(p.string())) return *free;
    if (p == p.parent_path()) break;
  }
  return 0;
}

}  // namespace

RecordWiring::RecordWiring(const Config& initial, ConfigStore& config, Commands& commands,
                           ActionTable& actions, std::chrono::milliseconds watch_every)
    : config_(config),
      commands_(commands),
      waiting_start_(initial.record.enabled),
      watch_every_(watch_every) {
  record::RecorderHooks hooks;
  hooks.on_stopped = [this](const std::string& warning, record::StopCause cause) {
    stopped_by_itself(warning, cause);
  };
  recorder_ = std::make_unique<record::Recorder>(
      static_cast<std::size_t>(initial.record.queue_frames), std::move(hooks));
  stills_ = std::make_unique<record::StillWriter>();
  router_ = std::make_unique<record::CaptureRouter>(config, commands, *recorder_, *stills_);
  add_actions(actions);
  if (!initial.record.archive_dir.empty()) {
    archive_ = std::make_unique<record::KeyframeArchive>(
        record::resolve_record_dir(initial.record.archive_dir),
        static_cast<std::uint64_t>(initial.record.archive_max_mb) << 20);
    archive_->set_mount(initial.record.mount);
  }
  // The first round at once: record.enabled starts (or says why not) without waiting a period.
  watch_ = std::jthread([this, watch_every](std::stop_token stop) {
    do watch_disk();
    while (sleep_unless_stopped(stop, watch_every));
  });
}

RecordWiring::~RecordWiring() = default;

// No lock is held across a disk call: status() takes start_mutex_, and a share that stops
// answering must not hold it (status feeds the watchdog's ping and the overlay).
void RecordWiring::watch_disk() {
  const auto config = config_.get();
  const record::Folder folder = record::recording_folder(config->record);
  const std::string& dir = folder.path;
  // A disk not mounted yet has no free space to report (not that of the disk under it).
  free_bytes_.store(record::mount_problem(folder) ? 0 : free_space_for(dir));
  // record.archive_max_mb lowered applies without waiting for a keyframe (generation paused).
  if (archive_)
    archive_->set_max_bytes(static_cast<std::uint64_t>(config->record.archive_max_mb) << 20);
  {
    std::lock_guard lock(start_mutex_);
    if (commands_.recording.load()) {
      end_wait_locked();  // started by hand: nothing waits any more
      return;
    }
    if (waiting_start_ && !config->record.enabled) {
      waiting_start_ = false;  // turned off before it could start
      if (!resuming_) start_problem_.clear();
    }
    if (!waiting_start_ && !resuming_) return;
  }
  // The render thread has not yet seen the stop: a start now would be no edge to it, and the
  // recorder would stay off while recording looked wanted. The next round starts it.
  if (router_->following_recording()) return;
  {
    std::lock_guard lock(start_mutex_);
    if (resuming_ && Clock::now() < resume_after_) return;  // it stopped soon after its last start
  }
  const std::optional<std::string> problem = recording_problem(config->record);
  std::lock_guard lock(start_mutex_);
  if (!waiting_start_ && !resuming_) return;  // started or stopped by hand meanwhile
  if (problem) {
    const bool first = start_problem_.empty();
    const char* what = resuming_ ? "recording stopped and cannot start again"
                                 : "record.enabled is set but recording cannot start";
    start_problem_ = fmt::format("{}: {}; it starts once that is mended", what, *problem);
    if (first) spdlog::error("recording: {}", start_problem_);
    return;
  }
  if (resuming_) {
    ++restarts_;
    restarted_at_ = Clock::now();
    spdlog::info("recording: starts again now that {} can take it (restart {} since the start)",
                 dir, restarts_);
  } else if (!start_problem_.empty()) {
    spdlog::info("recording: starts now that {} can take it", dir);
  }
  end_wait_locked();
  commands_.recording.store(true);
}

// On the encoder thread. A stop for the folder or the disk waits for the disk watch to start
// recording again; any other (an encoder that does not open) waits for the operator.
void RecordWiring::stopped_by_itself(const std::string& warning, record::StopCause cause) {
  std::lock_guard lock(start_mutex_);  // the watch sees the flag and the request change together
  commands_.recording.store(false);
  if (cause != record::StopCause::Disk) return;
  resuming_ = true;
  const auto now = Clock::now();
  constexpr auto kSoon = std::chrono::minutes(1);
  if (restarted_at_ && now - *restarted_at_ < kSoon)
    resume_wait_ = std::min(std::max(2 * resume_wait_, 3 * watch_every_), 180 * watch_every_);
  else
    resume_wait_ = std::chrono::milliseconds(0);
  resume_after_ = now + resume_wait_;
  start_problem_ =
      resume_wait_.count() == 0
          ? fmt::format("recording stopped: {}; it starts again once mended", warning)
          : fmt::format(
                "recording stopped again {:.0f} s after it started: {}; it starts again "
                "once mended, in {:.0f} s at the earliest",
                std::chrono::duration<double>(now - *restarted_at_).count(), warning,
                std::chrono::duration<double>(resume_wait_).count());
}

void RecordWiring::end_wait_locked() {
  waiting_start_ = false;
  resuming_ = false;
  start_problem_.clear();
}

void RecordWiring::add_actions(ActionTable& actions) {
  actions.add("start_recording", "record the canvas to MP4 (record.dir)",
              [this] { return start_recording(); });
  actions.add("stop_recording", "stop recording (the file is finished)",
              [this] { return stop_recording(); });
  actions.add("toggle_recording", "start or stop recording",
              [this] { return commands_.recording.load() ? stop_recording() : start_recording(); });
  actions.add("screenshot", "a PNG of the canvas (record.screenshot_dir, else record.dir)", [this] {
    const record::Folder folder = record::screenshot_folder(config_.get()->record);
    if (auto bad = record::check_writable_dir(folder))
      return ActionResult{false, fmt::format("no screenshot: {}", *bad)};
    commands_.screenshot.fetch_add(1);
    return ActionResult{true, fmt::format("screenshot to {}", folder.path)};
  });
}

ActionResult RecordWiring::start_recording() {
  const auto config = config_.get();
  if (auto problem = recording_problem(config->record))
    return {false, fmt::format("cannot record: {}", *problem)};
  {
    std::lock_guard lock(start_mutex_);
    end_wait_locked();  // started by hand: the wait for record.enabled is over
  }
  if (commands_.recording.exchange(true)) return {true, "already recording"};
  return {true, fmt::format("recording to {}", record::resolve_record_dir(config->record.dir))};
}

ActionResult RecordWiring::stop_recording() {
  {
    std::lock_guard lock(start_mutex_);
    end_wait_locked();  // stopped by hand: neither record.enabled nor a stop of the disk's
                        // starts it behind the operator
  }
  if (!commands_.recording.exchange(false)) return {true, "not recording"};
  return {true, "recording stopped"};
}

void RecordWiring::finish() {
  if (const std::uint64_t dropped = recorder_->finish(kFinishBudget, kCloseBudget))
    spdlog::warn("recording: {} queued frames left out, to finish the file within {} s", dropped,
                 kFinishBudget.count() / 1000);
  if (!stills_->wait_idle(kStillsBudget))
    spdlog::warn("recording: screenshots still unwritten after {} s", kStillsBudget.count() / 1000);
}

namespace {

// The keyframe's description: what made it and the settings it was made with.
std::string describe(const pipeline::KeyframeNote& k, const Config& c) {
  nlohmann::json j;
  j["index"] = k.index;
  j["time"] = static_cast<std::int64_t>(std::time(nullptr));
  j["origin"] = k.origin;
  j["injected"] = k.injected;
  j["prompt"] = {{"positive", k.prompt.positive}, {"negative", k.prompt.negative}};
  j["seed"] = k.seed;
  j["settings"] = {{"checkpoint", c.comfy.checkpoint}, {"workflow", c.comfy.workflow},
                   {"steps", c.comfy.steps},           {"cfg", c.comfy.cfg},
                   {"sampler", c.comfy.sampler},       {"scheduler", c.comfy.scheduler},
                   {"denoise", c.comfy.denoise},       {"width", c.comfy.width},
                   {"height", c.comfy.height},         {"vae_decoder", c.vae.decoder_path}};
  return j.dump(2, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace

pipeline::KeyframeObserver RecordWiring::keyframe_observer() {
  if (!archive_) return {};
  return [this](const pipeline::KeyframeNote& k) {
    if (!k.image) return;
    const auto config = config_.get();
    archive_->set_max_bytes(static_cast<std::uint64_t>(config->record.archive_max_mb) << 20);
    archive_->set_mount(config->record.mount);
    archive_->submit(k.index, *k.image, describe(k, *config));
  };
}

CanvasSink* RecordWiring::sink() {
  return router_.get();
}

pipeline::RecordingStatus RecordWiring::status() const {
  const record::RecorderStats r = recorder_->stats();
  const record::StillStats s = stills_->stats();
  pipeline::RecordingStatus out;
  out.on = r.recording;
  out.file = r.file;
  out.encoder = r.encoder;
  out.frames_written = r.frames_written;
  out.frames_dropped = r.frames_dropped;
  out.bytes = r.bytes;
  out.files = r.files;
  out.free_disk_bytes = free_bytes_.load();
  out.files_removed = r.files_removed;
  out.screenshots = s.written;
  out.last_error = !r.last_error.empty() ? r.last_error : s.last_error;
  {
    std::lock_guard lock(start_mutex_);
    out.restarts = restarts_;
    if (out.last_error.empty()) out.last_error = start_problem_;
  }
  if (archive_) {
    const record::ArchiveStats a = archive_->stats();
    out.archive_written = a.written;
    out.archive_failed = a.failed;
    out.archive_bytes = a.bytes;
    out.archive_last_error = a.last_error;
  }
  return out;
}

}  // namespace dw
