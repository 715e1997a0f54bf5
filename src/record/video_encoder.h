// One MP4 file of RGBA8 frames through FFmpeg's libraries (libavcodec, libavformat, libswscale):
// H.264 or HEVC through NVENC where the GPU and driver let the encoder open, else software
// (libx264 / libx265, the mpeg4 encoder last). Fragmented MP4 (a fragment per keyframe, every two
// seconds), so a file cut short by a power loss still plays up to its last fragment.
// One thread uses an encoder at a time.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/config_record.h"

namespace dw::record {

struct EncoderSettings {
  int width = 0, height = 0;  // odd sizes lose their last column / row (4:2:0 needs even)
  double fps = 30;
  RecordCodec codec = RecordCodec::Auto;
  int quality = 20;  // crf-like, 0..51
};

// The encoders to try for a codec, best first, among those this libavcodec has: NVENC, then
// software. HEVC falls back to the H.264 list.
std::vector<std::string> encoder_candidates(RecordCodec codec);

// Routes FFmpeg's own log lines into spdlog once per process: errors and warnings as warnings
// (rate-limited), except what encoders that do not open say while one is chosen; the rest at
// debug level.
void route_ffmpeg_log();

class VideoEncoder {
 public:
  // Opens `path` with the first of `candidates` that opens (the others' errors are logged at
  // debug level). Throws dw::Error naming the file and what each encoder said.
  VideoEncoder(const std::string& path, const EncoderSettings& settings,
               const std::vector<std::string>& candidates);
  ~VideoEncoder();  // finish() when not done yet (errors logged, not thrown)
  VideoEncoder(const VideoEncoder&) = delete;
  VideoEncoder& operator=(const VideoEncoder&) = delete;

  // One frame (rows top to bottom, `width` x `height` as opened) at `pts` in frames of 1/fps;
  // pts must grow. Throws dw::Error on a write failure (a full disk).
  void write(const std::uint8_t* rgba, std::int64_t pts);
  // Flushes the encoder and writes the trailer. Throws dw::Error on a write failure.
  void finish();

  const std::string& encoder_name() const;
  std::uint64_t bytes() const;  // header and encoded packets so far (about the file's size)
  std::uint64_t frames() const;

 private:
  struct State;
  std::unique_ptr<State> s_;
  void drain(bool flushing);
};

}  // namespace dw::record
