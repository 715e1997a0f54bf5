#include "pipeline/pipeline.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <filesystem>
#include <random>

#include "cache/diversity_cache.h"
#include "core/error.h"
#include "core/files.h"
#include "core/numeric.h"
#include "core/paths.h"
#include "core/version.h"
#include "pipeline/cache_worker.h"
#include "pipeline/folder_source.h"
#include "pipeline/interpolation_worker.h"
#include "pipeline/metrics_server.h"
#include "pipeline/metrics_table.h"
#include "pipeline/offline_source.h"
#include "pipeline/orchestrator.h"
#include "pipeline/prompt_source.h"
#include "pipeline/resume.h"
#include "pipeline/switching_source.h"
#include "pipeline/vae_choice.h"
#include "pipeline/vae_service.h"
#include "vae/backend.h"
#include "vae/model.h"

namespace dw::pipeline {
namespace {

Image generated_seed(int w, int h) {
  Image img(w, h);
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x) {
      std::uint8_t* p = img.pixel(x, y);
      p[0] = static_cast<std::uint8_t>(40 + 180 * x / std::max(1, w - 1));
      p[1] = static_cast<std::uint8_t>(30 + 120 * y / std::max(1, h - 1));
      p[2] = static_cast<std::uint8_t>(200 - 150 * x / std::max(1, w - 1));
      p[3] = 255;
    }
  return img;
}

std::unique_ptr<vae::VaeBackend> make_vae(const Config& all, bool device_frames) {
  const VaeConfig& config = all.vae;
  const VaeChoice choice = choose_vae(all);
  if (choice.decoder.empty()) {
    spdlog::info("vae: {}", choice.why);
    return nullptr;
  }
  spdlog::info("vae: {}", choice.why);
  try {
    auto model = vae::load_vae(choice.decoder, choice.encoder);
    auto backend = vae::make_backend(config.backend, model, config,
                                     device_frames ? PixelLocation::Device : PixelLocation::Host);
    spdlog::info("vae: {} ({} latent channels) on the {} backend", model->info.variant,
                 model->info.latent_channels, backend->name());
    if (!model->encoder)
      spdlog::warn("vae: '{}' has no encoder; keyframes without a saved latent are crossfaded",
                   choice.decoder);
    return backend;
  } catch (const InputError& e) {
    // The user's file is not a VAE we can read: a bad value like any other (exit 2), never a
    // silent fall-back that degrades the installation.
    throw InputError(fmt::format("vae.decoder = '{}': {}", config.decoder_path, e.what()));
  } catch (const std::exception& e) {
    // The show goes on without it (no device, ...); the reason is in the log, status and overlay.
    spdlog::error("vae: {}; continuing with pixel-space crossfades", e.what());
    return nullptr;
  }
}

std::vector<Theme> themes_for(const PromptConfig& config) {
  std::string path = resolve_input_path(config.themes_file);
  if (path.empty())
    if (auto found = find_data_path("assets/themes.toml")) path = found->string();
  try {
    if (!path.empty()) return load_themes(path);
  } catch (const std::exception& e) {
    spdlog::error("prompts: {}; using a single built-in theme", e.what());
  }
  return {Theme{"default",
                {"dreamlike abstract landscape, vivid colours, intricate detail",
                 "text, watermark, blurry, low quality"},
                1.0}};
}

std::function<std::vector<std::string>()> scheduled_themes(const PipelineHooks& hooks) {
  if (!hooks.schedule_state) return {};
  return [state = hooks.schedule_state] { return state().themes; };
}

}  // namespace

StandInSeeds default_seeds(int width, int height) {
  if (auto dir = find_data_path("assets/seeds")) {
    ImageFolder shipped(*dir, width, height);
    shipped.scan();
    if (!shipped.images().empty()) return {shipped.images(), "the default seed images"};
  }
  spdlog::warn(
      "seeds: no readable image in the shipped assets/seeds; starting from a generated "
      "gradient");
  return {{FolderImage{"gradient", std::make_shared<const Image>(generated_seed(width, height))}},
          "a generated gradient"};
}

std::vector<Image> load_seed_images(const std::string& folder, int width, int height) {
  std::vector<FolderImage> found;
  if (!folder.empty()) {
    ImageFolder given(resolve_input_path(folder), width, height);
    given.scan();
    found = given.images();
    if (found.empty())
      spdlog::warn("seeds: source.folder = '{}': {}; using the default seed images", folder,
                   given.problem());
  }
  if (found.empty()) found = default_seeds(width, height).images;
  std::vector<Image> seeds;
  for (const FolderImage& f : found) seeds.push_back(*f.image);
  return seeds;
}

struct Pipeline::Parts {
  std::unique_ptr<VaeService> vae;
  std::unique_ptr<cache::DiversityCache> cache;
  std::unique_ptr<CacheAnalysisWorker> cache_worker;
  std::unique_ptr<KeyframeSource> source;
  std::unique_ptr<PromptSource> prompts;
  std::unique_ptr<InterpolationWorker> interpolation;
  std::unique_ptr<Orchestrator> orchestrator;
  std::unique_ptr<ResumeWriter> resume;
  std::unique_ptr<PeriodicFileWriter> status_writer;
  std::unique_ptr<MetricsServer> metrics;
};

namespace {

// ComfyUI (alone, or behind the switch to the offline generator), the folder, or offline.
std::unique_ptr<KeyframeSource> make_source(const Config& cfg, const ConfigStore& config,
                                            const PipelineHooks& hooks,
                                            const std::vector<Image>& seeds,
                                            std::function<bool()> starving) {
  auto offline = std::make_unique<OfflineKeyframeSource>(seeds, OfflineSourceOptions{cfg.offline});
  std::unique_ptr<KeyframeSource> comfy;
  const bool want_comfy = cfg.source.kind == SourceKind::Comfy ||
                          (cfg.source.kind == SourceKind::Auto && !cfg.comfy.urls.empty());
  if (want_comfy && hooks.make_comfy_source)
    comfy = hooks.make_comfy_source(LiveSection<ComfyConfig>(config, &Config::comfy));
  if (want_comfy && !comfy)
    spdlog::warn("keyframes: ComfyUI is not available in this build; using the offline source");
  if (!comfy) return offline;
  if (cfg.source.kind == SourceKind::Comfy) return comfy;
  // Cover an unreachable or stalled server within a second (the buffer plays on meanwhile); at
  // start, give it the time of a connect and a validation before requests go offline.
  const auto grace = std::chrono::milliseconds(500);
  const auto startup = std::chrono::milliseconds(
      static_cast<long long>(1000 * (2 * cfg.comfy.connect_timeout_s + 2.0)));
  return std::make_unique<SwitchingKeyframeSource>(
      std::move(comfy), std::move(offline), grace, startup,
      OverdueCover{cfg.source.overdue_factor, std::chrono::seconds(10), std::move(starving)});
}

WorkerHealth worker_health(const Worker& worker, std::uint64_t errors, std::string last_error) {
  const WorkerState state = worker.state();
  if (state == WorkerState::Failed) last_error = worker.failure();
  return WorkerHealth{worker.name(), state, errors, std::move(last_error), worker.steps()};
}

// The keyframe source as a worker: its threads are its own; what status can say is whether it
// can currently produce.
WorkerHealth source_worker_health(const KeyframeSource& source, const SourceHealth& health) {
  const bool healthy = source.healthy();
  std::string last_error = health.last_error;
  if (last_error.empty() && !healthy) last_error = "source unreachable";
  return WorkerHealth{"keyframes", healthy ? WorkerState::Running : WorkerState::Unhealthy,
                      health.errors, std::move(last_error)};
}

}  // namespace

Pipeline::Pipeline(ConfigStore& config, FrameRing<Frame>& ring, PipelineHooks hooks)
    : config_(config),
      ring_(ring),
      hooks_(std::move(hooks)),
      started_(std::chrono::steady_clock::now()),
      parts_(std::make_unique<Parts>()) {
  const auto cfg = config_.get();
  const int width = keyframe_dimension(cfg->comfy.width);
  const int height = keyframe_dimension(cfg->comfy.height);
  const std::uint64_t seed = std::random_device{}() ^ (std::uint64_t{std::random_device{}()} << 32);
  Parts& p = *parts_;

  p.vae = std::make_unique<VaeService>(hooks_.make_vae ? hooks_.make_vae(cfg->vae)
                                                       : make_vae(*cfg, hooks_.device_frames));
  const std::string cache_dir =
      cfg->cache.dir.empty() ? xdg_dir("CACHE") + "/frames" : cfg->cache.dir;
  p.cache = std::make_unique<cache::DiversityCache>(cache_dir, thresholds_from(cfg->cache));
  p.cache_worker = std::make_unique<CacheAnalysisWorker>(
      *p.cache, LiveSection<CacheConfig>(config_, &Config::cache), 8, hooks_.worker_fault);

  std::vector<Image> seeds = start_seeds(*cfg, width, height);
  if (!p.source)
    p.source = make_source(*cfg, config_, hooks_, seeds, [this] { return content_running_low(); });
  spdlog::info("keyframes: source '{}', {} seed image(s), {}x{}", p.source->name(), seeds.size(),
               width, height);

  p.prompts = std::make_unique<PromptSource>(
      themes_for(cfg->prompts), seed,
      PromptSettings{LiveSection<PromptConfig>(config_, &Config::prompts),
                     LiveSection<ComfyConfig>(config_, &Config::comfy), scheduled_themes(hooks_)});
  p.interpolation = std::make_unique<InterpolationWorker>(
      *p.vae, ring_, LiveSection<InterpolationConfig>(config_, &Config::interpolation),
      [cache_worker = p.cache_worker.get()](std::uint64_t k, const Image& f) {
        cache_worker->enqueue(CacheItem{f, cache::EntryKind::Middle, k});
      },
      hooks_.worker_fault, LiveSection<DisplayConfig>(config_, &Config::display));
  OrchestratorSettings settings{LiveSection<PlaybackConfig>(config_, &Config::playback),
                                LiveSection<CollapseConfig>(config_, &Config::collapse),
                                LiveSection<InjectionConfig>(config_, &Config::injection),
                                LiveSection<InterpolationConfig>(config_, &Config::interpolation)};
  status_path_ = cfg->status.path.empty() ? xdg_dir("STATE") + "/status.json" : cfg->status.path;
  std::vector<ResumeKeyframe> resume_from = start_resume(*cfg, width, height);
  const bool random_first_seed = cfg->source.kind != SourceKind::Folder;
  p.orchestrator = std::make_unique<Orchestrator>(OrchestratorParts{
      *p.source, *p.vae, *p.interpolation, *p.cache_worker, *p.cache, *p.prompts,
      std::move(settings), [this] { return buffered_seconds(); }, std::move(seeds), seed,
      random_first_seed, hooks_.worker_fault, hooks_.commands, hooks_.on_keyframe,
      std::move(resume_from), resume_sink()});

  p.status_writer = std::make_unique<PeriodicFileWriter>(
      status_path_,
      std::chrono::milliseconds(static_cast<long long>(1000 * cfg->status.interval_s)), [this] {
        const StatusSnapshot s = status();
        if (hooks_.on_status) hooks_.on_status(s);
        return status_to_json(s);
      });
  if (cfg->status.metrics_port > 0) {
    try {
      p.metrics =
          std::make_unique<MetricsServer>(static_cast<std::uint16_t>(cfg->status.metrics_port),
                                          [this] { return status_to_prometheus(status()); });
    } catch (const std::exception& e) {
      spdlog::error("status: {}", e.what());
    }
  }
}

// source.folder read once: the seed images, and with source.kind = folder the source itself, which
// reads it again every kFolderRescan. A folder that is missing or cannot be read (a USB disk or a
// share that mounts late) is no reason to stop: the default seeds stand in, and status says why.
std::vector<Image> Pipeline::start_seeds(const Config& cfg, int width, int height) {
  const bool folder_kind = cfg.source.kind == SourceKind::Folder;
  std::vector<FolderImage> images;
  std::string what;
  if (!cfg.source.folder.empty()) {
    ImageFolder folder(resolve_input_path(cfg.source.folder), width, height);
    const std::chrono::seconds read_for = folder_kind ? kFolderScanRead : kFolderStartRead;
    folder.read_for(read_for);
    folder.hold_up_to(static_cast<std::uint64_t>(cfg.source.folder_memory_mb) << 20);
    folder.read_subfolders(cfg.source.folder_subfolders);
    folder.scan();
    images = folder.images();
    if (folder.unread() > 0)
      spdlog::info(
          "source.folder = '{}': {} image{} read in {} s at start, {} more {}", cfg.source.folder,
          images.size(), images.size() == 1 ? "" : "s", read_for.count(), folder.unread(),
          folder_kind ? "read while the show runs" : "not read (seeds are read at start only)");
    const std::uint64_t held = images.size() - folder.on_disk();
    seed_folder_ =
        FolderStatus{.path = cfg.source.folder, .images = held, .unreadable = folder.unreadable()};
    if (!folder_kind && held < images.size())
      spdlog::info("source.folder = '{}': {} image{} over source.folder_memory_mb = {} not used",
                   cfg.source.folder, images.size() - held, images.size() - held == 1 ? "" : "s",
                   cfg.source.folder_memory_mb);
    if (images.empty()) {
      StandInSeeds stand_in = default_seeds(width, height);
      images = std::move(stand_in.images);
      what = std::move(stand_in.what);
      seed_folder_.problem = fmt::format(
          "{}; the seeds are {} (read at start only: restart to use it)", folder.problem(), what);
    }
    if (folder_kind) {
      folder.settle_for(kFolderSettle);
      auto source =
          std::make_unique<FolderKeyframeSource>(std::move(folder), images, what, kFolderRescan);
      folder_source_ = source.get();
      parts_->source = std::move(source);
    }
    const FolderStatus now = folder_source_ ? folder_source_->folder_status() : seed_folder_;
    if (!now.problem.empty())
      spdlog::warn("source.folder = '{}': {}{}", cfg.source.folder, now.problem,
                   folder_kind ? fmt::format("; read again every {} s", kFolderRescan.count())
                               : std::string());
  } else {
    images = default_seeds(width, height).images;
    if (folder_kind) parts_->source = std::make_unique<FolderKeyframeSource>(images);
  }
  // The seeds are the images held (the first ones a large folder read, within its budget); the
  // folder source shows its images itself, and its seeds (the first keyframe, the collapse's
  // re-injections) are the first few, not a second copy of them all.
  std::vector<Image> seeds;
  for (const FolderImage& f : images)
    if (f.image && (!folder_kind || seeds.size() < kFolderKindSeeds)) seeds.push_back(*f.image);
  return seeds;
}

// Resume (pipeline/resume.h) for generated streams (a folder plays its own images in order).
std::vector<ResumeKeyframe> Pipeline::start_resume(const Config& cfg, int width, int height) {
  if (!hooks_.resume || !cfg.service.resume || cfg.source.kind == SourceKind::Folder) {
    resume_source_ = cfg.source.kind == SourceKind::Folder ? "folder" : "seed image (resume off)";
    return {};
  }
  const std::string dir = resume_dir_for(status_path_);
  ResumeStart start = read_resume_start(dir, width, height);
  if (!start.keyframes.empty() && !start.theme.theme.empty() &&
      !parts_->prompts->resume_at(start.theme.theme, start.theme.started_at))
    spdlog::info(
        "resume: theme '{}' is no longer in the themes file or not in the schedule's theme "
        "window; the rotation starts afresh",
        start.theme.theme);
  resume_source_ = start.source;
  parts_->resume = std::make_unique<ResumeWriter>(
      ResumeWriterOptions{dir, cfg.service.resume_every_s, cfg.service.resume_mb_per_day});
  return std::move(start.keyframes);
}

std::function<void(std::uint64_t, const Image&)> Pipeline::resume_sink() {
  ResumeWriter* writer = parts_->resume.get();
  const PromptSource* prompts = parts_->prompts.get();
  if (writer == nullptr) return {};
  // On the orchestrator's thread, which is also the prompt source's.
  return [writer, prompts](std::uint64_t index, const Image& image) {
    writer->offer(index, image,
                  ThemePosition{prompts->current_theme(), prompts->theme_started_at()});
  };
}

Pipeline::~Pipeline() {
  stop();
}

void Pipeline::stop() {
  if (!parts_) return;
  Parts& p = *parts_;
  // A decode in progress stops at its next op; then producers first, so nothing waits on a
  // consumer that is already gone.
  if (p.vae) p.vae->shutdown();
  if (p.orchestrator) p.orchestrator->stop();
  if (p.resume) p.resume->stop();  // saves the last keyframe emitted
  if (p.interpolation) p.interpolation->stop();
  if (p.cache_worker) p.cache_worker->stop();
  if (p.metrics) p.metrics.reset();
  if (p.status_writer) p.status_writer->stop();  // writes the final state
  folder_source_ = nullptr;
  parts_.reset();
}

std::uint16_t Pipeline::metrics_port() const {
  return parts_ && parts_->metrics ? parts_->metrics->port() : 0;
}

ControlStatus Pipeline::control_status() const {
  ControlStatus c;
  if (hooks_.control_status) c = hooks_.control_status();
  if (const Commands* commands = hooks_.commands) {
    const unsigned reasons = commands->pause_reasons.load(std::memory_order_acquire);
    c.paused = reasons != 0;
    c.pause_reasons = pause_reasons_text(reasons);
    c.frozen = commands->frozen.load(std::memory_order_acquire);
  }
  return c;
}

bool Pipeline::content_running_low() const {
  // Asked by the keyframe source from the orchestrator's thread, which runs only once every part
  // is built.
  constexpr double kLowShare = 0.25;  // of playback.target_buffer_s (4 s of the default 16)
  return buffered_seconds() < kLowShare * config_.get()->playback.target_buffer_s;
}

double Pipeline::buffered_seconds() const {
  const double frames = static_cast<double>(ring_.size()) +
                        static_cast<double>(parts_->interpolation->queued_frames());
  return frames / std::max(config_.get()->display.content_fps, 0.1);
}

StatusSnapshot Pipeline::status() const {
  StatusSnapshot s;
  s.uptime_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - started_).count();
  s.version = kVersion;
  if (hooks_.display_status) s.display = hooks_.display_status();
  if (hooks_.schedule_state) s.schedule = hooks_.schedule_state();
  if (hooks_.recording_status) s.recording = hooks_.recording_status();
  const auto cfg = config_.get();
  // No display, nothing measured: the configured rate. A display's own figure stands, 0 included
  // (nothing new shown: the standstill an operator must see).
  if (!hooks_.display_status) s.display.content_fps = cfg->display.content_fps;
  s.ring_depth = ring_.size();
  s.ring_capacity = ring_.capacity();
  s.buffer_target_s = cfg->playback.target_buffer_s;
  s.buffer_s = s.ring_depth / std::max(cfg->display.content_fps, 0.1);
  s.buffer_ready_s = s.buffer_s;
  s.control = control_status();
  if (hooks_.remote_status) s.remote = hooks_.remote_status();
  if (!parts_) return s;
  const Parts& p = *parts_;
  // The ring and the decode queue apart (the overlay and the web page show both), and their sum,
  // which the orchestrator fills up to the target.
  const double fps = std::max(cfg->display.content_fps, 0.1);
  s.buffer_ready_s = static_cast<double>(s.ring_depth) / fps;
  s.buffer_decoding_s = static_cast<double>(p.interpolation->queued_frames()) / fps;
  s.buffer_s = s.buffer_ready_s + s.buffer_decoding_s;
  s.vae_backend = std::string(p.vae->backend_name());
  s.source = p.source->name();
  s.source_pending = p.source->pending();
  s.source_capacity = p.source->capacity();
  s.orchestrator = p.orchestrator->stats();
  s.interpolation = p.interpolation->stats();
  s.interpolation_queue = p.interpolation->queued();
  s.interpolation_queued_frames = p.interpolation->queued_frames();
  s.cache_worker = p.cache_worker->stats();
  s.cache_entries = p.cache->size();
  s.cache_queue = p.cache_worker->queued();
  s.vae_lock = p.vae->stats();
  s.source_health = p.source->health();
  s.folder = folder_source_ != nullptr ? folder_source_->folder_status() : seed_folder_;
  if (hooks_.service_status) s.service = hooks_.service_status();
  s.service.resume_source = resume_source_;
  if (p.resume) {
    const ResumeStats r = p.resume->stats();
    s.service.resume_saves = r.saves;
    s.service.resume_saved_keyframe = r.last_saved_keyframe;
  }
  s.control = control_status();
  s.workers = {
      worker_health(p.orchestrator->worker(), s.orchestrator.errors, s.orchestrator.last_error),
      worker_health(p.interpolation->worker(),
                    s.interpolation.decode_errors + s.interpolation.encode_errors,
                    s.interpolation.last_error),
      worker_health(p.cache_worker->worker(), s.cache_worker.errors, s.cache_worker.last_error),
      source_worker_health(*p.source, s.source_health)};
  return s;
}

}  // namespace dw::pipeline
