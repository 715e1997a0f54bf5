// Recording the canvas to video, screenshots and the keyframe archive.
#pragma once

#include <string>
#include <vector>

namespace dw {

enum class RecordCodec { Auto, H264, Hevc };

struct RecordConfig {
  bool enabled = false;        // record from the start
  std::string dir;             // empty: $XDG_VIDEOS_DIR/dreamwindow or ~/Videos/dreamwindow
  std::string screenshot_dir;  // empty: record.dir
  // The folders must be on a mounted disk: "" no check, "auto" (under /media, /mnt, /run/media:
  // not on the file system below them), or a mount point the folders are at or below.
  std::string mount = "auto";
  double fps = 30.0;
  RecordCodec codec = RecordCodec::Auto;  // auto: H.264
  int quality = 20;                       // crf-like: 0 best .. 51 worst
  int split_mb = 2000;                    // 0: no split by size
  double split_minutes = 60.0;            // 0: no split by time
  int min_free_mb = 1024;                 // stop recording below this much free space
  int max_total_mb = 50000;               // our oldest recordings removed beyond; 0: keep all
  int queue_frames = 8;                   // canvas frames waiting for the encoder
  std::string archive_dir;                // keyframe archive (PNG + JSON); empty: off
  int archive_max_mb = 512;               // oldest keyframes removed beyond this
};

}  // namespace dw
