// A build without FFmpeg (DW_WITH_VIDEO=OFF) has no encoder: opening one fails with a message
// that names the file and the option to turn on, and offers no candidates.
#include <gtest/gtest.h>

#include <string>

#include "core/error.h"
#include "record/video_encoder.h"

namespace dw::record {
namespace {

TEST(VideoEncoderNone, OpeningSaysTheBuildHasNoEncoderAndWhichOptionAddsIt) {
  EXPECT_TRUE(encoder_candidates(RecordCodec::Auto).empty());
  try {
    VideoEncoder encoder("/videos/a.mp4", EncoderSettings{64, 64, 30, RecordCodec::Auto, 20},
                         {"libx264"});
    FAIL() << "an encoder opened in a build without one";
  } catch (const Error& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("/videos/a.mp4"), std::string::npos) << what;
    EXPECT_NE(what.find("DW_WITH_VIDEO"), std::string::npos) << what;
  }
}

}  // namespace
}  // namespace dw::record
