// The folder source: keyframes are the images of a folder, in name order, round and round; the
// pipeline interpolates between them like any other keyframes (latent slerp with a VAE, a
// crossfade without). For slideshows of a curated set, and for tests that need to know exactly
// what a keyframe looks like.
//
// Watched, it reads the folder again every so often on a thread of its own (ImageFolder: only new
// or changed files are decoded, never on the orchestrator's thread): images added, removed or
// replaced are shown from the next keyframe taken on. A folder that is gone (a disk unplugged, a
// share not mounted yet) or empty never empties the show: it goes on with the images it has, and
// folder_status() says why. Each keyframe is the image after the previous one's name (the first
// after the last), so the order stays name order across changes. A large folder is read a turn
// at a time (the folder's read budget, ImageFolder::read_for), every `every` / 4 until it is read
// whole: the show starts with the first images and takes in the others as they are read.
// Images over the folder's memory budget (ImageFolder::hold_up_to) are read from their files
// ahead of need: each keyframe taken wakes the watch thread, which reads the next kReadAhead of
// them, so the orchestrator never waits on a decode. One that cannot be read when its turn comes
// (its disk gone) gives way to the next image; nothing readable at all, the last picture again.
#pragma once

#include <chrono>
#include <condition_variable>
#include <map>
#include <mutex>
#include <thread>
#include <vector>

#include "core/bounded_queue.h"
#include "pipeline/image_folder.h"
#include "pipeline/keyframe_source.h"

namespace dw::pipeline {

// The pause before the folder source lists its folder again: `every`, a quarter of it while
// files are left unread (a large folder read in turns), and never less than kListingShare times
// what the last listing took, so a huge tree or a slow share costs at most about 5 % of a core
// (a listing stats each image file twice: 20,000 files took about 0.1 s here).
inline constexpr int kListingShare = 20;
std::chrono::milliseconds rescan_pause(std::chrono::milliseconds every, bool unread,
                                       std::chrono::milliseconds listing_time);

class FolderKeyframeSource final : public KeyframeSource {
 public:
  // Images not held in memory read ahead of the keyframe taken (0: none, each read when taken).
  static constexpr std::size_t kReadAhead = 2;

  // A fixed set (not empty), already at keyframe size, in name order.
  explicit FolderKeyframeSource(std::vector<FolderImage> images);
  // Shows `folder`'s images (scanned once by the caller), or `stand_in` (not empty; `stand_in_what`
  // names it for status: "the default seed images") while the folder has none, and reads the
  // folder again every `every`; of its images not held in memory, the next `read_ahead` after
  // each keyframe taken are read before their turn.
  FolderKeyframeSource(ImageFolder folder, std::vector<FolderImage> stand_in,
                       std::string stand_in_what, std::chrono::milliseconds every,
                       std::size_t read_ahead = kReadAhead);
  ~FolderKeyframeSource() override;

  std::string name() const override { return "folder"; }
  bool submit(KeyframeRequest request) override;
  std::optional<Keyframe> next(std::stop_token stop, std::chrono::milliseconds timeout) override;
  std::size_t pending() const override { return requests_.size(); }
  // Answers at once: as many as its request queue holds.
  std::size_t capacity() const override { return requests_.capacity(); }
  bool healthy() const override { return true; }

  FolderStatus folder_status() const;
  // Scans done by the watch thread (tests wait on it).
  std::uint64_t scans() const;
  // Images not held in memory read ahead by the watch thread, and read on the spot by next()
  // because they were not ready.
  std::uint64_t read_ahead() const;
  std::uint64_t read_on_the_spot() const;

 private:
  void watch(std::stop_token stop, std::chrono::milliseconds every);
  void rescan();
  void read_next_ones();
  std::string problem_text() const;  // with mutex_ held

  BoundedQueue<std::uint64_t> requests_{4};
  mutable std::mutex mutex_;
  std::vector<FolderImage> images_;  // what is shown; never empty
  bool from_folder_ = false;         // images_ are the folder's (not the stand-in)
  std::string stand_in_what_;
  std::string last_name_;  // of the keyframe taken last: the next one follows it in name order
  std::shared_ptr<const Image> last_image_;  // its picture: shown again when none can be read
  std::map<std::string, std::shared_ptr<const Image>> ahead_;  // not held, read ahead
  bool want_ahead_ = false;  // a keyframe was taken: read the next ones
  bool failing_ = false;     // an image not held could not be read (warned once until one is)
  std::condition_variable_any wake_;
  FolderStatus status_;
  std::uint64_t scans_ = 0;
  std::size_t read_ahead_count_ = kReadAhead;  // images not held read ahead
  std::uint64_t read_ahead_ = 0;
  std::uint64_t read_on_the_spot_ = 0;
  std::optional<ImageFolder> folder_;  // the watch thread's own after construction
  std::jthread thread_;                // last: stops before the rest goes
};

}  // namespace dw::pipeline
