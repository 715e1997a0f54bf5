#include "render/canvas_slots.h"

#include <spdlog/spdlog.h>

#include "core/error.h"

namespace dw::render {

CanvasSlots::CanvasSlots(std::size_t readers) : slots_(readers == 0 ? 1 : readers + 2) {
  for (Slot& s : slots_) s.canvas = std::make_unique<Canvas>(0, 0, TargetFormat::Rgba16f);
}

CanvasSlots::~CanvasSlots() {
  for (Slot& s : slots_) {
    if (s.drawn) glDeleteSync(s.drawn);
    for (GLsync f : s.reads) glDeleteSync(f);
  }
}

Canvas& CanvasSlots::begin_write(int width, int height) {
  {
    std::lock_guard lock(mutex_);
    // The next canvas after the one last written that no reader holds and that is not the
    // latest: with readers + 2 canvases and each reader holding at most one, there is one.
    std::size_t pick = SIZE_MAX;
    for (std::size_t k = 1; k <= slots_.size() && pick == SIZE_MAX; ++k) {
      const std::size_t i = (writing_ + k) % slots_.size();
      if (slots_[i].readers == 0 && (i != latest_ || slots_.size() == 1)) pick = i;
    }
    if (pick == SIZE_MAX) throw Error("canvas: every canvas is held by an output (a bug)");
    writing_ = pick;
    // No reader can take this canvas before it is published again: its fences are the main
    // thread's to wait on (on the GPU: no CPU wait under the lock) and delete, in place, so the
    // vector keeps its storage from frame to frame.
    Slot& s = slots_[pick];
    for (GLsync f : s.reads) {
      glWaitSync(f, 0, GL_TIMEOUT_IGNORED);
      glDeleteSync(f);
    }
    s.reads.clear();
    if (s.drawn) glDeleteSync(s.drawn);
    s.drawn = nullptr;
  }
  Canvas& canvas = *slots_[writing_].canvas;
  if (width != width_ || height != height_) spdlog::info("outputs: canvas {}x{}", width, height);
  width_ = width;
  height_ = height;
  canvas.resize(width, height);
  canvas.bind();
  return canvas;
}

void CanvasSlots::publish() {
  GLsync drawn = nullptr;
  if (fenced()) {
    drawn = glFenceSync(GL_SYNC_GPU_COMMANDS_COMPLETE, 0);
    DW_GL_CHECK(glFlush());  // the fence must reach the GPU before another context waits on it
  }
  std::lock_guard lock(mutex_);
  Slot& s = slots_[writing_];
  s.drawn = drawn;
  s.generation = ++generation_;
  latest_ = writing_;
}

CanvasSlots::Read CanvasSlots::acquire() {
  Read read;
  GLsync drawn = nullptr;
  {
    std::lock_guard lock(mutex_);
    if (latest_ == SIZE_MAX) return read;
    Slot& s = slots_[latest_];
    ++s.readers;
    read = Read{s.canvas.get(), s.generation, latest_};
    drawn = s.drawn;  // not deleted while held
  }
  if (drawn) glWaitSync(drawn, 0, GL_TIMEOUT_IGNORED);  // no throw while held
  return read;
}

void CanvasSlots::release(const Read& read) {
  if (!read.canvas) return;
  GLsync done = nullptr;
  if (fenced()) {
    done = glFenceSync(GL_SYNC_GPU_COMMANDS_COMPLETE, 0);
    glFlush();  // no throw while held
  }
  std::lock_guard lock(mutex_);
  Slot& s = slots_[read.slot];
  if (done) s.reads.push_back(done);
  --s.readers;
}

}  // namespace dw::render
