// The app's recording: the recorder, the screenshot writer and the canvas router (src/record),
// the actions start_recording, stop_recording, toggle_recording and screenshot in the app's one
// ActionTable, record.enabled at start, and the recorder's figures for status.
#pragma once

#include <memory>

#include "core/actions.h"
#include "core/canvas_sink.h"
#include "core/commands.h"
#include "core/config_store.h"
#include "pipeline/status.h"

namespace dw {

namespace record {
class Recorder;
class StillWriter;
class CaptureRouter;
}  // namespace record

class RecordWiring {
 public:
  // Registers the actions. With record.enabled, a recording folder that cannot be written or a
  // disk already below record.min_free_mb is an InputError (exit 2); else recording starts.
  RecordWiring(const Config& initial, ConfigStore& config, Commands& commands,
               ActionTable& actions);
  ~RecordWiring();  // finishes the file being written
  RecordWiring(const RecordWiring&) = delete;
  RecordWiring& operator=(const RecordWiring&) = delete;

  // The display has stopped: writes what is queued, finishes the file and the screenshots.
  void finish();
  // For RenderLoopOptions::canvas_sink.
  CanvasSink* sink();
  // For PipelineHooks::recording_status (any thread).
  pipeline::RecordingStatus status() const;

 private:
  void add_actions(ActionTable& actions);
  ActionResult start_recording();
  ActionResult stop_recording();

  ConfigStore& config_;
  Commands& commands_;
  std::unique_ptr<record::Recorder> recorder_;
  std::unique_ptr<record::StillWriter> stills_;
  std::unique_ptr<record::CaptureRouter> router_;
};

}  // namespace dw
