#include "render/presenter.h"

#include <algorithm>
#include <cmath>

namespace dw::render {

QuadScale fit_scale(FitMode fit, int image_w, int image_h, int view_w, int view_h) {
  if (fit == FitMode::Stretch || image_w <= 0 || image_h <= 0 || view_w <= 0 || view_h <= 0)
    return {};
  const double image_aspect = static_cast<double>(image_w) / image_h;
  const double view_aspect = static_cast<double>(view_w) / view_h;
  const double ratio = image_aspect / view_aspect;  // > 1: the image is wider than the view
  const bool wider = ratio > 1.0;
  if (fit == FitMode::Contain)
    return wider ? QuadScale{1.0f, static_cast<float>(1.0 / ratio)}
                 : QuadScale{static_cast<float>(ratio), 1.0f};
  return wider ? QuadScale{static_cast<float>(ratio), 1.0f}
               : QuadScale{1.0f, static_cast<float>(1.0 / ratio)};
}

Presenter::Presenter(FrameRing<Frame>& ring, std::unique_ptr<FrameUploader> uploader)
    : ring_(ring),
      uploader_(std::move(uploader)),
      program_(shader_dir() / "present.vert", shader_dir() / "present.frag") {
  DW_GL_CHECK(glGenVertexArrays(1, &vertex_array_));
  for (Slot& s : slots_) {
    DW_GL_CHECK(glGenTextures(1, &s.texture));
    DW_GL_CHECK(glBindTexture(GL_TEXTURE_2D, s.texture));
    DW_GL_CHECK(glTexParameteri(GL_TEXTURE_2D, GL_TEXTURE_MIN_FILTER, GL_LINEAR));
    DW_GL_CHECK(glTexParameteri(GL_TEXTURE_2D, GL_TEXTURE_MAG_FILTER, GL_LINEAR));
    DW_GL_CHECK(glTexParameteri(GL_TEXTURE_2D, GL_TEXTURE_WRAP_S, GL_CLAMP_TO_EDGE));
    DW_GL_CHECK(glTexParameteri(GL_TEXTURE_2D, GL_TEXTURE_WRAP_T, GL_CLAMP_TO_EDGE));
  }
}

Presenter::~Presenter() {
  for (Slot& s : slots_) glDeleteTextures(1, &s.texture);
  glDeleteVertexArrays(1, &vertex_array_);
}

bool Presenter::take_into(Slot& slot) {
  Frame* frame = ring_.peek();
  if (frame == nullptr) return false;
  if (frame->width <= 0 || frame->height <= 0) {
    ring_.pop();  // an empty slot carries nothing to show
    return false;
  }
  if (frame->width != slot.width || frame->height != slot.height) {
    // Storage is allocated once per size, not per frame. A CUDA registration of the texture is
    // released first: GL refuses to re-specify a texture that CUDA holds.
    uploader_->release_storage(slot.texture);
    DW_GL_CHECK(glBindTexture(GL_TEXTURE_2D, slot.texture));
    DW_GL_CHECK(glTexImage2D(GL_TEXTURE_2D, 0, GL_RGBA8, frame->width, frame->height, 0, GL_RGBA,
                             GL_UNSIGNED_BYTE, nullptr));
    slot.width = frame->width;
    slot.height = frame->height;
  }
  uploader_->upload(*frame, slot.texture);
  slot.info = frame->info;
  slot.valid = true;
  ring_.pop();  // the pixels live in the texture now; the slot goes back to the producer
  return true;
}

void Presenter::update(double dt, const Config& config) {
  Slot* current = &slots_[current_];
  Slot* next = &slots_[1 - current_];
  if (!current->valid && take_into(*current)) {
    ++stats_.content_frames_shown;
  }
  if (current->valid && !next->valid) take_into(*next);

  const double fps = config.display.content_fps;
  ClockInputs in;
  in.dt = dt;
  in.content_fps = fps;
  in.buffered = ring_.size();
  // The ring may be smaller than the configured buffer: a full ring counts as enough.
  const std::size_t usable = std::max<std::size_t>(1, ring_.capacity() / 2);
  in.start_frames = std::min<std::size_t>(
      usable, static_cast<std::size_t>(std::ceil(config.playback.min_buffer_s * fps)));
  in.target_frames = std::min<std::size_t>(
      usable, static_cast<std::size_t>(std::ceil(config.playback.target_buffer_s * fps)));
  in.min_rate = config.playback.min_rate;
  in.max_rate = config.playback.max_rate;
  in.has_next = next->valid;
  int steps = clock_.advance(in);
  while (steps-- > 0 && next->valid) {
    current->valid = false;
    current_ = 1 - current_;
    std::swap(current, next);
    ++stats_.content_frames_shown;
    take_into(*next);
  }
  stats_.has_frame = current->valid;
  stats_.current_sequence = current->info.sequence;
  stats_.current_keyframe = current->info.keyframe_index;
  stats_.playing = clock_.playing();
  stats_.blend = next->valid ? clock_.blend() : 0.0;
  stats_.rate_factor = clock_.rate_factor();
}

void Presenter::draw(int view_w, int view_h, const Config& config) {
  DW_GL_CHECK(glViewport(0, 0, view_w, view_h));
  DW_GL_CHECK(glClearColor(0, 0, 0, 1));
  DW_GL_CHECK(glClear(GL_COLOR_BUFFER_BIT));
  const Slot& a = slots_[current_];
  if (!a.valid) return;
  const Slot& b = slots_[1 - current_].valid ? slots_[1 - current_] : a;
  const QuadScale scale = fit_scale(config.display.fit, a.width, a.height, view_w, view_h);
  DW_GL_CHECK(glUseProgram(program_.id()));
  DW_GL_CHECK(glUniform2f(program_.uniform("scale"), scale.x, scale.y));
  DW_GL_CHECK(glUniform1f(program_.uniform("blend"), static_cast<float>(stats_.blend)));
  DW_GL_CHECK(
      glUniform1f(program_.uniform("brightness"), static_cast<float>(config.display.brightness)));
  DW_GL_CHECK(glUniform1f(program_.uniform("inverse_gamma"),
                          static_cast<float>(1.0 / config.display.gamma)));
  DW_GL_CHECK(glUniform1i(program_.uniform("dither"), config.display.dither ? 1 : 0));
  DW_GL_CHECK(glUniform1i(program_.uniform("frame_a"), 0));
  DW_GL_CHECK(glUniform1i(program_.uniform("frame_b"), 1));
  DW_GL_CHECK(glActiveTexture(GL_TEXTURE0));
  DW_GL_CHECK(glBindTexture(GL_TEXTURE_2D, a.texture));
  DW_GL_CHECK(glActiveTexture(GL_TEXTURE1));
  DW_GL_CHECK(glBindTexture(GL_TEXTURE_2D, b.texture));
  DW_GL_CHECK(glBindVertexArray(vertex_array_));
  DW_GL_CHECK(glDrawArrays(GL_TRIANGLE_STRIP, 0, 4));
  DW_GL_CHECK(glBindVertexArray(0));
  DW_GL_CHECK(glActiveTexture(GL_TEXTURE0));
}

}  // namespace dw::render
