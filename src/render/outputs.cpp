#include "render/outputs.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <cmath>
#include <tuple>

#include "core/error.h"

namespace dw::render {

DisplayConfig main_window_config(const Config& config) {
  DisplayConfig d = config.display;
  if (config.outputs.outputs.empty()) return d;
  const OutputConfig& first = config.outputs.outputs.front();
  d.display_index = first.display;
  d.mode = static_cast<DisplayMode>(first.mode);
  if (first.width > 0) d.width = first.width;
  if (first.height > 0) d.height = first.height;
  return d;
}

WindowOptions main_window_options(const Config& config) {
  WindowOptions options;
  if (!config.outputs.outputs.empty()) options.display_setting = "output 1: display";
  return options;
}

// ---- canvas ---------------------------------------------------------------------------------

Canvas::Canvas() {
  DW_GL_CHECK(glGenTextures(1, &texture_));
  DW_GL_CHECK(glBindTexture(GL_TEXTURE_2D, texture_));
  DW_GL_CHECK(glTexParameteri(GL_TEXTURE_2D, GL_TEXTURE_MIN_FILTER, GL_LINEAR));
  DW_GL_CHECK(glTexParameteri(GL_TEXTURE_2D, GL_TEXTURE_MAG_FILTER, GL_LINEAR));
  DW_GL_CHECK(glTexParameteri(GL_TEXTURE_2D, GL_TEXTURE_WRAP_S, GL_CLAMP_TO_EDGE));
  DW_GL_CHECK(glTexParameteri(GL_TEXTURE_2D, GL_TEXTURE_WRAP_T, GL_CLAMP_TO_EDGE));
  DW_GL_CHECK(glGenFramebuffers(1, &framebuffer_));
}

Canvas::~Canvas() {
  glDeleteFramebuffers(1, &framebuffer_);
  glDeleteTextures(1, &texture_);
}

void Canvas::ensure(int width, int height) {
  if (width == width_ && height == height_) return;
  DW_GL_CHECK(glBindTexture(GL_TEXTURE_2D, texture_));
  DW_GL_CHECK(
      glTexImage2D(GL_TEXTURE_2D, 0, GL_RGBA16F, width, height, 0, GL_RGBA, GL_FLOAT, nullptr));
  DW_GL_CHECK(glBindFramebuffer(GL_FRAMEBUFFER, framebuffer_));
  DW_GL_CHECK(
      glFramebufferTexture2D(GL_FRAMEBUFFER, GL_COLOR_ATTACHMENT0, GL_TEXTURE_2D, texture_, 0));
  const GLenum status = glCheckFramebufferStatus(GL_FRAMEBUFFER);
  if (status != GL_FRAMEBUFFER_COMPLETE)
    throw Error(
        fmt::format("canvas framebuffer {}x{} is incomplete (0x{:x})", width, height, status));
  width_ = width;
  height_ = height;
  spdlog::info("outputs: canvas {}x{}", width, height);
}

void Canvas::bind() const {
  DW_GL_CHECK(glBindFramebuffer(GL_FRAMEBUFFER, framebuffer_));
}

// ---- outputs --------------------------------------------------------------------------------

Outputs::Outputs(Window& main, const Config& config, bool headless)
    : main_(main),
      headless_(headless),
      canvas_w_(config.outputs.canvas_width),
      canvas_h_(config.outputs.canvas_height) {
  main_.make_current();
  program_ = make_output_program();
  const auto& list = config.outputs.outputs;
  for (std::size_t i = 0; i < list.size(); ++i) {
    Target t;
    const OutputConfig& o = list[i];
    DisplayConfig d = config.display;
    d.display_index = o.display;
    d.mode = static_cast<DisplayMode>(o.mode);
    if (o.width > 0) d.width = o.width;
    if (o.height > 0) d.height = o.height;
    if (headless) {
      main_.make_current();
      t.offscreen = std::make_unique<Offscreen>(d.width, d.height);
    } else if (i > 0) {
      main_.make_current();  // the new context shares with the main one
      WindowOptions options;
      options.display_setting = fmt::format("output {}: display", i + 1);
      options.share_with_current = true;
      t.window = std::make_unique<Window>(d, false, options);
      SDL_SetWindowTitle(t.window->sdl(), fmt::format("dreamwindow output {}", i + 1).c_str());
    }
    t.requested = o;
    targets_.push_back(std::move(t));
    const auto [w, h] = target_size(i);
    if (targets_[i].window) targets_[i].window->make_current();
    targets_[i].pass = std::make_unique<OutputPass>(*program_, o, static_cast<int>(i), w, h);
  }
  main_.make_current();
  spdlog::info("outputs: {} output(s){}", list.size(),
               headless ? " (headless: offscreen targets)" : "");
}

Outputs::~Outputs() {
  for (Target& t : targets_) {
    if (t.window) t.window->make_current();
    t.pass.reset();  // its vertex array belongs to its own context
    main_.make_current();
    t.offscreen.reset();
    t.window.reset();
  }
  main_.make_current();
}

std::pair<int, int> Outputs::target_size(std::size_t i) const {
  const Target& t = targets_[i];
  int w = 0, h = 0;
  if (t.offscreen) return {t.offscreen->width(), t.offscreen->height()};
  (t.window ? *t.window : main_).drawable_size(w, h);
  return {w, h};
}

void Outputs::bind_target(std::size_t i) {
  Target& t = targets_[i];
  if (t.window)
    t.window->make_current();
  else
    main_.make_current();
  if (t.offscreen)
    t.offscreen->bind();
  else
    DW_GL_CHECK(glBindFramebuffer(GL_FRAMEBUFFER, 0));
}

namespace {

std::optional<std::string> try_configure(OutputPass& pass, const OutputConfig& o, int w, int h) {
  try {
    pass.configure(o, w, h);
  } catch (const InputError& e) {
    return e.what();
  }
  return std::nullopt;
}

}  // namespace

// A window resized, or the output changed in the live config (calibration moves corners and mesh
// points this way), rebuilds the pass. A setting that does not apply (a folded quad, a mask that
// does not fit the new size) is warned about once; the output keeps running on its last good warp,
// without the mask if the mask is what does not fit. Nothing stops the show.
void Outputs::follow(std::size_t i, const Config& config) {
  Target& t = targets_[i];
  const auto [w, h] = target_size(i);
  if (w <= 0 || h <= 0) return;
  const auto& list = config.outputs.outputs;
  const bool edited = i < list.size() && list[i] != t.requested;
  if (!edited && w == t.pass->width() && h == t.pass->height()) return;
  if (edited) t.requested = list[i];
  const auto err = try_configure(*t.pass, t.requested, w, h);
  if (!err) return;
  OutputConfig without_mask = t.requested;
  without_mask.mask.clear();
  if (!try_configure(*t.pass, without_mask, w, h)) {
    spdlog::warn("{}; it runs without its mask", *err);
    return;
  }
  OutputConfig last = t.pass->output();
  last.mask.clear();
  if (try_configure(*t.pass, last, w, h)) t.pass->configure(OutputConfig{}, w, h);
  spdlog::warn("{}; it keeps its previous setting", *err);
}

std::pair<int, int> Outputs::draw(Presenter& presenter, const Config& config, double light) {
  main_.make_current();
  int cw = canvas_w_ > 0 ? canvas_w_ : presenter.frame_width();
  int ch = canvas_h_ > 0 ? canvas_h_ : presenter.frame_height();
  if (cw <= 0 || ch <= 0) std::tie(cw, ch) = target_size(0);
  canvas_.ensure(cw, ch);
  canvas_.bind();
  presenter.draw(cw, ch, config, DrawTweaks{1.0, false});  // dithered per output, after gamma
  if (paint_canvas) paint_canvas(cw, ch);
  GLsync fence = nullptr;
  if (targets_.size() > 1 && !headless_) {
    fence = glFenceSync(GL_SYNC_GPU_COMMANDS_COMPLETE, 0);
    DW_GL_CHECK(glFlush());  // the fence must reach the GPU before another context waits on it
  }
  // Output 1 last: its target stays bound in the main context.
  for (std::size_t k = targets_.size(); k-- > 0;) {
    bind_target(k);
    if (fence && targets_[k].window) DW_GL_CHECK(glWaitSync(fence, 0, GL_TIMEOUT_IGNORED));
    follow(k, config);
    targets_[k].pass->draw(canvas_.texture(), light, config.display.dither);
    if (paint_output) paint_output(k, targets_[k].pass->width(), targets_[k].pass->height());
  }
  if (fence) glDeleteSync(fence);
  return target_size(0);
}

std::optional<std::size_t> Outputs::output_of_window(std::uint32_t window_id) const {
  for (std::size_t i = 0; i < targets_.size(); ++i) {
    const Window& w = targets_[i].window ? *targets_[i].window : main_;
    if (SDL_GetWindowID(w.sdl()) == window_id) return i;
  }
  return std::nullopt;
}

bool output_waits_for_vsync(double output_refresh_ms, double main_refresh_ms, bool vsync,
                            bool matched) {
  return vsync && matched && output_refresh_ms > 0 && main_refresh_ms > 0 &&
         std::abs(output_refresh_ms - main_refresh_ms) <= 0.02 * main_refresh_ms;
}

void Outputs::swap_others(const Config& config) {
  const double main_ms = main_.refresh_ms();
  for (std::size_t i = 0; i < targets_.size(); ++i) {
    Target& t = targets_[i];
    if (!t.window) continue;
    t.window->make_current();
    const double ms = t.window->refresh_ms();
    const bool waits =
        output_waits_for_vsync(ms, main_ms, config.display.vsync, config.outputs.vsync_matched);
    if (t.waits_for_vsync != waits) {
      if (t.window->set_vsync(waits))
        spdlog::info("render: output {} {} ({:.2f} Hz, the main display {:.2f} Hz)", i + 1,
                     waits ? "waits for vsync" : "swaps without waiting for vsync", 1000.0 / ms,
                     1000.0 / main_ms);
      t.waits_for_vsync = waits;
    }
    t.window->swap();
  }
  main_.make_current();
}

std::vector<Image> Outputs::capture() {
  std::vector<Image> out;
  for (std::size_t i = 0; i < targets_.size(); ++i) {
    bind_target(i);
    const auto [w, h] = target_size(i);
    out.push_back(read_framebuffer(w, h));
  }
  bind_target(0);
  return out;
}

Image Outputs::capture_canvas() {
  main_.make_current();
  canvas_.bind();
  Image img = read_framebuffer(canvas_.width(), canvas_.height());
  bind_target(0);
  return img;
}

}  // namespace dw::render
