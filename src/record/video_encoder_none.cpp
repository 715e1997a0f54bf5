// The video encoder of a build configured with DW_WITH_VIDEO=OFF (the GPU check's payload, which
// cannot carry FFmpeg's codec libraries): no encoder opens, and saying so is the whole job. The
// recorder reports it as it reports any encoder that does not open: a warning, and the show goes
// on. Screenshots and the keyframe archive do not need it.
#include <fmt/format.h>

#include "core/error.h"
#include "record/video_encoder.h"

namespace dw::record {

struct VideoEncoder::State {
  std::string name;
};

std::vector<std::string> encoder_candidates(RecordCodec) {
  return {};
}

void route_ffmpeg_log() {}

VideoEncoder::VideoEncoder(const std::string& path, const EncoderSettings&,
                           const std::vector<std::string>&) {
  throw Error(
      fmt::format("recording {}: this binary was built without a video encoder "
                  "(DW_WITH_VIDEO=OFF); build with it on to record",
                  path));
}

VideoEncoder::~VideoEncoder() = default;
void VideoEncoder::write(const std::uint8_t*, std::int64_t) {}
void VideoEncoder::finish() {}
const std::string& VideoEncoder::encoder_name() const {
  return s_->name;
}
std::uint64_t VideoEncoder::bytes() const {
  return 0;
}
std::uint64_t VideoEncoder::frames() const {
  return 0;
}
void VideoEncoder::drain(bool) {}

}  // namespace dw::record
