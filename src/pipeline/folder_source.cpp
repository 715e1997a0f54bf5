#include "pipeline/folder_source.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <utility>

#include "core/error.h"

namespace dw::pipeline {
namespace {

// The image whose name follows `name` (the first after the last).
std::vector<FolderImage>::const_iterator following(const std::vector<FolderImage>& images,
                                                   const std::string& name) {
  auto it = std::upper_bound(images.begin(), images.end(), name,
                             [](const std::string& n, const FolderImage& f) { return n < f.name; });
  return it == images.end() ? images.begin() : it;
}

// The first image held in memory: what is shown when nothing can be read.
std::shared_ptr<const Image> first_held(const std::vector<FolderImage>& images) {
  for (const FolderImage& f : images)
    if (f.image) return f.image;
  return nullptr;
}

}  // namespace

std::chrono::milliseconds rescan_pause(std::chrono::milliseconds every, bool unread,
                                       std::chrono::milliseconds listing_time) {
  return std::max(unread ? every / 4 : every, kListingShare * listing_time);
}

FolderKeyframeSource::FolderKeyframeSource(std::vector<FolderImage> images)
    : images_(std::move(images)), from_folder_(true) {
  DW_CHECK(!images_.empty(), "the folder source needs at least one image");
  DW_CHECK(
      std::all_of(images_.begin(), images_.end(), [](const FolderImage& f) { return f.image; }),
      "a fixed set of folder images is held in memory");
  last_image_ = images_.front().image;
  status_.images = images_.size();
}

FolderKeyframeSource::FolderKeyframeSource(ImageFolder folder, std::vector<FolderImage> stand_in,
                                           std::string stand_in_what,
                                           std::chrono::milliseconds every, std::size_t read_ahead)
    : stand_in_what_(std::move(stand_in_what)),
      read_ahead_count_(read_ahead),
      folder_(std::move(folder)) {
  from_folder_ = !folder_->images().empty();
  images_ = from_folder_ ? folder_->images() : std::move(stand_in);
  DW_CHECK(!images_.empty(), "the folder source needs at least one image");
  last_image_ = first_held(images_);  // a folder's first scan holds one image at least
  DW_CHECK(last_image_ != nullptr, "the folder source needs an image held in memory");
  status_ = FolderStatus{.path = folder_->dir().string(),
                         .images = from_folder_ ? images_.size() : 0,
                         .unreadable = folder_->unreadable(),
                         .unread = folder_->unread(),
                         .on_disk = from_folder_ ? folder_->on_disk() : 0,
                         .watched = true};
  status_.problem = problem_text();
  want_ahead_ = true;  // the first images not held, before the first keyframe is taken
  thread_ = std::jthread([this, every](std::stop_token stop) { watch(stop, every); });
}

FolderKeyframeSource::~FolderKeyframeSource() {
  thread_.request_stop();
  if (thread_.joinable()) thread_.join();
}

bool FolderKeyframeSource::submit(KeyframeRequest request) {
  return requests_.push(request.index, WhenFull::Skip);
}

std::optional<Keyframe> FolderKeyframeSource::next(std::stop_token stop,
                                                   std::chrono::milliseconds timeout) {
  const std::optional<std::uint64_t> index = requests_.pop(stop, timeout);
  if (!index) return std::nullopt;
  // An image not held that cannot be read (its disk gone) gives way to the next: every image is
  // tried once at most, then the last picture is shown again.
  for (std::size_t tried = 0;; ++tried) {
    std::shared_ptr<const Image> image;
    std::string file;
    bool on_the_spot = false;
    {
      std::lock_guard lock(mutex_);
      if (tried >= images_.size()) break;
      const auto it = following(images_, last_name_);
      file = last_name_ = it->name;
      image = it->image;
      if (!image)
        if (const auto a = ahead_.find(file); a != ahead_.end()) image = a->second;
      want_ahead_ = true;
    }
    wake_.notify_one();  // the watch thread reads the next ones meanwhile
    if (!image) {
      // Not ready (taken faster than the disk reads): read here. folder_ is set, as only a
      // watched folder lists images without pixels, and load() only reads what never changes.
      try {
        image = folder_->load(file);
        on_the_spot = true;
      } catch (const std::exception& e) {
        std::lock_guard lock(mutex_);
        if (!std::exchange(failing_, true))
          spdlog::warn("source.folder: {}; showing the next image that can be read", e.what());
        continue;
      }
    }
    std::lock_guard lock(mutex_);
    read_on_the_spot_ += on_the_spot;
    if (on_the_spot) failing_ = false;  // read: the next failure is news again
    last_image_ = image;
    return Keyframe{*index, *image, std::nullopt, "folder " + file};
  }
  std::lock_guard lock(mutex_);
  return Keyframe{*index, *last_image_, std::nullopt, "folder (again: none could be read)"};
}

FolderStatus FolderKeyframeSource::folder_status() const {
  std::lock_guard lock(mutex_);
  return status_;
}

std::uint64_t FolderKeyframeSource::scans() const {
  std::lock_guard lock(mutex_);
  return scans_;
}

std::uint64_t FolderKeyframeSource::read_ahead() const {
  std::lock_guard lock(mutex_);
  return read_ahead_;
}

std::uint64_t FolderKeyframeSource::read_on_the_spot() const {
  std::lock_guard lock(mutex_);
  return read_on_the_spot_;
}

std::string FolderKeyframeSource::problem_text() const {
  const std::string& problem = folder_->problem();
  if (problem.empty()) return "";
  if (from_folder_)
    return fmt::format("{}; showing the {} image{} read from it before", problem, images_.size(),
                       images_.size() == 1 ? "" : "s");
  return fmt::format("{}; showing {} until it has images", problem, stand_in_what_);
}

void FolderKeyframeSource::watch(std::stop_token stop, std::chrono::milliseconds every) {
  // folder_ is this thread's alone (but for load(), which reads only what never changes).
  const auto pause = [&] {
    return rescan_pause(every, folder_->unread() > 0, folder_->listing_time());
  };
  auto scan_at = std::chrono::steady_clock::now() + pause();
  while (!stop.stop_requested()) {
    {
      std::unique_lock lock(mutex_);
      if (!wake_.wait_until(lock, stop, scan_at, [&] { return want_ahead_; }) &&
          stop.stop_requested())
        return;
    }
    read_next_ones();
    if (std::chrono::steady_clock::now() >= scan_at) {
      rescan();
      scan_at = std::chrono::steady_clock::now() + pause();
    }
  }
}

void FolderKeyframeSource::read_next_ones() {
  std::vector<std::string> wanted;
  {
    std::lock_guard lock(mutex_);
    if (!std::exchange(want_ahead_, false)) return;  // no keyframe taken, no change since
    // The next read_ahead_count_ keyframes' images: those not held are kept if read already, else
    // read now; what was read for keyframes since taken goes.
    std::map<std::string, std::shared_ptr<const Image>> keep;
    auto it = following(images_, last_name_);
    for (std::size_t n = 0; n < std::min(read_ahead_count_, images_.size()); ++n) {
      if (!it->image) {
        if (const auto a = ahead_.find(it->name); a != ahead_.end())
          keep.insert(*a);
        else
          wanted.push_back(it->name);
      }
      if (++it == images_.end()) it = images_.begin();
    }
    ahead_ = std::move(keep);
  }
  for (const std::string& name : wanted) {
    std::shared_ptr<const Image> image;
    try {
      image = folder_->load(name);  // without the lock
    } catch (const std::exception&) {
      continue;  // said when its turn comes and it still cannot be read
    }
    std::lock_guard lock(mutex_);
    ahead_.emplace(name, std::move(image));
    ++read_ahead_;
    failing_ = false;
  }
}

void FolderKeyframeSource::rescan() {
  ImageFolder& folder = *folder_;
  const std::string before = folder.problem();
  const bool changed = folder.scan();  // decodes here, on this thread, without the lock
  std::lock_guard lock(mutex_);
  ++scans_;
  if (changed && !folder.images().empty()) {
    if (!from_folder_) last_name_.clear();  // the folder's own order starts at its first image
    images_ = folder.images();
    ahead_.clear();  // read before a file was replaced, perhaps
    want_ahead_ = true;
    from_folder_ = true;
    // A large folder read in turns says so once it is read whole, not at every turn.
    spdlog::log(folder.unread() > 0 ? spdlog::level::debug : spdlog::level::info,
                "source.folder: '{}' has {} image{}{}; keyframes show them from now on",
                folder.dir().string(), images_.size(), images_.size() == 1 ? "" : "s",
                folder.unread() > 0 ? fmt::format(" read ({} more to read)", folder.unread())
                                    : std::string());
  }
  status_.images = from_folder_ ? images_.size() : 0;
  status_.unreadable = folder.unreadable();
  status_.unread = folder.unread();
  status_.on_disk = from_folder_ ? folder.on_disk() : 0;
  status_.problem = problem_text();
  if (folder.problem() != before && !folder.problem().empty())
    spdlog::warn("source.folder = '{}': {}", folder.dir().string(), status_.problem);
  else if (!before.empty() && folder.problem().empty() && !changed)
    spdlog::info("source.folder: '{}' can be read again", folder.dir().string());
}

}  // namespace dw::pipeline
