#include "record/capture_router.h"

#include <spdlog/spdlog.h>

#include <algorithm>

#include "record/record_paths.h"

namespace dw::record {

CaptureRouter::CaptureRouter(ConfigStore& config, Commands& commands, Recorder& recorder,
                             StillWriter& stills)
    : config_(config),
      commands_(commands),
      recorder_(recorder),
      stills_(stills),
      shots_seen_(commands.screenshot.load(std::memory_order_acquire)) {}

void CaptureRouter::follow_recording_request(double t) {
  const bool wanted = commands_.recording.load(std::memory_order_acquire);
  if (wanted == recording_seen_) return;
  recording_seen_.store(wanted, std::memory_order_release);
  if (!wanted) {
    recorder_.stop();
    return;
  }
  const RecordSettings settings = settings_from(config_.get()->record);
  fps_ = settings.fps;
  next_t_ = t;
  recorder_.start(settings);
}

CanvasWants CaptureRouter::wants(double t) {
  CanvasWants w;
  const std::uint64_t shots = commands_.screenshot.load(std::memory_order_acquire);
  if (shots != shots_seen_) {
    shots_seen_ = shots;  // several requests before a frame: one screenshot
    w.still = true;
  }
  follow_recording_request(t);
  // A frame is due once the canvas reaches the next 1/fps step; a display slower than record.fps
  // gives every frame (the timestamps keep the video's pace).
  const double tolerance = 1e-3 / fps_;
  if (recording_seen_ && t >= next_t_ - tolerance) {
    next_t_ = std::max(next_t_ + 1.0 / fps_, t);
    if (recorder_.has_room())
      w.video = true;
    else if (recorder_.active())
      recorder_.count_dropped();
  }
  return w;
}

std::vector<std::uint8_t> CaptureRouter::buffer(std::size_t bytes) {
  return recorder_.buffer(bytes);
}

void CaptureRouter::take(CanvasFrame frame) {
  if (frame.wants.still) {
    Image image;
    image.width = frame.width;
    image.height = frame.height;
    image.rgba = frame.wants.video ? frame.rgba : std::move(frame.rgba);
    const auto config = config_.get();
    stills_.submit(std::move(image), screenshot_folder(config->record));
  }
  if (frame.wants.video)
    recorder_.submit(std::move(frame.rgba), frame.width, frame.height, frame.t);
}

void CaptureRouter::missed(CanvasWants wants) {
  if (wants.video) recorder_.count_dropped();
  if (wants.still) spdlog::warn("screenshot missed: the canvas could not be read back");
}

}  // namespace dw::record
