#include "app/record_wiring.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <filesystem>

#include "core/error.h"
#include "record/capture_router.h"
#include "record/record_paths.h"
#include "record/recorder.h"
#include "record/still_writer.h"

namespace dw {
namespace {

constexpr std::chrono::milliseconds kFinishTimeout{120000};

// What stops a recording from starting in `config` now, or nothing.
std::optional<std::string> recording_problem(const RecordConfig& config) {
  const std::string dir = record::resolve_record_dir(config.dir);
  if (auto bad = record::check_writable_dir(dir)) return fmt::format("record.dir: {}", *bad);
  const std::uint64_t floor = static_cast<std::uint64_t>(config.min_free_mb) << 20;
  if (const auto free = record::free_bytes(dir); free && *free < floor)
    return fmt::format("record.min_free_mb: {} has {} MB free, below the floor of {} MB", dir,
                       *free >> 20, config.min_free_mb);
  return std::nullopt;
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
                           ActionTable& actions)
    : config_(config), commands_(commands) {
  if (initial.record.enabled)
    if (auto problem = recording_problem(initial.record))
      throw InputError(
          fmt::format("record.enabled is set but recording cannot start: {}", *problem));
  record::RecorderHooks hooks;
  hooks.on_stopped = [this](const std::string&) { commands_.recording.store(false); };
  recorder_ = std::make_unique<record::Recorder>(
      static_cast<std::size_t>(initial.record.queue_frames), std::move(hooks));
  stills_ = std::make_unique<record::StillWriter>();
  router_ = std::make_unique<record::CaptureRouter>(config, commands, *recorder_, *stills_);
  add_actions(actions);
  if (initial.record.enabled) commands_.recording.store(true);
}

RecordWiring::~RecordWiring() = default;

void RecordWiring::add_actions(ActionTable& actions) {
  actions.add("start_recording", "record the canvas to MP4 (record.dir)",
              [this] { return start_recording(); });
  actions.add("stop_recording", "stop recording (the file is finished)",
              [this] { return stop_recording(); });
  actions.add("toggle_recording", "start or stop recording",
              [this] { return commands_.recording.load() ? stop_recording() : start_recording(); });
  actions.add("screenshot", "a PNG of the canvas (record.screenshot_dir, else record.dir)", [this] {
    const auto config = config_.get();
    const RecordConfig& rc = config->record;
    const std::string dir =
        record::resolve_record_dir(rc.screenshot_dir.empty() ? rc.dir : rc.screenshot_dir);
    if (auto bad = record::check_writable_dir(dir))
      return ActionResult{false, fmt::format("no screenshot: {}", *bad)};
    commands_.screenshot.fetch_add(1);
    return ActionResult{true, fmt::format("screenshot to {}", dir)};
  });
}

ActionResult RecordWiring::start_recording() {
  const auto config = config_.get();
  if (auto problem = recording_problem(config->record))
    return {false, fmt::format("cannot record: {}", *problem)};
  if (commands_.recording.exchange(true)) return {true, "already recording"};
  return {true, fmt::format("recording to {}", record::resolve_record_dir(config->record.dir))};
}

ActionResult RecordWiring::stop_recording() {
  if (!commands_.recording.exchange(false)) return {true, "not recording"};
  return {true, "recording stopped"};
}

void RecordWiring::finish() {
  recorder_->stop();
  if (!recorder_->wait_idle(kFinishTimeout))
    spdlog::warn("recording: the encoder did not finish within {} s",
                 kFinishTimeout.count() / 1000);
  stills_->wait_idle(kFinishTimeout);
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
  out.free_disk_bytes = free_space_for(record::resolve_record_dir(config_.get()->record.dir));
  out.screenshots = s.written;
  out.last_error = !r.last_error.empty() ? r.last_error : s.last_error;
  return out;
}

}  // namespace dw
