// The one table of every tunable: key, type, range, live or restart, help. A parameter is its field
// in dw::Config plus its row here; the config file, CLI, --help, --print-config and the overlay
// follow from the row.
#include "core/param_table_parts.h"
#include "core/params.h"

namespace dw {
namespace {

constexpr Apply kLive = Apply::Live;
constexpr Apply kRestart = Apply::Restart;

std::vector<ParamSpec> build_table() {
  using C = Config;
  std::vector<ParamSpec> t;
  // ---- display ----
  t.push_back(param_choice<DisplayMode>("display.mode", bind(&C::display, &DisplayConfig::mode),
                                        {"windowed", "borderless", "fullscreen"}, kRestart,
                                        "window, borderless full-screen or exclusive full-screen"));
  t.push_back(param_int("display.index", bind(&C::display, &DisplayConfig::display_index), 0, 15,
                        kRestart, "display to open on (see --list-displays)"));
  t.push_back(param_int("display.width", bind(&C::display, &DisplayConfig::width), 64, 16384,
                        kRestart, "window width in windowed mode"));
  t.push_back(param_int("display.height", bind(&C::display, &DisplayConfig::height), 64, 16384,
                        kRestart, "window height in windowed mode"));
  t.push_back(param_bool("display.vsync", bind(&C::display, &DisplayConfig::vsync), kLive,
                         "wait for the monitor's refresh"));
  t.push_back(param_choice<FitMode>("display.fit", bind(&C::display, &DisplayConfig::fit),
                                    {"cover", "contain", "stretch"}, kLive,
                                    "how a frame fills the screen"));
  t.push_back(param_float("display.idle_motion", bind(&C::display, &DisplayConfig::idle_motion),
                          0.0, 2.0, kLive,
                          "scale of the picture's own drift, zoom and echo while there is nothing "
                          "new to play (0: still; for tests and diagnostics)"));
  t.push_back(param_float("display.gamma", bind(&C::display, &DisplayConfig::gamma), 0.2, 5.0,
                          kLive, "output gamma (1 = unchanged)"));
  t.push_back(param_float("display.brightness", bind(&C::display, &DisplayConfig::brightness), 0.0,
                          4.0, kLive, "output brightness multiplier"));
  t.push_back(param_bool("display.dither", bind(&C::display, &DisplayConfig::dither), kLive,
                         "ordered dithering at the final 8-bit step"));
  t.push_back(param_choice<OverlayStart>(
      "display.overlay", bind(&C::display, &DisplayConfig::overlay), {"auto", "shown", "hidden"},
      kRestart, "overlay at start (auto: hidden in full-screen, shown in a window)"));
  t.push_back(param_float("display.content_fps", bind(&C::display, &DisplayConfig::content_fps),
                          0.5, 120.0, kLive, "content frames per second with a healthy buffer"));
  t.push_back(param_float("display.headless_fps", bind(&C::display, &DisplayConfig::headless_fps),
                          1.0, 1000.0, kRestart,
                          "headless: the refresh rate the content clock sees"));
  t.push_back(param_bool("display.headless_paced",
                         bind(&C::display, &DisplayConfig::headless_paced), kRestart,
                         "headless: keep real time at headless_fps (else run flat out)"));
  // ---- source ----
  t.push_back(param_choice<SourceKind>("source.kind", bind(&C::source, &SourceConfig::kind),
                                       {"auto", "folder", "offline", "comfy"}, kRestart,
                                       "where keyframes come from (auto: ComfyUI when reachable)"));
  t.push_back(param_string("source.folder", bind(&C::source, &SourceConfig::folder), kRestart,
                           "seed images, and the folder source's keyframes, re-read every 2 s "
                           "(empty: assets/seeds; may be absent until mounted)"));
  t.push_back(param_bool("source.folder_subfolders",
                         bind(&C::source, &SourceConfig::folder_subfolders), kRestart,
                         "also the images in source.folder's subfolders, by path (hidden ones and "
                         "a Windows recycle bin left out)"));
  t.push_back(param_int("source.folder_memory_mb",
                        bind(&C::source, &SourceConfig::folder_memory_mb), 16, 1 << 20, kRestart,
                        "memory for source.folder's images at keyframe size (1 MB each at "
                        "512x512); a larger folder's other images are read from disk when shown"));
  t.push_back(param_float(
      "source.overdue_factor", bind(&C::source, &SourceConfig::overdue_factor), 0.0, 100.0,
      kRestart,
      "auto: a keyframe the server has held this many times its typical time (at least 10 s) is "
      "made by the offline generator instead, so a hung request never stills the picture "
      "(0: only when the server stops delivering altogether)"));
  // ---- vae ----
  t.push_back(param_choice<VaeBackendKind>("vae.backend", bind(&C::vae, &VaeConfig::backend),
                                           {"auto", "cpu", "cuda"}, kRestart,
                                           "VAE backend (auto: CUDA when a GPU is present)"));
  t.push_back(param_string(
      "vae.decoder", bind(&C::vae, &VaeConfig::decoder_path), kRestart,
      "VAE decoder (or full VAE / checkpoint) safetensors file; empty: the bundled taef2 "
      "for the offline/folder source and FLUX.2 workflows; none: crossfades"));
  t.push_back(param_string("vae.encoder", bind(&C::vae, &VaeConfig::encoder_path), kRestart,
                           "VAE encoder file when separate from the decoder (TAE)"));
  t.push_back(param_bool("vae.fp16", bind(&C::vae, &VaeConfig::fp16), kRestart,
                         "CUDA backend in fp16 (falls back to fp32 on overflow)"));
  t.push_back(param_int("vae.cpu_threads", bind(&C::vae, &VaeConfig::cpu_threads), 0, 256, kRestart,
                        "CPU backend threads (0: all cores)"));
  // ---- interpolation ----
  t.push_back(param_int("interpolation.frames_between",
                        bind(&C::interpolation, &InterpolationConfig::frames_between), 0, 240,
                        kLive, "in-between frames per keyframe pair"));
  t.push_back(param_choice<Easing>(
      "interpolation.easing", bind(&C::interpolation, &InterpolationConfig::easing),
      {"linear", "smoothstep", "cosine"}, kLive, "easing curve of t between keyframes"));
  t.push_back(param_bool("interpolation.mean_center",
                         bind(&C::interpolation, &InterpolationConfig::mean_center), kLive,
                         "per-channel mean-centering around the slerp"));
  // ---- comfy ----
  t.push_back(param_list("comfy.urls", bind(&C::comfy, &ComfyConfig::urls), kRestart,
                         "ComfyUI server URLs (empty: offline)"));
  t.push_back(param_string("comfy.workflow", bind(&C::comfy, &ComfyConfig::workflow), kRestart,
                           "workflow template name or path"));
  t.push_back(param_string("comfy.checkpoint", bind(&C::comfy, &ComfyConfig::checkpoint), kLive,
                           "checkpoint file name on the server"));
  t.push_back(param_int("comfy.steps", bind(&C::comfy, &ComfyConfig::steps), 1, 200, kLive,
                        "sampler steps"));
  t.push_back(param_float("comfy.cfg", bind(&C::comfy, &ComfyConfig::cfg), 0.0, 30.0, kLive,
                          "classifier-free guidance scale"));
  t.push_back(
      param_string("comfy.sampler", bind(&C::comfy, &ComfyConfig::sampler), kLive, "sampler name"));
  t.push_back(param_string("comfy.scheduler", bind(&C::comfy, &ComfyConfig::scheduler), kLive,
                           "scheduler name"));
  t.push_back(param_float("comfy.denoise", bind(&C::comfy, &ComfyConfig::denoise), 0.0, 1.0, kLive,
                          "img2img denoise (low keeps continuity)"));
  t.push_back(param_int("comfy.width", bind(&C::comfy, &ComfyConfig::width), 64, 4096, kRestart,
                        "keyframe width (multiple of 8)"));
  t.push_back(param_int("comfy.height", bind(&C::comfy, &ComfyConfig::height), 64, 4096, kRestart,
                        "keyframe height (multiple of 8)"));
  t.push_back(param_int("comfy.in_flight", bind(&C::comfy, &ComfyConfig::in_flight), 1, 16,
                        kRestart,
                        "prompts in flight per server (its lanes); the pipeline keeps lanes x "
                        "healthy servers requests going"));
  t.push_back(param_float("comfy.request_timeout_s",
                          bind(&C::comfy, &ComfyConfig::request_timeout_s), 1.0, 3600.0, kRestart,
                          "seconds to wait for one HTTP answer from the server"));
  t.push_back(param_float("comfy.stall_timeout_s", bind(&C::comfy, &ComfyConfig::stall_timeout_s),
                          1.0, 86400.0, kRestart,
                          "seconds without a sign of life (node started, step done) before a "
                          "running prompt is interrupted and retried, and a server that delivers "
                          "nothing while prompts wait counts as degraded; doubled for a server's "
                          "first prompt (model loading); waiting in its queue never counts"));
  t.push_back(param_float("comfy.connect_timeout_s",
                          bind(&C::comfy, &ComfyConfig::connect_timeout_s), 0.1, 60.0, kRestart,
                          "TCP connect timeout in seconds"));
  t.push_back(param_string("comfy.positive", bind(&C::comfy, &ComfyConfig::positive), kLive,
                           "positive prompt override (empty: themes)"));
  t.push_back(param_string("comfy.negative", bind(&C::comfy, &ComfyConfig::negative), kLive,
                           "negative prompt override (empty: themes)"));
  t.push_back(param_list("comfy.bindings", bind(&C::comfy, &ComfyConfig::bindings), kRestart,
                         "placeholders mapped to a user workflow's node inputs, NAME=NODE.INPUT "
                         "(e.g. seed=3.seed)"));
  t.push_back(param_float("comfy.retry_max_s", bind(&C::comfy, &ComfyConfig::retry_max_s), 0.1,
                          3600.0, kRestart, "longest wait between retries of a failed keyframe"));
  // ---- prompts ----
  t.push_back(param_string("prompts.themes_file", bind(&C::prompts, &PromptConfig::themes_file),
                           kRestart, "TOML file of prompt themes (empty: assets/themes.toml)"));
  t.push_back(param_int("prompts.rotate_every", bind(&C::prompts, &PromptConfig::rotate_every), 1,
                        100000, kLive, "keyframes per theme"));
  t.push_back(param_bool("prompts.time_of_day", bind(&C::prompts, &PromptConfig::time_of_day),
                         kLive, "append a time-of-day modifier to the positive prompt"));
  t.push_back(param_bool("prompts.shuffle", bind(&C::prompts, &PromptConfig::shuffle), kLive,
                         "weighted random theme order (else the file's order)"));
  // ---- playback ----
  t.push_back(param_float(
      "playback.min_buffer_s", bind(&C::playback, &PlaybackConfig::min_buffer_s), 0.0, 600.0, kLive,
      "seconds of frames buffered before playback starts (at most the target; with a slow "
      "producer, this many seconds of what it delivers)"));
  t.push_back(param_float("playback.target_buffer_s",
                          bind(&C::playback, &PlaybackConfig::target_buffer_s), 1.0, 3600.0, kLive,
                          "buffer the content rate eases towards (at most 3/4 of the ring: "
                          "ring_capacity * 0.75 / content_fps seconds)"));
  t.push_back(param_float("playback.min_rate", bind(&C::playback, &PlaybackConfig::min_rate), 0.1,
                          1.0, kLive, "slowest content rate factor when the buffer runs low"));
  t.push_back(param_float("playback.max_rate", bind(&C::playback, &PlaybackConfig::max_rate), 1.0,
                          4.0, kLive, "fastest content rate factor when the buffer is full"));
  t.push_back(param_int("playback.ring_capacity",
                        bind(&C::playback, &PlaybackConfig::ring_capacity), 4, 8192, kRestart,
                        "frame slots in the ring (rounded up to a power of two)"));
  // ---- cache ----
  t.push_back(param_string("cache.dir", bind(&C::cache, &CacheConfig::dir), kRestart,
                           "keyframe cache directory (empty: $XDG_CACHE_HOME/dreamwindow/frames)"));
  // Bounded so that a live edit cannot stall the cache: its similarity matrix is N x N (16 MB at
  // 1000) and every frame considered is weighed against every pair.
  t.push_back(param_int("cache.max_entries", bind(&C::cache, &CacheConfig::max_entries), 1, 1000,
                        kLive, "cached frames kept"));
  t.push_back(param_float("cache.color_threshold", bind(&C::cache, &CacheConfig::color_threshold),
                          0.0, 3.0, kLive,
                          "accept a frame when mean colour similarity is below this (0..3)"));
  t.push_back(param_float("cache.structure_threshold",
                          bind(&C::cache, &CacheConfig::structure_threshold), 0.0, 1.0, kLive,
                          "accept a frame when mean structure similarity is below this (0..1)"));
  t.push_back(param_float("cache.max_clipped", bind(&C::cache, &CacheConfig::max_clipped), 0.0, 1.0,
                          kLive,
                          "never cache a frame with a larger share of clipped colour values "
                          "(at 0 or 255 in strongly coloured pixels: fried), "
                          "nor take a loop of such frames as its new look"));
  t.push_back(param_float("cache.max_hf", bind(&C::cache, &CacheConfig::max_hf), 0.0, 4.0, kLive,
                          "never cache a frame with more high-frequency energy (noise), nor take "
                          "a loop of such frames as its new look"));
  t.push_back(param_float(
      "cache.min_variation", bind(&C::cache, &CacheConfig::min_variation), 0.0, 127.5, kLive,
      "never cache a frame whose colours vary less (RMS channel deviation, 0..127.5; 12 keeps a "
      "crossfade through grey out; 0: off)"));
  t.push_back(param_float("cache.write_mb_per_day", bind(&C::cache, &CacheConfig::write_mb_per_day),
                          0.0, 1e6, kLive,
                          "megabytes the cache may write per day, PNGs and index (0: no limit)"));
  // ---- collapse ----
  t.push_back(param_int("collapse.window", bind(&C::collapse, &CollapseConfig::window), 2, 100,
                        kLive, "keyframes per consecutive-similarity mean"));
  t.push_back(param_int("collapse.history", bind(&C::collapse, &CollapseConfig::history), 10, 1000,
                        kLive, "similarity history length"));
  t.push_back(param_int("collapse.min_values", bind(&C::collapse, &CollapseConfig::min_values), 4,
                        1000, kLive, "history values needed before detecting"));
  t.push_back(param_float("collapse.color_scale", bind(&C::collapse, &CollapseConfig::color_scale),
                          0.0, 3.0, kLive, "colour delta that raises the injection rate"));
  t.push_back(param_float("collapse.color_force", bind(&C::collapse, &CollapseConfig::color_force),
                          0.0, 3.0, kLive, "colour delta that forces an injection"));
  t.push_back(param_float("collapse.structure_scale",
                          bind(&C::collapse, &CollapseConfig::structure_scale), 0.0, 1.0, kLive,
                          "structure delta that raises the injection rate"));
  t.push_back(param_float("collapse.structure_force",
                          bind(&C::collapse, &CollapseConfig::structure_force), 0.0, 1.0, kLive,
                          "structure delta that forces an injection"));
  t.push_back(param_float("collapse.fry_scale", bind(&C::collapse, &CollapseConfig::fry_scale), 0.0,
                          3.0, kLive,
                          "fry-index climb (contrast, saturation, clipping) that raises the "
                          "injection rate"));
  t.push_back(param_float("collapse.fry_force", bind(&C::collapse, &CollapseConfig::fry_force), 0.0,
                          3.0, kLive, "fry-index climb that forces an injection"));
  t.push_back(param_float("collapse.noise_scale", bind(&C::collapse, &CollapseConfig::noise_scale),
                          0.0, 4.0, kLive,
                          "high-frequency energy climb that raises the injection rate"));
  t.push_back(param_float("collapse.noise_force", bind(&C::collapse, &CollapseConfig::noise_force),
                          0.0, 4.0, kLive, "high-frequency energy climb that forces an injection"));
  // ---- injection ----
  t.push_back(param_int("injection.warmup", bind(&C::injection, &InjectionConfig::warmup), 0, 10000,
                        kLive, "keyframes before the first injection"));
  t.push_back(param_int("injection.cooldown", bind(&C::injection, &InjectionConfig::cooldown), 0,
                        10000, kLive, "keyframes between injections"));
  t.push_back(param_float("injection.color_low", bind(&C::injection, &InjectionConfig::color_low),
                          0.0, 3.0, kLive, "candidate colour similarity lower bound"));
  t.push_back(param_float("injection.color_high", bind(&C::injection, &InjectionConfig::color_high),
                          0.0, 3.0, kLive, "candidate colour similarity upper bound"));
  t.push_back(param_float("injection.structure_low",
                          bind(&C::injection, &InjectionConfig::structure_low), 0.0, 1.0, kLive,
                          "candidate structure similarity lower bound"));
  t.push_back(param_float("injection.structure_high",
                          bind(&C::injection, &InjectionConfig::structure_high), 0.0, 1.0, kLive,
                          "candidate structure similarity upper bound"));
  t.push_back(param_int("injection.recent_penalty",
                        bind(&C::injection, &InjectionConfig::recent_penalty), 0, 100, kLive,
                        "recently injected frames that are down-weighted"));
  t.push_back(param_float("injection.cached_weight",
                          bind(&C::injection, &InjectionConfig::cached_weight), 0.0, 1.0, kLive,
                          "latent blend weight of the cached frame"));
  t.push_back(param_float("injection.seed_weight",
                          bind(&C::injection, &InjectionConfig::seed_weight), 0.0, 1.0, kLive,
                          "latent blend weight of an injected seed image"));
  // ---- offline generator ----
  t.push_back(param_float("offline.motion", bind(&C::offline, &OfflineConfig::motion), 0.0, 4.0,
                          kRestart,
                          "offline source: scale of each keyframe's zoom, turn and warp"));
  t.push_back(param_float("offline.hue_drift_deg", bind(&C::offline, &OfflineConfig::hue_drift_deg),
                          -45.0, 45.0, kRestart,
                          "offline source: mean hue rotation per keyframe, degrees"));
  t.push_back(param_float("offline.sharpen", bind(&C::offline, &OfflineConfig::sharpen), 0.0, 2.0,
                          kRestart,
                          "offline source: base unsharp amount against resampling blur (the "
                          "regulator adds or takes away to hold the detail band)"));
  t.push_back(param_int("offline.seed_every", bind(&C::offline, &OfflineConfig::seed_every), 1,
                        100000, kRestart,
                        "offline source: keyframes spent with each seed (its folds and its look) "
                        "before turning to the next"));
  t.push_back(param_int("offline.fold_every", bind(&C::offline, &OfflineConfig::fold_every), 0,
                        10000, kRestart,
                        "offline source: keyframes between folds toward a seed (0: never)"));
  t.push_back(param_float("offline.fold_weight", bind(&C::offline, &OfflineConfig::fold_weight),
                          0.0, 1.0, kRestart,
                          "offline source: how far a fold moves toward a seed"));
  t.push_back(param_float("offline.band_margin", bind(&C::offline, &OfflineConfig::band_margin),
                          0.0, 2.0, kRestart,
                          "offline source: each picture band is the seeds' range widened by this "
                          "share of it"));
  t.push_back(param_float("offline.regulation", bind(&C::offline, &OfflineConfig::regulation), 0.0,
                          1.0, kRestart,
                          "offline source: share of the way back to the middle of each band per "
                          "keyframe"));
  // ---- status ----
  t.push_back(param_string("status.path", bind(&C::status, &StatusConfig::path), kRestart,
                           "status.json path (empty: $XDG_STATE_HOME/dreamwindow/status.json)"));
  t.push_back(param_float("status.interval_s", bind(&C::status, &StatusConfig::interval_s), 0.1,
                          3600.0, kLive, "seconds between status.json writes"));
  t.push_back(param_int("status.metrics_port", bind(&C::status, &StatusConfig::metrics_port), 0,
                        65535, kRestart, "Prometheus /metrics port on 127.0.0.1 (0: off)"));
  add_remote_params(t);
  add_osc_params(t);
  add_service_params(t);
  add_schedule_params(t);
  add_outputs_params(t);
  add_record_params(t);
  add_kiosk_params(t);
  // ---- top level ----
  t.push_back(param_choice<LogLevel>(
      "log_level", [](C& c) -> LogLevel& { return c.log_level; },
      {"trace", "debug", "info", "warn", "error", "off"}, kLive, "log verbosity"));
  // ---- inputs that must exist when set (the CLI exits 2 naming the key otherwise); a folder may
  // be absent at start (PathRule::DirectoryOrAbsent), never a file ----
  const auto must_exist = [&t](std::string_view key, PathRule rule) {
    for (ParamSpec& p : t)
      if (p.key == key) p.path = rule;
  };
  must_exist("source.folder", PathRule::DirectoryOrAbsent);
  must_exist("vae.decoder", PathRule::FileOrNone);
  must_exist("vae.encoder", PathRule::FileOrNone);
  must_exist("comfy.workflow", PathRule::FileOrName);
  must_exist("prompts.themes_file", PathRule::File);
  return t;
}

}  // namespace

std::span<const ParamSpec> param_table() {
  static const std::vector<ParamSpec> table = build_table();
  return table;
}

}  // namespace dw
