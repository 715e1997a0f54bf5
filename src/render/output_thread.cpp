#include "render/output_thread.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <exception>
#include <utility>

#include "render/offscreen.h"

namespace dw::render {

OutputThread::OutputThread(Window& window, const OutputConfig& output, int index,
                           CanvasSlots& canvases)
    : window_(window), index_(index), canvases_(canvases), requested_(output) {
  int w = 0, h = 0;
  window_.drawable_size(w, h);
  program_ = make_output_program();
  pass_ = make_output_pass(*program_, output, index, w, h, window_.on_its_display());
  painter_ = std::make_unique<MarksPainter>();
  order_.output = output;
  order_.width = w;
  order_.height = h;
}

OutputThread::~OutputThread() {
  if (thread_.joinable()) {
    thread_.request_stop();
    thread_.join();
  }
  window_.make_current();
  painter_.reset();
  pass_.reset();
  program_.reset();
}

void OutputThread::start() {
  thread_ = std::jthread([this](std::stop_token stop) { run(std::move(stop)); });
}

void OutputThread::submit(OutputOrder order) {
  {
    std::lock_guard lock(mutex_);
    order_ = std::move(order);
    ++orders_;
  }
  wake_.notify_one();
}

std::optional<Image> OutputThread::capture(std::chrono::milliseconds deadline) {
  auto promise = std::make_shared<std::promise<Image>>();
  std::future<Image> picture = promise->get_future();
  {
    std::lock_guard lock(mutex_);
    capture_ = promise;
  }
  wake_.notify_one();
  if (picture.wait_for(deadline) != std::future_status::ready) {
    spdlog::warn("outputs: output {} drew nothing within {} ms to capture", index_ + 1,
                 deadline.count());
    return std::nullopt;
  }
  return picture.get();
}

void OutputThread::set_before_swap(std::function<void()> hook) {
  std::lock_guard lock(mutex_);
  before_swap_ = std::move(hook);
}

OutputThreadStats OutputThread::stats() const {
  const auto now = std::chrono::steady_clock::now().time_since_epoch();
  const auto last = std::chrono::nanoseconds(last_swap_ns_.load(std::memory_order_relaxed));
  const bool stalled = now - last > std::chrono::seconds(1);
  return {presented_.load(std::memory_order_relaxed), skipped_.load(std::memory_order_relaxed),
          stalled ? 0.0 : fps_.load(std::memory_order_relaxed), true};
}

void OutputThread::run(std::stop_token stop) {
  SDL_GL_MakeCurrent(window_.sdl(), window_.gl_context());
  spdlog::info("render: output {} draws on its own thread", index_ + 1);
  while (true) {
    OutputOrder order;
    std::shared_ptr<std::promise<Image>> capture;
    std::function<void()> before_swap;
    {
      std::unique_lock lock(mutex_);
      wake_.wait(lock, stop, [&] { return orders_ != orders_taken_ || capture_; });
      if (stop.stop_requested()) break;
      order = order_;
      orders_taken_ = orders_;
      capture = std::move(capture_);
      before_swap = before_swap_;
    }
    try {
      draw(order, capture, before_swap);
    } catch (const std::exception& e) {
      // A GL error in checked builds: said once per kind; the output tries again next order.
      if (e.what() != last_error_) spdlog::error("render: output {}: {}", index_ + 1, e.what());
      last_error_ = e.what();
    }
    if (capture) capture->set_value(Image{});  // not drawn: the caller gets an empty picture
  }
  glFinish();
  SDL_GL_MakeCurrent(window_.sdl(), nullptr);  // the destructor takes the context back
  SDL_TLSCleanup();  // SDL keeps the current window and context per thread; not ours to keep
}

void OutputThread::draw(const OutputOrder& order, std::shared_ptr<std::promise<Image>>& capture,
                        const std::function<void()>& before_swap) {
  const CanvasSlots::Read read = canvases_.acquire();
  if (!read.canvas) return;  // nothing published yet
  {
    // Given back as soon as the commands that read it are issued (or one of them threw).
    struct Release {
      CanvasSlots& canvases;
      const CanvasSlots::Read& read;
      ~Release() { canvases.release(read); }
    } release{canvases_, read};
    if (vsync_ != order.vsync) {
      if (window_.set_vsync(order.vsync))
        spdlog::info("render: output {} {} ({:.2f} Hz)", index_ + 1,
                     order.vsync ? "waits for its own display's vsync" : "swaps without vsync",
                     order.refresh_ms > 0 ? 1000.0 / order.refresh_ms : 0.0);
      vsync_ = order.vsync;
    }
    follow_output(*pass_, requested_, order.output, order.width, order.height);
    DW_GL_CHECK(glBindFramebuffer(GL_FRAMEBUFFER, 0));
    pass_->draw(read.canvas->texture(), order.light, order.dither);
    if (!order.marks.empty()) painter_->draw(order.marks, pass_->width(), pass_->height());
  }
  if (capture) {
    capture->set_value(read_framebuffer(pass_->width(), pass_->height()));
    capture.reset();  // answered
  }
  if (shown_generation_ > 0 && read.generation > shown_generation_ + 1)
    skipped_.fetch_add(read.generation - shown_generation_ - 1, std::memory_order_relaxed);
  shown_generation_ = std::max(shown_generation_, read.generation);
  if (before_swap) before_swap();
  window_.swap();
  const std::uint64_t presented = presented_.fetch_add(1, std::memory_order_relaxed) + 1;
  const auto now = std::chrono::steady_clock::now();
  last_swap_ns_.store(
      std::chrono::duration_cast<std::chrono::nanoseconds>(now.time_since_epoch()).count(),
      std::memory_order_relaxed);
  const double elapsed = std::chrono::duration<double>(now - window_start_).count();
  if (window_presented_ == 0 || elapsed > 10) {  // the first swap, or after a long stall
    window_start_ = now;
    window_presented_ = presented;
    return;
  }
  const double rate = static_cast<double>(presented - window_presented_) / elapsed;
  if (elapsed >= 1.0) {
    fps_.store(rate, std::memory_order_relaxed);
    window_start_ = now;
    window_presented_ = presented;
  } else if (fps_.load(std::memory_order_relaxed) == 0 && presented - window_presented_ >= 3) {
    fps_.store(rate, std::memory_order_relaxed);  // a first estimate before the first second
  }
}

}  // namespace dw::render
