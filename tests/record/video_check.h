// Test helpers for recordings: decoding an MP4 back to RGBA frames with libavformat/libavcodec,
// PSNR, and synthetic canvas frames.
#pragma once

#include <string>
#include <vector>

#include "core/image.h"

namespace dw::test {

struct DecodedVideo {
  std::string codec;  // the stream's codec ("h264", "hevc", "mpeg4")
  std::vector<Image> frames;
};
// Every frame of the file's video stream; throws std::runtime_error naming what failed.
DecodedVideo decode_video(const std::string& path);

// PSNR over RGB (alpha ignored) of two images of the same size; +inf when identical.
double psnr_rgb(const Image& a, const Image& b);

// A smooth moving picture (gradients and a soft disc) for frame `n`: what a canvas looks like,
// not noise, so a good encoder keeps it above 35 dB.
Image synthetic_frame(int width, int height, int n);
// The same with per-pixel noise (hard to compress: files grow fast).
Image noisy_frame(int width, int height, int n);

}  // namespace dw::test
