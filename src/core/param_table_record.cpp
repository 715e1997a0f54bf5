// record.*: the canvas to MP4, screenshots, the keyframe archive.
#include "core/param_table_parts.h"

namespace dw {

void add_record_params(std::vector<ParamSpec>& t) {
  using C = Config;
  using R = RecordConfig;
  constexpr Apply kLive = Apply::Live;
  constexpr Apply kRestart = Apply::Restart;
  t.push_back(param_bool("record.enabled", bind(&C::record, &R::enabled), kRestart,
                         "record the canvas to MP4 from the start (keys, actions: at any time)"));
  t.push_back(param_string("record.dir", bind(&C::record, &R::dir), kLive,
                           "folder for recordings (empty: $XDG_VIDEOS_DIR/dreamwindow or "
                           "~/Videos/dreamwindow); applies from the next recording"));
  t.push_back(param_string("record.screenshot_dir", bind(&C::record, &R::screenshot_dir), kLive,
                           "folder for screenshots (empty: record.dir)"));
  t.push_back(param_string(
      "record.mount", bind(&C::record, &R::mount), kLive,
      "the recording, screenshot and archive folders must be on a mounted disk, else nothing is "
      "written and status says it waits for the disk (a disk not mounted yet would leave them on "
      "the system disk under the empty mount point): a mount point the folders are at or below; "
      "auto: folders under /media, /mnt or /run/media must not be on the file system below those; "
      "empty: no check"));
  t.push_back(param_float("record.fps", bind(&C::record, &R::fps), 1.0, 120.0, kLive,
                          "frames per second recorded (applies from the next recording)"));
  t.push_back(param_choice<RecordCodec>(
      "record.codec", bind(&C::record, &R::codec), {"auto", "h264", "hevc"}, kLive,
      "video codec (NVENC where the GPU offers it, else software; auto: H.264)"));
  t.push_back(param_int("record.quality", bind(&C::record, &R::quality), 0, 51, kLive,
                        "constant-quality level like x264's crf: lower is better (18-23 typical)"));
  t.push_back(param_int("record.split_mb", bind(&C::record, &R::split_mb), 0, 1000000, kLive,
                        "start a new file beyond this many MB (0: never by size)"));
  t.push_back(param_float("record.split_minutes", bind(&C::record, &R::split_minutes), 0.0, 10080.0,
                          kLive, "start a new file after this many minutes (0: never)"));
  t.push_back(param_int("record.min_free_mb", bind(&C::record, &R::min_free_mb), 0, 10000000, kLive,
                        "keep this much free on the disk: the oldest recordings are removed "
                        "(record.max_total_mb above 0), else recording stops with a warning "
                        "until there is"));
  t.push_back(param_int("record.max_total_mb", bind(&C::record, &R::max_total_mb), 0, 100000000,
                        kLive,
                        "keep the recordings in record.dir under this many MB: before each new "
                        "file the oldest are removed (only dreamwindow-*.mp4 files it wrote); "
                        "0: keep every recording"));
  t.push_back(param_int("record.queue_frames", bind(&C::record, &R::queue_frames), 1, 240, kRestart,
                        "canvas frames waiting for the encoder; beyond that frames are dropped "
                        "(counted), the display never waits"));
  t.push_back(
      param_string("record.archive_dir", bind(&C::record, &R::archive_dir), kRestart,
                   "keyframe archive: each keyframe as PNG + JSON (prompt, seed, settings); "
                   "empty: off"));
  t.push_back(param_int("record.archive_max_mb", bind(&C::record, &R::archive_max_mb), 1, 10000000,
                        kLive, "keyframe archive size bound: oldest keyframes removed first"));
}

}  // namespace dw
