// The canvas sink the render loop feeds: follows the operator's requests (Commands::recording,
// Commands::screenshot), picks the frames a recording at record.fps needs from the display's
// frames, and routes the pixels read back to the recorder and the screenshot writer. Render thread
// only (all of it returns at once); the work happens on their threads.
#pragma once

#include <atomic>
#include <cstdint>

#include "core/canvas_sink.h"
#include "core/commands.h"
#include "core/config_store.h"
#include "record/recorder.h"
#include "record/still_writer.h"

namespace dw::record {

class CaptureRouter final : public CanvasSink {
 public:
  CaptureRouter(ConfigStore& config, Commands& commands, Recorder& recorder, StillWriter& stills);

  CanvasWants wants(double t) override;
  std::vector<std::uint8_t> buffer(std::size_t bytes) override;
  void take(CanvasFrame frame) override;
  void missed(CanvasWants wants) override;
  // Any thread: whether the render thread still follows a request to record (it has not seen it
  // turned off yet).
  bool following_recording() const { return recording_seen_.load(std::memory_order_acquire); }

 private:
  void follow_recording_request(double t);

  ConfigStore& config_;
  Commands& commands_;
  Recorder& recorder_;
  StillWriter& stills_;
  std::uint64_t shots_seen_;
  std::atomic<bool> recording_seen_{false};
  double fps_ = 30;
  double next_t_ = 0;  // canvas time of the next frame the recording wants
};

}  // namespace dw::record
