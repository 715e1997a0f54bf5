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
  // A texture's CUDA registration goes before the texture does (frame_uploader.h).
  for (Slot& s : slots_) {
    uploader_->release_storage(s.texture);
    glDeleteTextures(1, &s.texture);
  }
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
    // A failed allocation throws with the frame left in the ring and the slot's size unknown:
    // the turn counts as failed, and the next one allocates again.
    uploader_->release_storage(slot.texture);
    slot.width = slot.height = 0;
    DW_GL_CHECK(glBindTexture(GL_TEXTURE_2D, slot.texture));
    DW_GL_ALLOC(glTexImage2D(GL_TEXTURE_2D, 0, GL_RGBA8, frame->width, frame->height, 0, GL_RGBA,
                             GL_UNSIGNED_BYTE, nullptr));
    slot.width = frame->width;
    slot.height = frame->height;
  }
  uploader_->upload(*frame, slot.texture);
  ++stats_.content_uploads;
  slot.info = frame->info;
  slot.valid = true;
  ring_.pop();  // the pixels live in the texture now; the slot goes back to the producer
  return true;
}

int Presenter::free_slot() const {
  int fallback = -1;
  for (int i = 0; i < static_cast<int>(slots_.size()); ++i) {
    if (i == current_ || i == previous_) continue;
    if (!slots_[i].valid) return i;
    fallback = i;
  }
  return fallback;
}

void Presenter::step_forward() {
  const int old_current = current_;
  current_ = next_;
  if (idle_.view().envelope > 0 && slots_[previous_].valid) {
    // The ping-pong partner is still on screen (fading out): keep it, drop the old frame k.
    slots_[old_current].valid = false;
  } else {
    slots_[previous_].valid = false;
    previous_ = old_current;
  }
  next_ = free_slot();
  slots_[next_].valid = false;
}

void Presenter::update(double dt, const Config& config) {
  // Frames that reached the ring since the last update (only this thread pops).
  const std::size_t in_ring = ring_.size();
  supply_.add(dt, in_ring > last_ring_size_ ? in_ring - last_ring_size_ : 0);
  if (!slots_[current_].valid && take_into(slots_[current_])) ++stats_.content_frames_shown;
  if (slots_[current_].valid && !slots_[next_].valid) take_into(slots_[next_]);

  // A turn that took long (a swap that blocked while a display re-trained, a driver's hiccup) is
  // not made up for: the clock would owe every frame of it at once, each uploaded in this one
  // turn and only the last shown, the picture jumping ahead and the buffer gone. The picture goes
  // on from where it was instead; the supply meter still sees the real time.
  const double step = std::min(dt, kMaxStepSeconds);
  const double fps = config.display.content_fps;
  const BufferLevels levels = buffer_levels(config.playback.min_buffer_s,
                                            config.playback.target_buffer_s, fps, ring_.capacity());
  ClockInputs in;
  in.dt = step;
  in.content_fps = fps;
  in.buffered = ring_.size();
  in.start_frames = levels.start_frames;
  in.target_frames = levels.target_frames;
  if (supply_.known()) {
    // A slow producer: start once the buffer holds min_buffer_s of what it delivers.
    in.supply_fps = supply_.fps();
    in.start_frames = std::min<std::size_t>(
        in.start_frames,
        static_cast<std::size_t>(std::ceil(config.playback.min_buffer_s * supply_.fps())));
  }
  in.min_rate = config.playback.min_rate;
  in.max_rate = config.playback.max_rate;
  in.has_next = slots_[next_].valid;
  int steps = clock_.advance(in);
  while (steps-- > 0 && slots_[next_].valid) {
    step_forward();
    ++stats_.content_frames_shown;
    take_into(slots_[next_]);
  }
  last_ring_size_ = ring_.size();

  const Slot& current = slots_[current_];
  const bool idle = current.valid && (!clock_.playing() || !slots_[next_].valid);
  if (idle && !stats_.idle && clock_.playing()) ++stats_.idle_spells;
  // A pair whose keyframes look the same would stand still while it plays: it gets the same
  // motion as an idle picture.
  const bool still = current.valid && !idle && current.info.still;
  idle_.advance(step, idle || still);
  stats_.idle = idle;
  stats_.still = still;
  stats_.idle_envelope = idle_.view().envelope;
  stats_.has_frame = current.valid;
  stats_.current_sequence = current.info.sequence;
  stats_.current_keyframe = current.info.keyframe_index;
  stats_.playing = clock_.playing();
  stats_.blend = slots_[next_].valid ? clock_.blend() : 0.0;
  stats_.rate_factor = clock_.rate_factor();
  stats_.supply_fps = supply_.known() ? supply_.fps() : 0.0;
  stats_.target_frames = levels.target_frames;
}

void Presenter::draw(int view_w, int view_h, const Config& config, const DrawTweaks& tweaks) {
  DW_GL_CHECK(glViewport(0, 0, view_w, view_h));
  DW_GL_CHECK(glClearColor(0, 0, 0, 1));
  DW_GL_CHECK(glClear(GL_COLOR_BUFFER_BIT));
  const Slot& a = slots_[current_];
  if (!a.valid) return;
  const Slot& b = slots_[next_].valid ? slots_[next_] : a;
  const Slot& c = slots_[previous_].valid ? slots_[previous_] : a;
  const double k = config.display.idle_motion;  // the operator's scale of the idle motion
  const IdleView& v = idle_.view();
  const IdleView idle{1 + (v.zoom - 1) * k, v.dx * k, v.dy * k, v.echo * k, v.envelope};
  const QuadScale scale = fit_scale(config.display.fit, a.width, a.height, view_w, view_h);
  DW_GL_CHECK(glUseProgram(program_.id()));
  DW_GL_CHECK(glUniform2f(program_.uniform("scale"), scale.x, scale.y));
  DW_GL_CHECK(glUniform1f(program_.uniform("blend"), static_cast<float>(stats_.blend)));
  DW_GL_CHECK(glUniform1f(program_.uniform("echo"), static_cast<float>(idle.echo)));
  DW_GL_CHECK(glUniform3f(program_.uniform("view"), static_cast<float>(idle.zoom),
                          static_cast<float>(idle.dx), static_cast<float>(idle.dy)));
  DW_GL_CHECK(glUniform1f(program_.uniform("brightness"),
                          static_cast<float>(config.display.brightness * tweaks.light)));
  DW_GL_CHECK(glUniform1f(program_.uniform("inverse_gamma"),
                          static_cast<float>(1.0 / config.display.gamma)));
  DW_GL_CHECK(
      glUniform1i(program_.uniform("dither"), config.display.dither && tweaks.dither ? 1 : 0));
  DW_GL_CHECK(glUniform1i(program_.uniform("frame_a"), 0));
  DW_GL_CHECK(glUniform1i(program_.uniform("frame_b"), 1));
  DW_GL_CHECK(glUniform1i(program_.uniform("frame_c"), 2));
  DW_GL_CHECK(glActiveTexture(GL_TEXTURE0));
  DW_GL_CHECK(glBindTexture(GL_TEXTURE_2D, a.texture));
  DW_GL_CHECK(glActiveTexture(GL_TEXTURE1));
  DW_GL_CHECK(glBindTexture(GL_TEXTURE_2D, b.texture));
  DW_GL_CHECK(glActiveTexture(GL_TEXTURE2));
  DW_GL_CHECK(glBindTexture(GL_TEXTURE_2D, c.texture));
  DW_GL_CHECK(glBindVertexArray(vertex_array_));
  DW_GL_CHECK(glDrawArrays(GL_TRIANGLE_STRIP, 0, 4));
  DW_GL_CHECK(glBindVertexArray(0));
  DW_GL_CHECK(glActiveTexture(GL_TEXTURE0));
}

}  // namespace dw::render
