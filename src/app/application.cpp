#include "app/application.h"

#include <fmt/format.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <atomic>
#include <bit>
#include <csignal>
#include <cstdio>

#include "comfy/comfy_source.h"
#include "core/config_store.h"
#include "core/frame.h"
#include "core/frame_ring.h"
#include "core/image.h"
#include "core/log_board.h"
#include "pipeline/pipeline.h"
#include "render/frame_uploader.h"
#include "render/overlay.h"
#include "render/presenter.h"
#include "render/render_loop.h"
#include "render/window.h"

namespace dw {
namespace {

std::atomic<bool> g_quit{false};

extern "C" void on_signal(int) {
  g_quit.store(true);
}

void install_signal_handlers() {
  struct sigaction action {};
  action.sa_handler = on_signal;
  sigemptyset(&action.sa_mask);
  sigaction(SIGINT, &action, nullptr);
  sigaction(SIGTERM, &action, nullptr);
}

bool overlay_starts_visible(const Config& config, bool headless) {
  switch (config.display.overlay) {
    case OverlayStart::Shown:
      return true;
    case OverlayStart::Hidden:
      return false;
    case OverlayStart::Auto:
      break;
  }
  return !headless && config.display.mode == DisplayMode::Windowed;
}

// The pipeline's numbers as overlay lines.
void fill_overlay(const pipeline::StatusSnapshot& s, render::OverlayModel& model) {
  const auto& o = s.orchestrator;
  auto& lines = model.status;
  lines.emplace_back("keyframes",
                     fmt::format("{} from {} ({} pending)", o.keyframes,
                                 o.source.empty() ? s.source : o.source, s.source_pending));
  lines.emplace_back("generation", fmt::format("{:.2f} s last, {:.2f} s mean", o.last_generation_s,
                                               o.mean_generation_s));
  for (const pipeline::ServerHealth& server : s.source_health.servers)
    lines.emplace_back(
        server.url, fmt::format("{}, {} keyframes, {} errors{}{}", server.healthy ? "up" : "DOWN",
                                server.keyframes, server.errors,
                                server.last_error.empty() ? "" : ": ", server.last_error));
  lines.emplace_back("buffer", fmt::format("{:.1f} s of {:.0f} s", s.buffer_s, s.buffer_target_s));
  lines.emplace_back("vae",
                     fmt::format("{}, pair {:.0f} ms, lock wait max {:.1f} ms", s.vae_backend,
                                 s.interpolation.last_pair_ms, s.vae_lock.max_wait_ms));
  lines.emplace_back("theme", o.theme.empty() ? "-" : o.theme);
  lines.emplace_back("cache", fmt::format("{} entries, {} dropped", s.cache_entries,
                                          s.cache_worker.queue.dropped_oldest));
  lines.emplace_back(
      "collapse",
      fmt::format("colour {:.2f} (d {:+.3f}), structure {:.2f} (d {:+.3f})", o.collapse.colour_mean,
                  o.collapse.colour_delta, o.collapse.structure_mean, o.collapse.structure_delta));
  lines.emplace_back("injections", fmt::format("{} ({} forced, {} seeds)", o.injections,
                                               o.forced_injections, o.seed_injections));
  for (const auto& w : s.workers)
    if (w.state != pipeline::WorkerState::Running || w.errors)
      lines.emplace_back(w.name,
                         fmt::format("{}, {} errors{}", pipeline::to_string(w.state), w.errors,
                                     w.last_error.empty() ? "" : ": " + w.last_error));
}

void print_summary(const render::FrameTimeSummary& s) {
  std::printf(
      "frames: %llu  frame time p50 %.2f ms  p99 %.2f ms  max %.2f ms  mean %.2f ms  late %llu  "
      "display %.1f fps  content %.1f fps\n",
      static_cast<unsigned long long>(s.frames), s.p50_ms, s.p99_ms, s.max_ms, s.mean_ms,
      static_cast<unsigned long long>(s.late), s.fps, s.content_fps);
  std::fflush(stdout);
}

}  // namespace

int run_application(const Config& initial, const RunOptions& run) {
  // Logs go to stderr; stdout carries only what the user asked for (statistics, lists).
  spdlog::set_default_logger(spdlog::stderr_color_mt("dreamwindow"));
  LogBoard::install();
  apply_log_level(static_cast<int>(initial.log_level));
  install_signal_handlers();
  try {
    if (run.list_displays) {
      std::fputs(render::describe_displays(render::list_displays()).c_str(), stdout);
      return 0;
    }
    ConfigStore config(initial);
    FrameRing<Frame> ring(std::bit_ceil(static_cast<std::size_t>(initial.playback.ring_capacity)));

    render::Window window(initial.display, run.headless);
    auto uploader = render::make_frame_uploader();
    const bool device_frames = uploader->accepts_device_frames();
    render::Presenter presenter(ring, std::move(uploader));
    std::optional<render::Overlay> overlay;
    overlay.emplace(window.sdl(), window.gl_context(), config,
                    overlay_starts_visible(initial, run.headless));
    render::RenderLoop loop(window, presenter, &*overlay, config, ring.capacity(),
                            [&ring] { return ring.size(); });

    pipeline::PipelineHooks hooks;
    hooks.display_status = [&loop] {
      const render::LiveDisplayStats& l = loop.live();
      pipeline::DisplayStatus d;
      d.frames_presented = l.frames;
      d.content_frames_shown = l.content_frames;
      d.current_sequence = l.sequence;
      d.current_keyframe = l.keyframe;
      d.fps = l.fps;
      d.frame_ms_p50 = l.p50_ms;
      d.frame_ms_p99 = l.p99_ms;
      d.late_frames = l.late;
      d.content_fps = l.content_fps;
      return d;
    };
    hooks.device_frames = device_frames;
    hooks.make_comfy_source =
        [](LiveSection<ComfyConfig> comfy) -> std::unique_ptr<pipeline::KeyframeSource> {
      comfy::ComfySourceOptions options = comfy::options_from_config(*comfy.get());
      options.live_values = [comfy] { return comfy::workflow_values_from(*comfy.get()); };
      return std::make_unique<comfy::ComfyKeyframeSource>(std::move(options));
    };
    pipeline::Pipeline dream(config, ring, hooks);

    render::RenderLoopOptions options;
    options.frames = run.frames;
    options.capture_last = !run.screenshot.empty();
    loop.run(options, g_quit,
             [&dream](render::OverlayModel& model) { fill_overlay(dream.status(), model); });

    // A headless run of N frames whose source failed and never delivered a keyframe (a workflow
    // that never yields): it showed only the seed image, a failure worth an exit code.
    const pipeline::StatusSnapshot final_status = dream.status();
    const bool never_yielded = run.headless && run.frames > 0 && !g_quit.load() &&
                               final_status.orchestrator.keyframes < 2 &&
                               final_status.source_health.errors > 0;
    dream.stop();  // workers first: they may be blocked on the ring the loop no longer drains
    if (!run.screenshot.empty()) {
      if (loop.last_image()) {
        save_png(*loop.last_image(), run.screenshot);
        spdlog::info("screenshot written to {}", run.screenshot);
      } else {
        spdlog::error("no frame was presented, so no screenshot was written");
      }
    }
    print_summary(loop.stats().summary());
    if (never_yielded) {
      spdlog::error("--frames {}: no keyframe came from {} during the run{}{}", run.frames,
                    final_status.source, final_status.source_health.last_error.empty() ? "" : ": ",
                    final_status.source_health.last_error);
      return 1;
    }
    return 0;
  } catch (const InputError& e) {
    spdlog::error("{}", e.what());
    return 2;
  } catch (const std::exception& e) {
    spdlog::critical("{}", e.what());
    return 1;
  }
}

}  // namespace dw
