#include "app/application.h"

#include <fmt/format.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <atomic>
#include <bit>
#include <csignal>
#include <cstdio>

#include "app/calibration_wiring.h"
#include "app/control_wiring.h"
#include "app/outputs_wiring.h"
#include "app/record_wiring.h"
#include "app/remote_wiring.h"
#include "app/schedule_wiring.h"
#include "app/service_wiring.h"
#include "comfy/comfy_source.h"
#include "core/actions.h"
#include "core/commands.h"
#include "core/config_store.h"
#include "core/frame.h"
#include "core/frame_ring.h"
#include "core/image.h"
#include "core/log_board.h"
#include "core/param_editor.h"
#include "pipeline/metrics_table.h"
#include "pipeline/pipeline.h"
#include "render/frame_uploader.h"
#include "render/overlay.h"
#include "render/presenter.h"
#include "render/render_loop.h"
#include "render/window.h"

namespace dw {
namespace {

std::atomic<bool> g_quit{false};
std::atomic<int> g_quit_signal{0};  // the signal that asked to quit, logged once the loop ends

extern "C" void on_signal(int signal) {
  g_quit_signal.store(signal);
  g_quit.store(true);
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

// The test hooks --overlay-edit and --overlay-save: edits through the parameter panel, as its
// widgets make them, then its "save". A bad edit is an InputError (exit 2), a failed save an Error.
void apply_overlay_hooks(render::Overlay& overlay, const RunOptions& run) {
  for (const auto& [key, value] : run.overlay_edits)
    if (auto err = overlay.parameters().edit(key, value))
      throw InputError(fmt::format("--overlay-edit {}={}: {}", key, value, *err));
  if (run.overlay_save)
    if (auto err = overlay.parameters().save()) throw Error(*err);
}

void save_screenshot(const std::optional<Image>& image, const std::string& path) {
  if (path.empty()) return;
  if (!image) {
    spdlog::error("no frame was presented, so no screenshot was written to {}", path);
    return;
  }
  save_png(*image, path);
  spdlog::info("screenshot written to {}", path);
}

// The ComfyUI server's own checkpoints, samplers and schedulers become the choices the overlay and
// the remote offer for comfy.checkpoint, comfy.sampler and comfy.scheduler.
void offer_server_choices(const pipeline::StatusSnapshot& status, ParamEditor& editor) {
  const auto& settings = status.source_health.settings;
  if (!settings) return;
  for (const auto& [placeholder, names] : settings->offered)
    if (editor.choices("comfy." + placeholder) != names)
      editor.set_choices("comfy." + placeholder, names);
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

void install_signal_handlers() {
  struct sigaction action {};
  action.sa_handler = on_signal;
  sigemptyset(&action.sa_mask);
  sigaction(SIGINT, &action, nullptr);
  sigaction(SIGTERM, &action, nullptr);
  // A stderr whose reader went away (a `| tee` that was closed) fails its writes with EPIPE, which
  // the log writer counts as lost lines; it must not end the show.
  std::signal(SIGPIPE, SIG_IGN);
}

int run_application(const Config& initial, const RunOptions& run) {
  // Logs go to stderr; stdout carries only what the user asked for (statistics, lists).
  service::ServiceSide service(initial.service);  // the logger first (journald, log file)
  LogBoard::install();
  apply_log_level(static_cast<int>(initial.log_level));
  try {
    if (run.list_displays) {
      std::fputs(render::describe_displays(render::list_displays()).c_str(), stdout);
      return 0;
    }
    ConfigStore config(initial);
    // Every way in (overlay, remote, OSC, SIGHUP) edits through one editor and one action table,
    // and asks the running parts through one set of commands.
    ParamEditor editor(config, run.save_path, run.overrides);
    // What start_schedule refuses, refused live.
    editor.add_check({"schedule.themes", "prompts.themes_file"}, app::check_schedule_themes);
    Commands commands;
    ActionTable actions;
    RecordWiring recording(initial, config, commands, actions);  // record.*, screenshots
    // After everything whose actions it runs: its OSC and SIGHUP threads stop first on the way
    // out (an OSC start_recording during tear-down ran on a destroyed RecordWiring).
    ControlWiring control(initial, actions, commands, editor);
    FrameRing<Frame> ring(std::bit_ceil(static_cast<std::size_t>(initial.playback.ring_capacity)));

    render::Window window(render::main_window_config(initial), run.headless,
                          render::main_window_options(initial));
    auto uploader = render::make_frame_uploader();
    const bool device_frames = uploader->accepts_device_frames();
    render::Presenter presenter(ring, std::move(uploader));
    std::optional<render::Overlay> overlay;
    overlay.emplace(
        window.sdl(), window.gl_context(), config, editor,
        overlay_starts_visible(initial, run.headless) || !run.screenshot_overlay.empty());
    apply_overlay_hooks(*overlay, run);
    render::RenderLoop loop(window, presenter, &*overlay, config, ring.capacity(),
                            [&ring] { return ring.size(); });
    const auto outputs = start_outputs(window, loop, initial, run.headless);
    const auto calibration = wire_calibration(actions, loop, config, run);

    pipeline::PipelineHooks hooks;
    const auto remote = start_remote(*config.get(), editor, actions, hooks);
    hooks.display_status = [&loop, &outputs] {
      const render::LiveDisplayStats& l = loop.live();
      pipeline::DisplayStatus d;
      d.frames_presented = l.frames;
      d.content_frames_shown = l.content_frames;
      d.content_uploads = l.content_uploads;
      d.current_sequence = l.sequence;
      d.current_keyframe = l.keyframe;
      d.fps = l.fps;
      d.frame_ms_p50 = l.p50_ms;
      d.frame_ms_p99 = l.p99_ms;
      d.late_frames = l.late;
      d.content_fps = l.content_fps;
      d.display = l.display();
      d.display_on_target = l.display_on_target;
      d.display_moves = l.display_moves;
      if (outputs)
        for (const render::OutputThreadStats& o : outputs->stats())
          d.outputs.push_back(
              {o.presented, o.skipped, o.own_thread ? o.fps : d.fps, o.own_thread, o.on_display});
      return d;
    };
    hooks.device_frames = device_frames;
    hooks.commands = &commands;
    hooks.on_status = [&editor](const pipeline::StatusSnapshot& s) {
      offer_server_choices(s, editor);
    };
    hooks.control_status = [&control] { return control.status(); };
    service.hook_into(hooks);
    hooks.recording_status = [&recording] { return recording.status(); };
    hooks.on_keyframe = recording.keyframe_observer();
    hooks.make_comfy_source =
        [](LiveSection<ComfyConfig> comfy) -> std::unique_ptr<pipeline::KeyframeSource> {
      comfy::ComfySourceOptions options = comfy::options_from_config(*comfy.get());
      options.live_values = [comfy] { return comfy::workflow_values_from(*comfy.get()); };
      return std::make_unique<comfy::ComfyKeyframeSource>(std::move(options));
    };
    const auto schedule = app::start_schedule(config, commands, hooks);
    pipeline::Pipeline dream(config, ring, hooks);
    const auto notifier = service.start_notifier(dream, commands, config);
    auto remote_feed = remote->feed_status(dream);  // detached before dream stops (below)

    render::RenderLoopOptions options;
    options.frames = run.frames;
    options.capture_last = !run.screenshot.empty();
    options.capture_last_overlay = !run.screenshot_overlay.empty();
    options.commands = &commands;
    options.actions = &actions;
    options.canvas_sink = recording.sink();
    loop.run(options, g_quit, [&dream](render::OverlayModel& model) {
      const pipeline::StatusSnapshot s = dream.status();
      model.status = pipeline::status_overlay_lines(s);
      model.state.pause_reasons = s.control.pause_reasons;
      model.state.source = s.orchestrator.source.empty() ? s.source : s.orchestrator.source;
      model.state.problems = pipeline::status_problems(s);
      model.buffer = {s.buffer_ready_s, s.buffer_decoding_s, s.buffer_target_s};
    });
    service.stop_notifier();  // STOPPING=1, before the pipeline it reads stops
    if (const int signal = g_quit_signal.load(); signal != 0)
      spdlog::info("quit by {}", signal == SIGTERM ? "SIGTERM" : "SIGINT (Ctrl+C)");

    // A headless run of N frames whose source failed and never delivered a keyframe (a workflow
    // that never yields): it showed only the seed image, a failure worth an exit code. In `auto`
    // the offline generator covers for a failing server, so only a ComfyUI-only run can fail so.
    const pipeline::StatusSnapshot final_status = dream.status();
    const bool asked_to_quit = g_quit.load() || commands.quit.load() != 0;
    const bool never_yielded = run.headless && run.frames > 0 && !asked_to_quit &&
                               initial.source.kind == SourceKind::Comfy &&
                               final_status.orchestrator.keyframes < 2 &&
                               final_status.source_health.errors > 0;
    recording.finish();  // the queued frames into the file, so the final status shows them
    // A status request under way (the web page's event stream, a scraper) finishes before the
    // pipeline's parts go, and none starts after.
    remote_feed.reset();
    dream.stop();  // workers first: they may be blocked on the ring the loop no longer drains
    save_screenshot(loop.last_image(), run.screenshot);
    save_screenshot(loop.last_overlay_image(), run.screenshot_overlay);
    finish_outputs(outputs.get(), loop, run.screenshot);
    print_summary(loop.stats().summary());
    if (const double first = loop.live().first_motion_s.load(); first >= 0)
      std::printf("first motion: %.2f s after start\n", first);
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
