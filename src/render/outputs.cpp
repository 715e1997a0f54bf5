#include "render/outputs.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
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
  const auto& list = config.outputs.outputs;
  if (!list.empty()) options.display_setting = "output 1: display";
  // A projector switched on after the computer: output 1 waits for its display. Alone, it shows
  // on display 0 meanwhile. Beside other outputs it waits hidden, at the start and whenever its
  // display goes away: the desktop would put it over another output's picture (display 0, or the
  // one that is left when output 1's own went).
  options.wait_for_display = true;
  options.hide_while_away = list.size() > 1;
  return options;
}

// ---- outputs --------------------------------------------------------------------------------

Outputs::Outputs(Window& main, const Config& config, bool headless)
    : main_(main),
      headless_(headless),
      canvas_w_(config.outputs.canvas_width),
      canvas_h_(config.outputs.canvas_height) {
  try {
    open(config, headless);
  } catch (...) {
    close();  // each target's GL objects go with their own context current, as when stopping
    throw;
  }
  spdlog::info("outputs: {} output(s){}", config.outputs.outputs.size(),
               headless ? " (headless: offscreen targets)" : "");
}

void Outputs::open(const Config& config, bool headless) {
  main_.make_current();
  program_ = make_output_program();
  const auto& list = config.outputs.outputs;
  const std::size_t threads = headless || list.empty() ? 0 : list.size() - 1;
  canvases_ = std::make_unique<CanvasSlots>(threads);
  for (std::size_t i = 0; i < list.size(); ++i) {
    Target t;
    const OutputConfig& o = list[i];
    DisplayConfig d = config.display;
    d.display_index = o.display;
    d.mode = static_cast<DisplayMode>(o.mode);
    if (o.width > 0) d.width = o.width;
    if (o.height > 0) d.height = o.height;
    t.requested = o;
    main_.make_current();
    if (headless) {
      t.offscreen = std::make_unique<Offscreen>(d.width, d.height);
    } else if (i > 0) {
      WindowOptions options;  // the new context shares with the main one, current here
      options.display_setting = fmt::format("output {}: display", i + 1);
      options.share_with_current = true;
      options.wait_for_display = true;
      options.hide_while_away = true;
      t.window = std::make_unique<Window>(d, false, options);
      SDL_SetWindowTitle(t.window->sdl(), fmt::format("dreamwindow output {}", i + 1).c_str());
      t.window->make_current();
      t.thread = std::make_unique<OutputThread>(*t.window, o, static_cast<int>(i), *canvases_);
    }
    Target& added = targets_.emplace_back(std::move(t));
    if (added.thread) continue;
    const auto [w, h] = target_size(i);  // output 1's window or an offscreen target: main context
    added.pass = make_output_pass(*program_, o, static_cast<int>(i), w, h,
                                  headless || main_.on_its_display());
    added.painter = std::make_unique<MarksPainter>();
  }
  main_.make_current();  // every window's context is free now: the threads take theirs
  for (Target& t : targets_)
    if (t.thread) t.thread->start();
}

Outputs::~Outputs() {
  close();
}

void Outputs::close() noexcept {
  for (Target& t : targets_) {
    t.thread.reset();  // stopped, its GL objects deleted with its window's context current
    main_.make_current();
    t.painter.reset();
    t.pass.reset();
    t.offscreen.reset();
    t.window.reset();
  }
  targets_.clear();
  main_.make_current();
  canvases_.reset();
  program_.reset();
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

std::pair<int, int> Outputs::draw(Presenter& presenter, const Config& config, double light) {
  main_.make_current();
  int cw = canvas_w_ > 0 ? canvas_w_ : presenter.frame_width();
  int ch = canvas_h_ > 0 ? canvas_h_ : presenter.frame_height();
  if (cw <= 0 || ch <= 0) std::tie(cw, ch) = target_size(0);
  const Canvas& canvas = canvases_->begin_write(cw, ch);
  presenter.draw(cw, ch, config, DrawTweaks{1.0, false});  // dithered per output, after gamma
  if (paint_canvas) paint_canvas(cw, ch);
  canvases_->publish();
  const auto& list = config.outputs.outputs;
  for (std::size_t k = 0; k < targets_.size(); ++k) {
    Target& t = targets_[k];
    if (!t.thread) continue;
    OutputOrder order;
    order.output = k < list.size() ? list[k] : t.requested;
    std::tie(order.width, order.height) = target_size(k);
    order.light = light;
    order.dither = config.display.dither;
    order.vsync = config.display.vsync;
    order.refresh_ms = t.window->refresh_ms();
    if (output_marks) order.marks = output_marks(k, order.width, order.height);
    t.thread->submit(std::move(order));
  }
  // Output 1 last: its target stays bound in the main context.
  for (std::size_t k = targets_.size(); k-- > 0;) {
    Target& t = targets_[k];
    if (t.thread) continue;
    bind_target(k);
    const auto [w, h] = target_size(k);
    follow_output(*t.pass, t.requested, k < list.size() ? list[k] : t.requested, w, h);
    t.pass->draw(canvas.texture(), light, config.display.dither);
    if (output_marks)
      t.painter->draw(output_marks(k, t.pass->width(), t.pass->height()), t.pass->width(),
                      t.pass->height());
  }
  draws_.fetch_add(1, std::memory_order_relaxed);
  return target_size(0);
}

std::vector<OutputThreadStats> Outputs::stats() const {
  std::vector<OutputThreadStats> out;
  for (const Target& t : targets_) {
    out.push_back(t.thread
                      ? t.thread->stats()
                      : OutputThreadStats{draws_.load(std::memory_order_relaxed), 0, 0, false});
    out.back().on_display = (t.window ? *t.window : main_).on_its_display();
  }
  return out;
}

void Outputs::follow_displays() {
  for (Target& t : targets_)
    if (t.window) t.window->follow_display();
}

bool Outputs::on_their_displays() const {
  return std::ranges::all_of(
      targets_, [](const Target& t) { return !t.window || t.window->on_its_display(); });
}

std::uint64_t Outputs::display_moves() const {
  std::uint64_t moves = 0;
  for (const Target& t : targets_)
    if (t.window) moves += t.window->display_moves();
  return moves;
}

std::optional<std::size_t> Outputs::output_of_window(std::uint32_t window_id) const {
  for (std::size_t i = 0; i < targets_.size(); ++i) {
    const Window& w = targets_[i].window ? *targets_[i].window : main_;
    if (SDL_GetWindowID(w.sdl()) == window_id) return i;
  }
  return std::nullopt;
}

std::vector<Image> Outputs::capture() {
  std::vector<Image> out;
  for (std::size_t i = 0; i < targets_.size(); ++i) {
    const auto [w, h] = target_size(i);
    if (targets_[i].thread) {
      std::optional<Image> picture = targets_[i].thread->capture(std::chrono::seconds(5));
      out.push_back(picture && !picture->empty() ? std::move(*picture) : Image(w, h));
      continue;
    }
    bind_target(i);
    out.push_back(read_framebuffer(w, h));
  }
  bind_target(0);
  return out;
}

Image Outputs::capture_canvas() {
  main_.make_current();
  const Canvas& canvas = canvases_->current();
  canvas.bind();
  Image img = read_framebuffer(canvas.width(), canvas.height());
  bind_target(0);
  return img;
}

}  // namespace dw::render
