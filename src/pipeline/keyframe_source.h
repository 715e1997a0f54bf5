// Where keyframes come from, as the orchestrator sees it: it submits requests (keyframe index,
// input image, prompt, seed) and takes results back (possibly out of order: the orchestrator puts
// them in order). ComfyUI and the offline generator both sit behind this, so the orchestrator never
// knows which one runs.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <stop_token>
#include <string>
#include <utility>
#include <vector>

#include "core/image.h"
#include "vae/tensor.h"

namespace dw::pipeline {

struct Prompt {
  std::string positive;
  std::string negative;
};

struct KeyframeRequest {
  std::uint64_t index = 0;  // k: the keyframe this request produces
  Image input;              // img2img input: keyframe k-1, or an injected image
  Prompt prompt;
  std::uint64_t seed = 0;
};

struct Keyframe {
  std::uint64_t index = 0;
  Image image;
  std::optional<vae::HostTensor> latent;  // raw latent when the source saved one
  std::string origin;                     // "comfy http://host:8188", "offline", "seed image", ...
  // Made by the orchestrator from the cache or a seed image instead of by the source. The one
  // record of it: the cache entry's kind and FrameInfo::injected are derived from this flag.
  bool injected = false;
  // Set when it answers another request than the one it was made for (a keyframe a server
  // finished late, standing in): the prompt and seed it was made with.
  std::optional<std::pair<Prompt, std::uint64_t>> made_with;
};

// A keyframe as it goes to the screen, for the keyframe archive (PipelineHooks::on_keyframe).
struct KeyframeNote {
  std::uint64_t index = 0;
  const Image* image = nullptr;
  Prompt prompt;           // what it was requested with (empty for seed images and injections)
  std::uint64_t seed = 0;  // the request's seed (0 when the source did not make it)
  std::string origin;
  bool injected = false;
};
using KeyframeObserver = std::function<void(const KeyframeNote&)>;

// What the status and the overlay show about a source beyond healthy(): how many requests failed
// (each was retried) and the last error, worded for the user (server, node id, class, input).
struct ServerHealth {
  std::string url;
  bool healthy = false;   // reachable, workflow validated, WebSocket connected
  bool degraded = false;  // healthy, but delivered nothing for a stall timeout while ours waited
  std::uint64_t keyframes = 0;
  std::uint64_t errors = 0;
  std::string last_error;   // cleared when the server is back
  int queue_remaining = 0;  // the server's whole queue (all clients), from its `status` messages
  int ours_waiting = 0;     // our prompts it took (POST answered), queued and not yet running
  int ours_running = 0;     // ours executing there now (0 or 1)
};

// What the user is generating with right now, and how far the current prompt is: plain values for
// status.json, /metrics and the overlay (a source that has no such settings leaves it empty).
struct GenerationSettings {
  std::string checkpoint;
  int steps = 0;
  double cfg = 0.0;
  double denoise = 0.0;
  std::string sampler;
  std::string scheduler;
  int progress_value = 0;  // the sampling node's step in the prompt running now (0 when idle)
  int progress_max = 0;
  // The server's own choices ("checkpoint", "sampler", "scheduler" -> names from /object_info),
  // offered by the overlay and the remote instead of free text; empty until a server validated.
  std::map<std::string, std::vector<std::string>> offered;
};

struct SourceHealth {
  std::uint64_t errors = 0;
  std::string last_error;
  // What a networked source can say beyond that, for status.json, /metrics and the overlay:
  // named counters (ComfyUI: failed attempts, timeouts, bytes, sampler progress) and its servers.
  std::vector<std::pair<std::string, double>> counters;
  std::vector<ServerHealth> servers;
  std::optional<GenerationSettings> settings;
};

class KeyframeSource {
 public:
  virtual ~KeyframeSource() = default;
  virtual std::string name() const = 0;
  // Queues a request; false when the source cannot take more right now (the caller retries).
  virtual bool submit(KeyframeRequest request) = 0;
  // The next finished keyframe, waiting until it is ready, the stop token fires or the
  // timeout passes.
  virtual std::optional<Keyframe> next(std::stop_token stop, std::chrono::milliseconds timeout) = 0;
  // Requests submitted and not yet taken by next().
  virtual std::size_t pending() const = 0;
  // How many requests the source can usefully hold at once right now: more only wait in a queue,
  // fewer leave it idle. The orchestrator keeps exactly this many in flight, so it is the
  // pipeline's depth (ComfyUI: lanes per server x healthy servers; offline: one being made and one
  // waiting). At least 1.
  virtual std::size_t capacity() const = 0;
  // False while the source cannot currently produce (server unreachable, ...).
  virtual bool healthy() const = 0;
  // True once the source has been healthy at least once (sticky): the end of a start-up grace even
  // when it went down again before anyone asked healthy().
  virtual bool came_up() const { return healthy(); }
  // Gives up on a submitted request (another source will produce that keyframe). A result for it
  // that arrives anyway is dropped by the orchestrator.
  virtual void cancel(std::uint64_t index) { (void)index; }
  // The keyframe for a submitted request is no longer wanted (another source made it), but work
  // the source has visibly under way may finish: a server's time is not thrown away, and its
  // answer still tells how fast it is. True when the source will still deliver it (the answer is
  // the caller's to drop); false when it dropped the request as cancel() would (nothing of it was
  // under way).
  virtual bool release(std::uint64_t index) {
    cancel(index);
    return false;
  }
  virtual SourceHealth health() const { return {}; }
};

}  // namespace dw::pipeline
