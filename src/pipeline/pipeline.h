// The dream pipeline, assembled from the configuration: the VAE (when the user pointed at weights),
// the keyframe source (ComfyUI, offline, or auto-switching), the prompt themes, the diversity
// cache and its worker, the interpolation worker feeding the frame ring, the orchestrator, and the
// status outputs (status.json, /metrics). The render loop owns the ring's consumer side and knows
// nothing of what is in here. Construction order is dependency order; stop() and the destructor
// take it down in reverse, each worker within one wait interval.
//
// The pipeline is the only place that sees the whole configuration: each part is given the
// section it reads (a LiveSection for live values), and what crosses parts goes through their
// interfaces (the source's capacity(), the interpolation worker's queued_frames()).
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "core/commands.h"
#include "core/config_store.h"
#include "core/frame.h"
#include "core/frame_ring.h"
#include "pipeline/image_folder.h"
#include "pipeline/keyframe_source.h"
#include "pipeline/resume.h"
#include "pipeline/schedule.h"
#include "pipeline/status.h"
#include "pipeline/worker.h"

namespace dw::vae {
class VaeBackend;
}

namespace dw::pipeline {

class FolderKeyframeSource;
class KeyframeSource;
class Orchestrator;
class MetricsServer;
class PromptSource;

struct PipelineHooks {
  // The render loop's own numbers for status (called from the status threads).
  std::function<DisplayStatus()> display_status;
  // Makes the ComfyUI source when comfy.urls is set (null: offline only), from comfy.*: the
  // restart settings as they are now, the live ones (sampler settings) through the view.
  std::function<std::unique_ptr<KeyframeSource>(LiveSection<ComfyConfig>)> make_comfy_source;
  // Makes the VAE backend instead of the configuration's weights (benchmarks, tests). Null: from
  // vae.decoder / vae.encoder / vae.backend.
  std::function<std::unique_ptr<vae::VaeBackend>(const VaeConfig&)> make_vae;
  // The display takes GPU-resident frames (CUDA-GL interop): a CUDA backend then writes the
  // frames on the GPU and no pixel crosses to the host.
  bool device_frames = false;
  // Tests only: called with a worker's name before each of its steps; what it throws makes that
  // worker fail (status then shows it).
  WorkerFaultHook worker_fault;
  // Called with each status snapshot the status writer takes (every status.interval_s, on its
  // thread): what the app derives from status (the server's choices for the editor).
  std::function<void(const StatusSnapshot&)> on_status;
  // The operator's requests (pause generation, next theme, inject now); null: none.
  Commands* commands = nullptr;
  // The app's service figures for status (watchdog, log file); null: none.
  std::function<ServiceStatus()> service_status;
  // Resume (pipeline/resume.h) when service.resume is on: start from the state in resume/ beside
  // status.json and keep it. Off for tests and benchmarks that build a pipeline themselves.
  bool resume = false;
  // The app's control surfaces for status (where OSC listens, restart edits pending); the paused
  // and frozen rows come from `commands`. Called from the status threads.
  std::function<ControlStatus()> control_status;
  // The schedule now (app/schedule_wiring.h): its theme window for the prompts, and status.
  std::function<ScheduleState()> schedule_state;
  // Each keyframe as it goes to the screen (the keyframe archive); on the orchestrator's thread.
  KeyframeObserver on_keyframe;
  // The recorder's numbers for status (null: no recorder).
  std::function<RecordingStatus()> recording_status;
  // Where the web remote listens, for status (null: reported as off).
  std::function<RemoteStatus()> remote_status;
};

class Pipeline {
 public:
  Pipeline(ConfigStore& config, FrameRing<Frame>& ring, PipelineHooks hooks);
  ~Pipeline();
  Pipeline(const Pipeline&) = delete;
  Pipeline& operator=(const Pipeline&) = delete;

  StatusSnapshot status() const;
  // The address of the /metrics endpoint's port (0 when off).
  std::uint16_t metrics_port() const;
  const std::string& status_path() const { return status_path_; }
  void stop();

 private:
  struct Parts;
  ConfigStore& config_;
  FrameRing<Frame>& ring_;
  PipelineHooks hooks_;
  std::string status_path_;
  std::chrono::steady_clock::time_point started_;
  std::unique_ptr<Parts> parts_;

  std::string resume_source_;
  FolderStatus seed_folder_;  // source.folder as read at start (a folder source reports its own)
  const FolderKeyframeSource* folder_source_ = nullptr;  // in parts_, with source.kind = folder

  double buffered_seconds() const;
  // Under a quarter of playback.target_buffer_s buffered: a keyframe held at the server now costs
  // the viewer a standstill soon (the auto source covers it sooner: OverdueCover::starving).
  bool content_running_low() const;
  std::vector<Image> start_seeds(const Config& cfg, int width, int height);
  std::vector<ResumeKeyframe> start_resume(const Config& cfg, int width, int height);
  std::function<void(std::uint64_t, const Image&)> resume_sink();
  ControlStatus control_status() const;
};

// The seed images (source.folder, or the shipped assets/seeds) cover-resized to w x h; a generated
// gradient when none can be read, so there is always something to start from.
std::vector<Image> load_seed_images(const std::string& folder, int width, int height);

// What stands in for source.folder's images while it has none: the shipped assets/seeds, else a
// generated gradient (never empty); `what` names them for the log and status.
struct StandInSeeds {
  std::vector<FolderImage> images;
  std::string what;
};
StandInSeeds default_seeds(int width, int height);

// How often a folder source (source.kind = folder) reads source.folder again.
inline constexpr std::chrono::seconds kFolderRescan{2};
// A watched folder's file written to within this long is still being copied in: left for a later
// scan (ImageFolder::settle_for).
inline constexpr std::chrono::seconds kFolderSettle{2};
// How long source.folder is read at a time (ImageFolder::read_for; one image at least). A folder
// source (source.kind = folder) reads kFolderScanRead at start, shows what it read, and reads the
// rest kFolderScanRead a scan, taking each image in as it is read. The other sources read it
// once, at start, for their seeds: for at most kFolderStartRead, what was read by then.
inline constexpr std::chrono::seconds kFolderScanRead{1};
inline constexpr std::chrono::seconds kFolderStartRead{5};
// The folder source's seeds (its first keyframe, collapse re-injections): its first images held.
inline constexpr std::size_t kFolderKindSeeds = 8;

}  // namespace dw::pipeline
