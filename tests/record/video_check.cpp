#include "video_check.h"

extern "C" {
#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libswscale/swscale.h>
}

#include <algorithm>
#include <cmath>
#include <limits>
#include <memory>
#include <stdexcept>

namespace dw::test {
namespace {

void check(int rc, const std::string& what) {
  if (rc >= 0) return;
  char text[AV_ERROR_MAX_STRING_SIZE] = {};
  av_strerror(rc, text, sizeof text);
  throw std::runtime_error(what + ": " + text);
}

struct Decoder {
  AVFormatContext* format = nullptr;
  AVCodecContext* codec = nullptr;
  AVFrame* frame = av_frame_alloc();
  AVPacket* packet = av_packet_alloc();
  SwsContext* sws = nullptr;
  ~Decoder() {
    sws_freeContext(sws);
    av_packet_free(&packet);
    av_frame_free(&frame);
    avcodec_free_context(&codec);
    avformat_close_input(&format);
  }
};

void receive_all(Decoder& d, DecodedVideo& out) {
  while (avcodec_receive_frame(d.codec, d.frame) >= 0) {
    Image img(d.frame->width, d.frame->height);
    d.sws = sws_getCachedContext(d.sws, d.frame->width, d.frame->height,
                                 static_cast<AVPixelFormat>(d.frame->format), img.width, img.height,
                                 AV_PIX_FMT_RGBA, SWS_BILINEAR, nullptr, nullptr, nullptr);
    std::uint8_t* dst[1] = {img.rgba.data()};
    const int stride[1] = {img.width * 4};
    sws_scale(d.sws, d.frame->data, d.frame->linesize, 0, d.frame->height, dst, stride);
    out.frames.push_back(std::move(img));
  }
}

}  // namespace

DecodedVideo decode_video(const std::string& path) {
  Decoder d;
  check(avformat_open_input(&d.format, path.c_str(), nullptr, nullptr), "open " + path);
  check(avformat_find_stream_info(d.format, nullptr), "stream info " + path);
  const AVCodec* codec = nullptr;
  const int stream = av_find_best_stream(d.format, AVMEDIA_TYPE_VIDEO, -1, -1, &codec, 0);
  check(stream, "no video stream in " + path);
  d.codec = avcodec_alloc_context3(codec);
  check(avcodec_parameters_to_context(d.codec, d.format->streams[stream]->codecpar), "params");
  check(avcodec_open2(d.codec, codec, nullptr), "decoder for " + path);
  DecodedVideo out;
  out.codec = codec->name;
  while (av_read_frame(d.format, d.packet) >= 0) {
    if (d.packet->stream_index == stream) check(avcodec_send_packet(d.codec, d.packet), "decode");
    av_packet_unref(d.packet);
    receive_all(d, out);
  }
  avcodec_send_packet(d.codec, nullptr);
  receive_all(d, out);
  return out;
}

double psnr_rgb(const Image& a, const Image& b) {
  if (a.width != b.width || a.height != b.height) throw std::runtime_error("sizes differ");
  double sum = 0;
  for (std::size_t i = 0; i < a.rgba.size(); ++i) {
    if (i % 4 == 3) continue;
    const double d = double(a.rgba[i]) - double(b.rgba[i]);
    sum += d * d;
  }
  const double mse = sum / (a.rgba.size() / 4 * 3);
  if (mse == 0) return std::numeric_limits<double>::infinity();
  return 10 * std::log10(255.0 * 255.0 / mse);
}

Image synthetic_frame(int width, int height, int n) {
  Image img(width, height);
  const double cx = width * (0.3 + 0.4 * std::sin(n * 0.07));
  const double cy = height * (0.5 + 0.3 * std::cos(n * 0.05));
  const double r = std::min(width, height) * 0.25;
  for (int y = 0; y < height; ++y)
    for (int x = 0; x < width; ++x) {
      const double dx = x - cx, dy = y - cy;
      const double disc = std::clamp(1.0 - (std::sqrt(dx * dx + dy * dy) - r) / 8.0, 0.0, 1.0);
      std::uint8_t* p = img.pixel(x, y);
      p[0] = static_cast<std::uint8_t>(40 + 150.0 * x / width + 60 * disc);
      p[1] = static_cast<std::uint8_t>(30 + 120.0 * y / height + 20 * std::sin(n * 0.1));
      p[2] = static_cast<std::uint8_t>(200 - 120 * disc);
      p[3] = 255;
    }
  return img;
}

Image noisy_frame(int width, int height, int n) {
  Image img(width, height);
  std::uint32_t state = 2654435761u * static_cast<std::uint32_t>(n + 1);
  for (std::size_t i = 0; i < img.rgba.size(); ++i) {
    state = state * 1664525u + 1013904223u;
    img.rgba[i] = (i % 4 == 3) ? 255 : static_cast<std::uint8_t>(state >> 24);
  }
  return img;
}

}  // namespace dw::test
