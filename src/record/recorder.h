// The recorder: canvas frames in through a bounded queue, MP4 files out, encoded on its own
// thread. A frame offered while the queue is full is dropped and counted; nothing here ever makes
// the caller wait. Files are split by size or time, and when the file being written is removed
// (checked every second of video: it or its folder removed by hand) recording goes on in a new one.
// Before each file the recorder's oldest files in the folder are removed to keep its recordings
// under a bound; the disk's free space is checked before each file and every second of video, and
// below the floor the oldest recordings are removed too (with a bound set; what is removed counts
// as free even while the disk does not show it yet), else recording stops with a warning (as on
// any write error): the picture goes on, only the recording ends.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "core/config_record.h"

namespace dw::record {

class VideoEncoder;

// One recording's settings, taken when it starts (record.*).
struct RecordSettings {
  std::string dir;    // resolved (record_paths.h)
  std::string mount;  // record.mount: checked before each file (record_paths.h mount_problem)
  double fps = 30;
  RecordCodec codec = RecordCodec::Auto;
  int quality = 20;
  std::uint64_t split_bytes = 0;  // 0: never by size
  double split_seconds = 0;       // 0: never by time
  std::uint64_t min_free_bytes = 0;
  // The recorder's own files in `dir` kept under this, the oldest removed first; also what keeps
  // the disk above min_free_bytes. 0: every recording is kept (and the floor stops recording).
  std::uint64_t max_total_bytes = 0;
};

// Why recording stopped by itself.
enum class StopCause {
  Disk,   // the folder or the disk (not writable, below the floor, a write refused): may mend
  Other,  // an encoder that does not open, a canvas too small: stays until someone acts
};
RecordSettings settings_from(const RecordConfig& config);

struct RecorderHooks {
  // Free bytes under a folder (tests: a disk that fills); default statvfs.
  std::function<std::optional<std::uint64_t>(const std::string&)> free_space;
  // Called on the encoder thread before each frame (tests: an artificially slow encoder).
  std::function<void()> before_encode;
  // How long the bytes of recordings removed for record.min_free_mb count as free while the
  // disk does not show them yet (btrfs and ZFS free them at their next commit; a file someone
  // still has open, a player or a backup copying it, frees nothing until closed). Without it
  // every check would remove one more recording, and one check all of them.
  std::chrono::milliseconds removal_shows_within{60000};
  // Called on the encoder thread when recording stopped by itself (a full disk, a write error),
  // with the warning and its cause; the app turns its "recording wanted" flag off, and for a
  // cause of the disk starts recording again once the folder takes it.
  std::function<void(const std::string&, StopCause)> on_stopped;
};

struct RecorderStats {
  bool recording = false;  // a recording is on (files may not be open yet)
  std::string file;        // the file being written (empty: none)
  std::string encoder;     // the encoder of the last file opened
  std::uint64_t frames_written = 0;
  std::uint64_t frames_dropped = 0;  // offered while the queue was full (or not read back)
  std::uint64_t bytes = 0;           // in all files written since the program started
  std::uint64_t files = 0;
  std::uint64_t free_bytes = 0;     // on the recording folder's disk, at the last check
  std::uint64_t files_removed = 0;  // oldest recordings removed (max_total_bytes, the floor)
  std::string last_error;           // why recording last stopped by itself, until a file opens
};

class Recorder {
 public:
  explicit Recorder(std::size_t queue_frames, RecorderHooks hooks = {});
  ~Recorder();  // writes what is queued and finishes the file
  Recorder(const Recorder&) = delete;
  Recorder& operator=(const Recorder&) = delete;

  // Any thread, never waits: recording on with these settings. A recording already on ends (its
  // queued frames first) and a new one begins with the next frame.
  void start(const RecordSettings& settings);
  // Any thread, never waits: the frames already queued are written, then the file is finished.
  void stop();
  bool active() const;
  // Whether a frame offered now would be queued.
  bool has_room() const;
  // Offers a frame (rows top to bottom) at canvas time `t` seconds. False: dropped (counted), or
  // not recording.
  bool submit(std::vector<std::uint8_t> rgba, int width, int height, double t);
  void count_dropped();  // a frame that could not even be offered (no read-back buffer)
  // A buffer of `bytes` for the next frame, reused from frames already encoded when possible
  // (none is kept once recording is off and its frames are written).
  std::vector<std::uint8_t> buffer(std::size_t bytes);

  RecorderStats stats() const;
  // Waits until nothing is queued and no file is open, or the timeout passes (tests, shutdown).
  bool wait_idle(std::chrono::milliseconds timeout);
  // Shutdown: stops, writes the queued frames while `budget` lasts, then drops the rest and
  // finishes the file (waiting at most `close_budget` more). A playable file with fewer frames
  // beats every frame in a file the service manager kills mid-write at its stop timeout: that
  // one has no index and does not play. Returns the frames dropped here.
  std::uint64_t finish(std::chrono::milliseconds budget, std::chrono::milliseconds close_budget);

 private:
  struct Item {
    std::vector<std::uint8_t> rgba;
    int width = 0, height = 0;
    double t = 0;
    std::uint64_t session = 0;
    std::shared_ptr<const RecordSettings> settings;
  };
  struct Segment;

  void run(std::stop_token stop);
  void encode(Item& item);
  void open_segment(const Item& item, int part);
  void close_segment();
  void make_room(const RecordSettings& settings);
  void check_disk(const RecordSettings& settings, const std::string& writing);
  void count_removed(std::uint64_t files);
  void fail(std::uint64_t session, const std::string& warning, StopCause cause);

  const std::size_t capacity_;
  RecorderHooks hooks_;
  mutable std::mutex mutex_;
  std::condition_variable_any wake_;  // work for the thread
  std::condition_variable idle_;      // the thread finished a step
  std::deque<Item> queue_;
  // Buffers of encoded frames, for reuse while recording; let go once recording is off and nothing
  // is queued (up to queue_frames canvases: hundreds of MB at 4K).
  std::vector<std::vector<std::uint8_t>> spare_;
  bool active_ = false;
  std::uint64_t session_ = 0;                       // bumped by every start()
  std::shared_ptr<const RecordSettings> settings_;  // of the current session
  RecorderStats stats_;
  bool busy_ = false;               // the thread is between taking an item and finishing with it
  bool file_open_ = false;          // a copy of "segment_ is set" for other threads
  std::uint64_t open_session_ = 0;  // the session of the open file
  // The encoder thread's own state (only that thread touches it).
  std::unique_ptr<Segment> segment_;
  std::uint64_t failed_session_ = 0;  // frames of a session that failed are dropped
  // Bytes removed for the floor that the disk did not show free yet, with the free space it
  // showed then: counted as free until it shows more, or removal_shows_within has passed.
  struct Freed {
    std::string dir;  // where they were removed (a recording elsewhere has none)
    std::uint64_t bytes = 0;
    std::uint64_t disk_said = 0;
    std::chrono::steady_clock::time_point until{};
  };
  Freed freed_;
  std::string preferred_encoder_;  // the one that opened last, tried first next time
  std::jthread thread_;
};

}  // namespace dw::record
