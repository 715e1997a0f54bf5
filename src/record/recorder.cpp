#include "record/recorder.h"

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <spdlog/spdlog.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <system_error>

#include "core/error.h"
#include "record/record_paths.h"
#include "record/recording_files.h"
#include "record/video_encoder.h"

namespace dw::record {
namespace {

constexpr double kMiB = 1024.0 * 1024.0;

std::uint64_t file_size_or_zero(const std::string& path) {
  std::error_code ec;
  const auto size = std::filesystem::file_size(path, ec);
  return ec ? 0 : static_cast<std::uint64_t>(size);
}

// Whether the file being written is no longer there (it or its folder removed): what is written
// then goes to a file nobody can open. A folder that cannot be asked (a disk gone) is not "gone":
// its writes fail and say so.
bool removed_while_writing(const std::string& path) {
  std::error_code ec;
  return !std::filesystem::exists(path, ec) && !ec;
}

// The encoder gives way to the display: its thread (and the encoder's own threads, which inherit
// the nice value of the thread that opens the codec) run 10 nice levels below the render loop and
// the pipeline, so on a loaded machine recording drops frames (counted) rather than slowing the
// picture. Raising one's own nice value needs no privilege.
constexpr int kEncoderNiceStep = 10;

void lower_encoder_priority() {
  const auto tid = static_cast<id_t>(gettid());
  errno = 0;
  const int now = getpriority(PRIO_PROCESS, tid);  // -1 is a valid nice value: errno tells
  if (errno == 0 && setpriority(PRIO_PROCESS, tid, std::min(19, now + kEncoderNiceStep)) == 0)
    return;
  spdlog::debug("recording: the encoder thread keeps its priority ({})", std::strerror(errno));
}

}  // namespace

struct Recorder::Segment {
  std::unique_ptr<VideoEncoder> encoder;
  std::string path;
  std::uint64_t session = 0;
  int part = 0;
  int width = 0, height = 0;
  double t0 = 0;
  std::int64_t last_pts = -1;
  std::uint64_t frames_since_check = 0;
  std::uint64_t bytes_before = 0;  // stats_.bytes when the file was opened
  bool gone = false;               // removed while being written: the next frame starts a new file
};

RecordSettings settings_from(const RecordConfig& config) {
  RecordSettings s;
  s.dir = resolve_record_dir(config.dir);
  s.mount = config.mount;
  s.fps = config.fps;
  s.codec = config.codec;
  s.quality = config.quality;
  s.split_bytes = static_cast<std::uint64_t>(config.split_mb) * (1u << 20);
  s.split_seconds = config.split_minutes * 60.0;
  s.min_free_bytes = static_cast<std::uint64_t>(config.min_free_mb) * (1u << 20);
  s.max_total_bytes = static_cast<std::uint64_t>(config.max_total_mb) * (1u << 20);
  return s;
}

Recorder::Recorder(std::size_t queue_frames, RecorderHooks hooks)
    : capacity_(queue_frames < 1 ? 1 : queue_frames), hooks_(std::move(hooks)) {
  if (!hooks_.free_space)
    hooks_.free_space = [](const std::string& dir) { return free_bytes(dir); };
  thread_ = std::jthread([this](std::stop_token stop) { run(stop); });
}

Recorder::~Recorder() {
  stop();
  thread_.request_stop();
  if (thread_.joinable()) thread_.join();
}

void Recorder::start(const RecordSettings& settings) {
  {
    std::lock_guard lock(mutex_);
    ++session_;
    settings_ = std::make_shared<const RecordSettings>(settings);
    active_ = true;
    stats_.recording = true;
  }
  wake_.notify_all();
}

void Recorder::stop() {
  {
    std::lock_guard lock(mutex_);
    active_ = false;
    stats_.recording = false;
    if (queue_.empty() && !busy_) spare_ = {};  // else the thread lets them go once done
  }
  wake_.notify_all();
}

bool Recorder::active() const {
  std::lock_guard lock(mutex_);
  return active_;
}

bool Recorder::has_room() const {
  std::lock_guard lock(mutex_);
  return active_ && queue_.size() < capacity_;
}

bool Recorder::submit(std::vector<std::uint8_t> rgba, int width, int height, double t) {
  {
    std::lock_guard lock(mutex_);
    if (!active_) return false;
    if (queue_.size() >= capacity_) {
      ++stats_.frames_dropped;
      return false;
    }
    queue_.push_back(Item{std::move(rgba), width, height, t, session_, settings_});
  }
  wake_.notify_one();
  return true;
}

void Recorder::count_dropped() {
  std::lock_guard lock(mutex_);
  ++stats_.frames_dropped;
}

std::vector<std::uint8_t> Recorder::buffer(std::size_t bytes) {
  std::vector<std::uint8_t> buf;
  {
    std::lock_guard lock(mutex_);
    if (!spare_.empty()) {
      buf = std::move(spare_.back());
      spare_.pop_back();
    }
  }
  buf.resize(bytes);
  return buf;
}

RecorderStats Recorder::stats() const {
  std::lock_guard lock(mutex_);
  return stats_;
}

bool Recorder::wait_idle(std::chrono::milliseconds timeout) {
  std::unique_lock lock(mutex_);
  return idle_.wait_for(lock, timeout, [&] { return queue_.empty() && !busy_ && !file_open_; });
}

std::uint64_t Recorder::finish(std::chrono::milliseconds budget,
                               std::chrono::milliseconds close_budget) {
  stop();
  if (wait_idle(budget)) return 0;
  std::uint64_t dropped = 0;
  {
    std::lock_guard lock(mutex_);
    dropped = queue_.size();
    queue_.clear();
    stats_.frames_dropped += dropped;
  }
  wake_.notify_all();
  wait_idle(close_budget);
  return dropped;
}

// Takes items in order; closes the file once recording is off (or a new one began) and nothing
// of its session is queued. On shutdown, writes what is queued first.
void Recorder::run(std::stop_token stop) {
  lower_encoder_priority();
  std::unique_lock lock(mutex_);
  for (;;) {
    const auto file_done = [&] { return file_open_ && (!active_ || open_session_ != session_); };
    wake_.wait(lock, stop, [&] { return !queue_.empty() || file_done(); });
    if (!queue_.empty()) {
      Item item = std::move(queue_.front());
      queue_.pop_front();
      busy_ = true;
      lock.unlock();
      encode(item);
      lock.lock();
      if (spare_.size() < capacity_) spare_.push_back(std::move(item.rgba));
    } else if (file_done()) {
      busy_ = true;
      lock.unlock();
      close_segment();
      lock.lock();
    } else if (stop.stop_requested()) {
      break;
    }
    if (!active_ && queue_.empty()) spare_ = {};  // off: the canvas-sized buffers go
    busy_ = false;
    idle_.notify_all();
  }
  lock.unlock();
  close_segment();
  idle_.notify_all();
}

void Recorder::encode(Item& item) {
  try {
    if (item.session == failed_session_) {
      std::lock_guard lock(mutex_);
      ++stats_.frames_dropped;
      return;
    }
    const RecordSettings& s = *item.settings;
    int part = 0;
    if (segment_) {
      const bool same = segment_->session == item.session && segment_->width == item.width &&
                        segment_->height == item.height;
      const bool too_big = s.split_bytes > 0 && segment_->encoder->bytes() >= s.split_bytes;
      const bool too_long = s.split_seconds > 0 && item.t - segment_->t0 >= s.split_seconds;
      if (!same || too_big || too_long || segment_->gone) {
        part = segment_->session == item.session ? segment_->part + 1 : 0;
        close_segment();
      }
    }
    if (!segment_) open_segment(item, part);
    if (hooks_.before_encode) hooks_.before_encode();
    Segment& seg = *segment_;
    std::int64_t pts = std::llround((item.t - seg.t0) * s.fps);
    if (pts <= seg.last_pts) pts = seg.last_pts + 1;
    seg.encoder->write(item.rgba.data(), pts);
    seg.last_pts = pts;
    {
      std::lock_guard lock(mutex_);
      ++stats_.frames_written;
      stats_.bytes = seg.bytes_before + seg.encoder->bytes();
    }
    if (++seg.frames_since_check >= static_cast<std::uint64_t>(std::ceil(s.fps))) {
      seg.frames_since_check = 0;
      if (removed_while_writing(seg.path)) {
        // Removed by hand or by a clean-up: the file being written has no name any more (and
        // its folder may have none, so its disk cannot be asked). The next frame opens a new
        // file, making the folder again as every new file does.
        spdlog::warn("recording: {} was removed while being written; going on in a new file",
                     seg.path);
        seg.gone = true;
      } else {
        check_disk(s, seg.path);
      }
    }
  } catch (const DiskError& e) {
    fail(item.session, e.what(), StopCause::Disk);
  } catch (const std::exception& e) {
    fail(item.session, e.what(), StopCause::Other);
  }
}

// Before a new file: the recordings left, and one more file of split_bytes, fit under the bound.
void Recorder::make_room(const RecordSettings& s) {
  if (s.max_total_bytes == 0) return;
  const std::uint64_t next = std::min(s.split_bytes, s.max_total_bytes);
  const std::uint64_t keep_under = s.max_total_bytes - next;
  const Removed removed = remove_oldest_recordings(
      s.dir, "", [&](std::uint64_t left) { return left > keep_under; },
      fmt::format("to keep the recordings under record.max_total_mb ({:.0f} MB)",
                  s.max_total_bytes / kMiB));
  count_removed(removed.files);
}

// Below the floor, the oldest recordings go first (never `writing`, the file being written) when
// a bound allows removing them; the recording stops only when that is not enough. What is removed
// counts as free at once, whatever the disk says yet (see RecorderHooks::removal_shows_within).
void Recorder::check_disk(const RecordSettings& s, const std::string& writing) {
  std::optional<std::uint64_t> disk = hooks_.free_space(s.dir);
  if (!disk) return;
  const auto now = std::chrono::steady_clock::now();
  if (freed_.dir != s.dir || *disk > freed_.disk_said || now >= freed_.until) freed_ = {};
  std::uint64_t free = *disk + freed_.bytes;
  if (free < s.min_free_bytes && s.max_total_bytes > 0) {
    const std::uint64_t before = *disk;
    // Free now: what the disk says, or what it said plus what went since, if that is more.
    const auto free_after = [&](std::uint64_t gone) {
      if (const auto asked = hooks_.free_space(s.dir)) disk = asked;
      return std::max(*disk, before + gone) + freed_.bytes;
    };
    std::optional<std::uint64_t> ours;  // of our recordings, before the first removal
    const Removed removed = remove_oldest_recordings(
        s.dir, writing,
        [&](std::uint64_t left) {
          if (!ours) ours = left;
          return free_after(*ours - left) < s.min_free_bytes;
        },
        fmt::format("to keep record.min_free_mb ({:.0f} MB) free", s.min_free_bytes / kMiB));
    count_removed(removed.files);
    if (removed.bytes > 0) {
      free = free_after(removed.bytes);
      freed_ = {s.dir, freed_.bytes + removed.bytes, before, now + hooks_.removal_shows_within};
    }
  }
  {
    std::lock_guard lock(mutex_);
    stats_.free_bytes = *disk;
  }
  if (free < s.min_free_bytes)
    throw DiskError(
        fmt::format("the disk holding {} has {:.0f} MB free, below record.min_free_mb ({:.0f} MB)",
                    s.dir, free / kMiB, s.min_free_bytes / kMiB));
}

void Recorder::count_removed(std::uint64_t files) {
  if (files == 0) return;
  std::lock_guard lock(mutex_);
  stats_.files_removed += files;
}

void Recorder::open_segment(const Item& item, int part) {
  const RecordSettings& s = *item.settings;
  if (auto problem = check_writable_dir({"record.dir", s.dir, s.mount})) throw DiskError(*problem);
  make_room(s);
  check_disk(s, "");
  std::uint64_t number = 0;
  {
    std::lock_guard lock(mutex_);
    number = stats_.files + 1;
  }
  const std::string path = new_file_path(s.dir, "dreamwindow", number, ".mp4");
  std::vector<std::string> candidates = encoder_candidates(s.codec);
  if (auto it = std::find(candidates.begin(), candidates.end(), preferred_encoder_);
      it != candidates.end())
    std::rotate(candidates.begin(), it, it + 1);
  std::unique_ptr<VideoEncoder> encoder;
  try {
    encoder = std::make_unique<VideoEncoder>(
        path, EncoderSettings{item.width, item.height, s.fps, s.codec, s.quality}, candidates);
  } catch (...) {
    std::error_code ec;
    std::filesystem::remove(path, ec);  // a file without a header is no use to anyone
    throw;
  }
  if (encoder->encoder_name() != preferred_encoder_)
    spdlog::info("recording: encoder {} (tried in order: {})", encoder->encoder_name(),
                 fmt::join(candidates, ", "));
  preferred_encoder_ = encoder->encoder_name();
  spdlog::info("recording: writing {} ({}x{}, {:g} fps, quality {}{})", path, item.width & ~1,
               item.height & ~1, s.fps, s.quality,
               part > 0 ? fmt::format(", part {}", part + 1) : "");
  auto seg = std::make_unique<Segment>();
  seg->encoder = std::move(encoder);
  seg->path = path;
  seg->session = item.session;
  seg->part = part;
  seg->width = item.width;
  seg->height = item.height;
  seg->t0 = item.t;
  std::lock_guard lock(mutex_);
  seg->bytes_before = stats_.bytes;
  stats_.file = path;
  stats_.encoder = seg->encoder->encoder_name();
  ++stats_.files;
  // A recording writing again (the operator's start, or the wiring's once the disk mended): the
  // stop before it is history, not a problem status should go on showing.
  stats_.last_error.clear();
  file_open_ = true;
  open_session_ = item.session;
  segment_ = std::move(seg);
}

void Recorder::close_segment() {
  if (!segment_) return;
  std::unique_ptr<Segment> seg = std::move(segment_);
  std::string problem;
  try {
    seg->encoder->finish();
  } catch (const std::exception& e) {
    problem = e.what();
  }
  const std::uint64_t frames = seg->encoder->frames();
  seg->encoder.reset();
  const std::uint64_t size = file_size_or_zero(seg->path);
  {
    std::lock_guard lock(mutex_);
    stats_.bytes = seg->bytes_before + size;
    stats_.file.clear();
    file_open_ = false;
  }
  if (!problem.empty())
    spdlog::warn("recording: {} may be cut short: {}", seg->path, problem);
  else
    spdlog::info("recording: {} finished: {} frames, {:.1f} MB", seg->path, frames, size / 1e6);
}

void Recorder::fail(std::uint64_t session, const std::string& warning, StopCause cause) {
  spdlog::warn("recording stopped: {} (the picture goes on; {})", warning,
               cause == StopCause::Disk ? "recording starts again once the folder and the disk "
                                          "can take it"
                                        : "start recording again once fixed");
  close_segment();
  {
    std::lock_guard lock(mutex_);
    failed_session_ = session;
    if (session_ == session) {
      active_ = false;
      stats_.recording = false;
    }
    stats_.last_error = warning;
    // Frames of the failed recording still queued are not written.
    for (auto it = queue_.begin(); it != queue_.end();) {
      if (it->session != session) {
        ++it;
        continue;
      }
      ++stats_.frames_dropped;
      it = queue_.erase(it);
    }
  }
  if (hooks_.on_stopped) hooks_.on_stopped(warning, cause);
}

}  // namespace dw::record
