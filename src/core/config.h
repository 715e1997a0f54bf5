// Every tunable of dreamwindow as plain data, grouped by area. The initialisers below are the
// defaults; the parameter table (src/core/param_table.cpp) gives each field its key, range, help
// text and whether it applies live. A field without a table row is not configurable.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/config_kiosk.h"
#include "core/config_osc.h"
#include "core/config_outputs.h"
#include "core/config_record.h"
#include "core/config_remote.h"
#include "core/config_schedule.h"
#include "core/config_service.h"

namespace dw {

enum class DisplayMode { Windowed, Borderless, Fullscreen };
enum class FitMode { Cover, Contain, Stretch };
enum class Easing { Linear, Smoothstep, Cosine };
enum class VaeBackendKind { Auto, Cpu, Cuda };
enum class SourceKind { Auto, Folder, Offline, Comfy };
enum class OverlayStart { Auto, Shown, Hidden };
enum class LogLevel { Trace, Debug, Info, Warn, Error, Off };

struct DisplayConfig {
  DisplayMode mode = DisplayMode::Windowed;
  int display_index = 0;
  int width = 1280;
  int height = 720;
  bool vsync = true;
  FitMode fit = FitMode::Cover;
  double gamma = 1.0;
  double brightness = 1.0;
  bool dither = true;
  OverlayStart overlay = OverlayStart::Auto;
  double idle_motion = 1.0;    // scale of the presenter's own motion when nothing is left to play
  double content_fps = 12.0;   // content frames per second when the buffer is healthy
  double headless_fps = 60.0;  // headless: simulated refresh rate; 0 runs unpaced at that rate
  bool headless_paced =
      false;  // headless: hold real time to headless_fps (else as fast as possible)
};

struct SourceConfig {
  SourceKind kind = SourceKind::Auto;
  std::string folder = "";  // seed images (and the folder source's keyframes); empty: assets/seeds
  // Pixels of source.folder's images held in memory, at keyframe size; the rest are read from
  // their files when shown (pipeline/image_folder.h).
  int folder_memory_mb = 1024;
  // source.folder's subfolders too (a camera's DCIM/100CANON on a USB stick).
  bool folder_subfolders = true;
  // auto: a request the healthy server holds this many times its typical time (at least 10 s) is
  // covered by the offline generator (pipeline/switching_source.h); 0: only a failover covers.
  double overdue_factor = 4.0;
};

struct VaeConfig {
  VaeBackendKind backend = VaeBackendKind::Auto;
  // The user's own weights; empty: the bundled taef2 where it fits (pipeline/vae_choice.h);
  // "none": pixel-space crossfades.
  std::string decoder_path = "";
  std::string encoder_path = "";
  bool fp16 = true;     // CUDA backend precision (falls back to fp32 on overflow)
  int cpu_threads = 0;  // 0: all cores
};

struct InterpolationConfig {
  int frames_between = 10;  // N in-between frames per keyframe pair, t = i/(N+1)
  Easing easing = Easing::Smoothstep;
  bool mean_center = true;  // per-channel mean-centering around the slerp
};

struct ComfyConfig {
  std::vector<std::string> urls = {};  // empty: no ComfyUI, offline source only
  std::string workflow = "sd15_img2img";
  std::string checkpoint = "v1-5-pruned-emaonly.safetensors";
  int steps = 10;
  double cfg = 6.0;
  std::string sampler = "euler";
  std::string scheduler = "karras";
  double denoise = 0.2;
  int width = 512;
  int height = 512;
  int in_flight = 2;
  double request_timeout_s = 60.0;  // one HTTP answer (upload, /prompt, /view)
  // A running prompt with no sign of life this long is interrupted (a server's first prompt gets
  // twice this: it loads the model silently, ~80 s for SD1.5 on a 2-core CPU).
  double stall_timeout_s = 120.0;
  double connect_timeout_s = 3.0;
  std::string positive = "";  // empty: the prompt source's themes
  std::string negative = "";
  std::vector<std::string> bindings = {};  // "name=node.input" for a user's own workflow
  double retry_max_s = 30.0;               // longest wait between retries of a failed keyframe
};

struct PromptConfig {
  std::string themes_file = "";  // empty: assets/themes.toml
  int rotate_every = 12;         // keyframes per theme
  bool time_of_day = true;       // append a time-of-day modifier to the positive prompt
  bool shuffle = true;           // weighted random playlist (else the file's order)
};

struct PlaybackConfig {
  double min_buffer_s = 10.0;  // playback starts once this much is buffered
  // The content rate eases to keep the buffer near this; capped at 3/4 of the ring (the default
  // 16 s is 192 of 256 slots at 12 fps, so it can be reached).
  double target_buffer_s = 16.0;
  double min_rate = 0.6;  // content-rate factor limits while easing toward the target
  double max_rate = 1.15;
  int ring_capacity = 256;  // frame slots (power of two)
};

struct CacheConfig {
  std::string dir = "";  // empty: $XDG_CACHE_HOME/dreamwindow
  int max_entries = 50;
  double color_threshold = 1.92;
  double structure_threshold = 0.80;
  // Frames with more clipped colour values (fried) or high-frequency energy (noise) are never
  // cached, and never accepted by the degeneration detector as the loop's new picture
  // (BrokenPicture).
  double max_clipped = 0.20;
  double max_hf = 0.80;
  // Frames whose colours vary less (flat, washed out) are never cached; 12 keeps out a crossfade
  // through grey. Off by default: such frames are the cache's least noisy and least fried ones,
  // and without them an injection against noise or fry may have only seeds to draw from
  // (docs/benchmarks.md, Faults: the fifteenth and sixteenth runs).
  double min_variation = 0.0;
  double write_mb_per_day = 500;  // PNG and index writes allowed per day (0: no limit)
};

struct CollapseConfig {
  int window = 10;
  int history = 100;
  int min_values = 40;
  double color_scale = 0.15;
  double color_force = 0.30;
  double structure_scale = 0.08;
  double structure_force = 0.15;
  // Degeneration that is not collapse (cache/degeneration_detector.h): the climb of the fry index
  // and of the high-frequency energy over the same history.
  double fry_scale = 0.35;
  double fry_force = 0.60;
  double noise_scale = 0.30;
  double noise_force = 0.50;
};

struct InjectionConfig {
  int warmup = 10;
  int cooldown = 2;
  double color_low = 1.18;
  double color_high = 2.05;
  double structure_low = 0.68;
  double structure_high = 0.92;
  int recent_penalty = 5;
  double cached_weight = 0.75;
  double seed_weight = 0.85;
};

// The offline generator (pipeline/offline_generator.h): its motion per keyframe, and the
// regulator that keeps every keyframe inside the seed set's picture bands.
struct OfflineConfig {
  double motion = 1.0;         // scale of each keyframe's zoom, rotation and warp
  double hue_drift_deg = 1.5;  // mean hue rotation per keyframe
  double sharpen = 0.2;        // base unsharp amount against the blur of resampling
  int seed_every = 120;        // keyframes spent with each seed before turning to the next
  int fold_every = 8;          // keyframes between folds toward the current seed (0: never)
  double fold_weight = 0.3;    // how far a fold moves toward the seed
  double band_margin = 0.15;   // each band: the seeds' range widened by this share of it
  double regulation = 0.5;     // share of the way back to the band's middle per keyframe
};

struct StatusConfig {
  std::string path = "";  // empty: $XDG_STATE_HOME/dreamwindow/status.json
  double interval_s = 1.0;
  int metrics_port = 0;  // 0: the Prometheus endpoint is off
};

struct Config {
  DisplayConfig display;
  SourceConfig source;
  VaeConfig vae;
  InterpolationConfig interpolation;
  ComfyConfig comfy;
  PromptConfig prompts;
  PlaybackConfig playback;
  CacheConfig cache;
  CollapseConfig collapse;
  InjectionConfig injection;
  OfflineConfig offline;
  StatusConfig status;
  RemoteConfig remote;
  OscConfig osc;
  ServiceConfig service;
  ScheduleConfig schedule;
  OutputsConfig outputs;
  RecordConfig record;
  KioskConfig kiosk;
  LogLevel log_level = LogLevel::Info;
};

}  // namespace dw
