#include "render/canvas_capture.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <cstring>

namespace dw::render {
namespace {

constexpr GLuint64 kFlushWaitNs = 2'000'000'000;  // at the end of a run only

}  // namespace

CanvasCapture::CanvasCapture(CanvasSink& sink, int buffers)
    : sink_(sink), slots_(static_cast<std::size_t>(std::max(2, buffers))) {
  for (Slot& s : slots_) DW_GL_CHECK(glGenBuffers(1, &s.buffer));
}

CanvasCapture::~CanvasCapture() {
  for (Slot& s : slots_) {
    if (s.fence) glDeleteSync(s.fence);
    glDeleteBuffers(1, &s.buffer);
  }
}

CanvasCapture::Slot* CanvasCapture::free_slot() {
  for (Slot& s : slots_)
    if (!s.fence) return &s;
  return nullptr;
}

void CanvasCapture::after_draw(int width, int height, double dt) {
  const auto start = std::chrono::steady_clock::now();
  ++calls_;
  t_ += dt;
  deliver_ready(false);
  const auto delivered = std::chrono::steady_clock::now();
  stats_.total_deliver_ms += std::chrono::duration<double, std::milli>(delivered - start).count();
  const CanvasWants wants = sink_.wants(t_);
  if (wants.any()) {
    Slot* slot = free_slot();
    if (!slot) {
      ++stats_.missed;
      sink_.missed(wants);
    } else {
      const std::size_t bytes = static_cast<std::size_t>(width) * height * 4;
      DW_GL_CHECK(glBindBuffer(GL_PIXEL_PACK_BUFFER, slot->buffer));
      if (slot->capacity != bytes) {
        slot->capacity = 0;  // until the allocation below succeeds
        DW_GL_ALLOC(glBufferData(GL_PIXEL_PACK_BUFFER, static_cast<GLsizeiptr>(bytes), nullptr,
                                 GL_STREAM_READ));
        slot->capacity = bytes;
      }
      DW_GL_CHECK(glPixelStorei(GL_PACK_ALIGNMENT, 4));
      DW_GL_CHECK(glReadPixels(0, 0, width, height, GL_RGBA, GL_UNSIGNED_BYTE, nullptr));
      DW_GL_CHECK(glBindBuffer(GL_PIXEL_PACK_BUFFER, 0));
      slot->fence = glFenceSync(GL_SYNC_GPU_COMMANDS_COMPLETE, 0);
      slot->width = width;
      slot->height = height;
      slot->t = t_;
      slot->wants = wants;
      slot->order = next_order_++;
      ++stats_.reads;
    }
  }
  const auto end = std::chrono::steady_clock::now();
  stats_.total_read_ms += std::chrono::duration<double, std::milli>(end - delivered).count();
  const double ms = std::chrono::duration<double, std::milli>(end - start).count();
  stats_.max_call_ms = std::max(stats_.max_call_ms, ms);
  stats_.total_call_ms += ms;
}

// Hands over, oldest first, every read-back whose fence has passed (or, with `wait`, all of them).
void CanvasCapture::deliver_ready(bool wait) {
  for (;;) {
    Slot* oldest = nullptr;
    for (Slot& s : slots_)
      if (s.fence && (!oldest || s.order < oldest->order)) oldest = &s;
    if (!oldest) return;
    const GLenum state = glClientWaitSync(oldest->fence, wait ? GL_SYNC_FLUSH_COMMANDS_BIT : 0,
                                          wait ? kFlushWaitNs : 0);
    if (state == GL_TIMEOUT_EXPIRED || state == GL_WAIT_FAILED) {
      if (!wait) return;
      // A GPU that did not finish in time at the end of a run: give the slot up.
      glDeleteSync(oldest->fence);
      oldest->fence = nullptr;
      ++stats_.missed;
      sink_.missed(oldest->wants);
      continue;
    }
    deliver(*oldest);
  }
}

void CanvasCapture::deliver(Slot& slot) {
  glDeleteSync(slot.fence);
  slot.fence = nullptr;
  const std::size_t row = static_cast<std::size_t>(slot.width) * 4;
  const std::size_t bytes = row * slot.height;
  CanvasFrame frame;
  frame.width = slot.width;
  frame.height = slot.height;
  frame.t = slot.t;
  frame.wants = slot.wants;
  frame.rgba = sink_.buffer(bytes);
  DW_GL_CHECK(glBindBuffer(GL_PIXEL_PACK_BUFFER, slot.buffer));
  const auto* pixels = static_cast<const std::uint8_t*>(
      glMapBufferRange(GL_PIXEL_PACK_BUFFER, 0, static_cast<GLsizeiptr>(bytes), GL_MAP_READ_BIT));
  if (!pixels) {
    DW_GL_CHECK(glBindBuffer(GL_PIXEL_PACK_BUFFER, 0));
    ++stats_.missed;
    sink_.missed(slot.wants);
    return;
  }
  // GL's rows start at the bottom; images start at the top.
  for (int y = 0; y < slot.height; ++y)
    std::memcpy(frame.rgba.data() + y * row, pixels + (slot.height - 1 - y) * row, row);
  glUnmapBuffer(GL_PIXEL_PACK_BUFFER);
  DW_GL_CHECK(glBindBuffer(GL_PIXEL_PACK_BUFFER, 0));
  ++stats_.delivered;
  sink_.take(std::move(frame));
}

void CanvasCapture::flush() {
  deliver_ready(true);
  if (stats_.reads == 0) return;
  const double n = static_cast<double>(std::max<std::uint64_t>(1, calls_));
  spdlog::info(
      "canvas read-back: {} frames read, {} missed; render-thread time per frame mean {:.3f} ms, "
      "max {:.3f} ms (starting reads {:.3f} ms, handing over {:.3f} ms)",
      stats_.reads, stats_.missed, stats_.total_call_ms / n, stats_.max_call_ms,
      stats_.total_read_ms / n, stats_.total_deliver_ms / n);
}

}  // namespace dw::render
