#include "record/video_encoder.h"

extern "C" {
#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/error.h>
#include <libavutil/imgutils.h>
#include <libavutil/log.h>
#include <libavutil/opt.h>
#include <libswscale/swscale.h>
}

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdarg>
#include <mutex>

#include "core/error.h"
#include "record/record_paths.h"

namespace dw::record {
namespace {

std::string av_error_text(int code) {
  char text[AV_ERROR_MAX_STRING_SIZE] = {};
  av_strerror(code, text, sizeof text);
  return text;
}

// Set while encoders are tried one after another: what those that do not open say (NVENC without
// a GPU) is expected, and the choice reports it.
thread_local bool t_trying_encoders = false;
struct TryingEncoders {
  TryingEncoders() { t_trying_encoders = true; }
  ~TryingEncoders() { t_trying_encoders = false; }
  TryingEncoders(const TryingEncoders&) = delete;
  TryingEncoders& operator=(const TryingEncoders&) = delete;
};
std::atomic<std::uint64_t> g_ffmpeg_warnings{0};

extern "C" void log_to_spdlog(void* avcl, int level, const char* format, va_list args) {
  if (level > AV_LOG_INFO) return;
  char line[1024];
  int print_prefix = 1;
  av_log_format_line(avcl, level, format, args, line, sizeof line, &print_prefix);
  std::string text(line);
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.pop_back();
  if (text.empty()) return;
  // While writing, FFmpeg's errors and warnings are the operator's only clue to why a recording
  // stopped ("Generic error in an external library" says nothing): warnings in the log, the first
  // 50 and then one in 1000 (a warning per frame must not flood the journal).
  if (level <= AV_LOG_WARNING && !t_trying_encoders) {
    const std::uint64_t n = g_ffmpeg_warnings.fetch_add(1, std::memory_order_relaxed);
    if (n < 50 || n % 1000 == 0) {
      spdlog::warn("ffmpeg: {}", text);
      return;
    }
  }
  spdlog::debug("ffmpeg: {}", text);
}

struct CodecContextDeleter {
  void operator()(AVCodecContext* c) const { avcodec_free_context(&c); }
};
using CodecContextPtr = std::unique_ptr<AVCodecContext, CodecContextDeleter>;

// The encoder's private options for a crf-like quality level.
void set_quality(AVCodecContext* ctx, const std::string& name, int quality, AVDictionary** opts) {
  if (name.find("nvenc") != std::string::npos) {
    av_dict_set(opts, "preset", "p4", 0);
    av_dict_set(opts, "rc", "vbr", 0);
    av_dict_set_int(opts, "cq", std::max(1, quality), 0);
    ctx->bit_rate = 0;
  } else if (name == "libx264") {
    av_dict_set(opts, "preset", "veryfast", 0);
    av_dict_set_int(opts, "crf", quality, 0);
  } else if (name == "libx265") {
    av_dict_set(opts, "preset", "superfast", 0);
    av_dict_set_int(opts, "crf", quality, 0);
    av_dict_set(opts, "x265-params", "log-level=error", 0);
  } else {
    // mpeg4 (MPEG-4 part 2): a fixed quantiser 2..31 from the same 0..51 scale.
    const int q = std::clamp(2 + quality * 29 / 51, 2, 31);
    ctx->flags |= AV_CODEC_FLAG_QSCALE;
    ctx->global_quality = FF_QP2LAMBDA * q;
  }
}

}  // namespace

void route_ffmpeg_log() {
  static std::once_flag once;
  std::call_once(once, [] { av_log_set_callback(log_to_spdlog); });
}

std::vector<std::string> encoder_candidates(RecordCodec codec) {
  std::vector<std::string> names;
  if (codec == RecordCodec::Hevc) names = {"hevc_nvenc", "libx265"};
  for (const char* n : {"h264_nvenc", "libx264", "mpeg4"}) names.emplace_back(n);
  std::erase_if(names,
                [](const std::string& n) { return !avcodec_find_encoder_by_name(n.c_str()); });
  return names;
}

struct VideoEncoder::State {
  std::string path;
  EncoderSettings settings;
  std::string encoder;
  AVFormatContext* format = nullptr;
  AVStream* stream = nullptr;
  CodecContextPtr codec;
  AVFrame* frame = nullptr;
  AVPacket* packet = nullptr;
  SwsContext* sws = nullptr;
  std::uint64_t frames = 0;
  std::uint64_t header_bytes = 0;
  std::uint64_t packet_bytes = 0;  // the muxer holds a fragment in memory; these are on their way
  bool finished = false;

  ~State() {
    sws_freeContext(sws);
    av_packet_free(&packet);
    av_frame_free(&frame);
    codec.reset();
    if (format) {
      if (format->pb) avio_closep(&format->pb);
      avformat_free_context(format);
    }
  }
};

namespace {

// Opens encoder `name` for the settings, or returns why not.
std::string try_open(const std::string& name, const EncoderSettings& s, bool global_header,
                     CodecContextPtr& out) {
  const AVCodec* codec = avcodec_find_encoder_by_name(name.c_str());
  if (!codec) return "not in this libavcodec";
  CodecContextPtr ctx(avcodec_alloc_context3(codec));
  if (!ctx) return "out of memory";
  const int fps_num = static_cast<int>(std::lround(s.fps * 1000));
  ctx->width = s.width & ~1;
  ctx->height = s.height & ~1;
  ctx->pix_fmt = AV_PIX_FMT_YUV420P;
  ctx->time_base = AVRational{1000, fps_num};
  ctx->framerate = AVRational{fps_num, 1000};
  ctx->gop_size = std::max(1, static_cast<int>(std::lround(s.fps * 2)));
  ctx->max_b_frames = 0;
  ctx->colorspace = AVCOL_SPC_SMPTE170M;  // what swscale's default RGB -> YUV matrix is
  ctx->color_range = AVCOL_RANGE_MPEG;
  if (global_header) ctx->flags |= AV_CODEC_FLAG_GLOBAL_HEADER;
  AVDictionary* opts = nullptr;
  set_quality(ctx.get(), name, s.quality, &opts);
  const int rc = avcodec_open2(ctx.get(), codec, &opts);
  av_dict_free(&opts);
  if (rc < 0) return av_error_text(rc);
  out = std::move(ctx);
  return "";
}

}  // namespace

VideoEncoder::VideoEncoder(const std::string& path, const EncoderSettings& settings,
                           const std::vector<std::string>& candidates)
    : s_(std::make_unique<State>()) {
  route_ffmpeg_log();
  s_->path = path;
  s_->settings = settings;
  if (settings.width < 2 || settings.height < 2)
    throw Error(fmt::format("recording {}: a {}x{} canvas is too small to encode", path,
                            settings.width, settings.height));
  int rc = avformat_alloc_output_context2(&s_->format, nullptr, "mp4", path.c_str());
  if (rc < 0 || !s_->format)
    throw Error(fmt::format("recording {}: cannot make an MP4 muxer: {}", path, av_error_text(rc)));
  const bool global_header = (s_->format->oformat->flags & AVFMT_GLOBALHEADER) != 0;
  std::string refused;
  for (const std::string& name : candidates) {
    std::string why;
    {
      const TryingEncoders trying;
      why = try_open(name, settings, global_header, s_->codec);
    }
    if (why.empty()) {
      s_->encoder = name;
      break;
    }
    spdlog::debug("recording: encoder {} did not open: {}", name, why);
    refused += fmt::format("{}{}: {}", refused.empty() ? "" : "; ", name, why);
  }
  if (!s_->codec)
    throw Error(fmt::format("recording {}: no video encoder opened ({})", path,
                            refused.empty() ? "none available" : refused));
  AVCodecContext* ctx = s_->codec.get();
  s_->stream = avformat_new_stream(s_->format, nullptr);
  if (!s_->stream) throw Error(fmt::format("recording {}: cannot add a stream", path));
  s_->stream->time_base = ctx->time_base;
  rc = avcodec_parameters_from_context(s_->stream->codecpar, ctx);
  if (rc < 0) throw Error(fmt::format("recording {}: {}", path, av_error_text(rc)));
  rc = avio_open(&s_->format->pb, path.c_str(), AVIO_FLAG_WRITE);
  if (rc < 0)
    throw DiskError(fmt::format("recording {}: cannot create: {}", path, av_error_text(rc)));
  AVDictionary* mux = nullptr;
  av_dict_set(&mux, "movflags", "frag_keyframe+empty_moov+default_base_moof", 0);
  rc = avformat_write_header(s_->format, &mux);
  av_dict_free(&mux);
  if (rc < 0)
    throw DiskError(
        fmt::format("recording {}: cannot write the header: {}", path, av_error_text(rc)));
  s_->header_bytes =
      static_cast<std::uint64_t>(std::max<std::int64_t>(0, avio_tell(s_->format->pb)));

  s_->frame = av_frame_alloc();
  s_->packet = av_packet_alloc();
  if (!s_->frame || !s_->packet) throw Error("recording: out of memory");
  s_->frame->format = ctx->pix_fmt;
  s_->frame->width = ctx->width;
  s_->frame->height = ctx->height;
  rc = av_frame_get_buffer(s_->frame, 0);
  if (rc < 0) throw Error(fmt::format("recording: frame buffer: {}", av_error_text(rc)));
  s_->sws = sws_getContext(ctx->width, ctx->height, AV_PIX_FMT_RGBA, ctx->width, ctx->height,
                           AV_PIX_FMT_YUV420P, SWS_BILINEAR, nullptr, nullptr, nullptr);
  if (!s_->sws) throw Error("recording: no RGBA -> YUV 4:2:0 conversion");
}

VideoEncoder::~VideoEncoder() {
  if (s_ && !s_->finished) {
    try {
      finish();
    } catch (const std::exception& e) {
      spdlog::warn("{}", e.what());
    }
  }
}

void VideoEncoder::write(const std::uint8_t* rgba, std::int64_t pts) {
  AVCodecContext* ctx = s_->codec.get();
  int rc = av_frame_make_writable(s_->frame);
  if (rc < 0) throw Error(fmt::format("recording {}: {}", s_->path, av_error_text(rc)));
  const std::uint8_t* src[1] = {rgba};
  const int stride[1] = {s_->settings.width * 4};  // the canvas's stride; odd sizes are cropped
  sws_scale(s_->sws, src, stride, 0, ctx->height, s_->frame->data, s_->frame->linesize);
  s_->frame->pts = pts;
  rc = avcodec_send_frame(ctx, s_->frame);
  if (rc < 0) throw Error(fmt::format("recording {}: encoding: {}", s_->path, av_error_text(rc)));
  drain(false);
  ++s_->frames;
}

void VideoEncoder::drain(bool flushing) {
  AVCodecContext* ctx = s_->codec.get();
  for (;;) {
    int rc = avcodec_receive_packet(ctx, s_->packet);
    if (rc == AVERROR(EAGAIN) || rc == AVERROR_EOF) return;
    if (rc < 0) throw Error(fmt::format("recording {}: encoding: {}", s_->path, av_error_text(rc)));
    s_->packet_bytes += static_cast<std::uint64_t>(s_->packet->size);
    // One frame period (the codec's time base is one tick per frame): the muxer would otherwise
    // guess the last packet's duration of every fragment, with a warning each time.
    if (s_->packet->duration == 0) s_->packet->duration = 1;
    av_packet_rescale_ts(s_->packet, ctx->time_base, s_->stream->time_base);
    s_->packet->stream_index = s_->stream->index;
    rc = av_interleaved_write_frame(s_->format, s_->packet);
    if (rc >= 0 && s_->format->pb->error < 0) rc = s_->format->pb->error;
    if (rc < 0)
      throw DiskError(fmt::format("recording {}: writing{}: {}", s_->path,
                                  flushing ? " the end" : "", av_error_text(rc)));
  }
}

void VideoEncoder::finish() {
  if (s_->finished) return;
  s_->finished = true;
  int rc = avcodec_send_frame(s_->codec.get(), nullptr);
  if (rc < 0) throw Error(fmt::format("recording {}: {}", s_->path, av_error_text(rc)));
  drain(true);
  rc = av_write_trailer(s_->format);
  if (rc >= 0) {
    avio_flush(s_->format->pb);
    rc = s_->format->pb->error;
  }
  const int closed = avio_closep(&s_->format->pb);
  if (rc >= 0) rc = closed;
  if (rc < 0)
    throw DiskError(
        fmt::format("recording {}: finishing the file: {}", s_->path, av_error_text(rc)));
}

const std::string& VideoEncoder::encoder_name() const {
  return s_->encoder;
}

std::uint64_t VideoEncoder::bytes() const {
  return s_->header_bytes + s_->packet_bytes;
}

std::uint64_t VideoEncoder::frames() const {
  return s_->frames;
}

}  // namespace dw::record
