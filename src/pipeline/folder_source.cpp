#include "pipeline/folder_source.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>

#include "core/error.h"
#include "core/stop_sleep.h"

namespace dw::pipeline {

FolderKeyframeSource::FolderKeyframeSource(std::vector<FolderImage> images)
    : images_(std::move(images)), from_folder_(true) {
  DW_CHECK(!images_.empty(), "the folder source needs at least one image");
  status_.images = images_.size();
}

FolderKeyframeSource::FolderKeyframeSource(ImageFolder folder, std::vector<FolderImage> stand_in,
                                           std::string stand_in_what,
                                           std::chrono::milliseconds every)
    : stand_in_what_(std::move(stand_in_what)), folder_(std::move(folder)) {
  from_folder_ = !folder_->images().empty();
  images_ = from_folder_ ? folder_->images() : std::move(stand_in);
  DW_CHECK(!images_.empty(), "the folder source needs at least one image");
  status_ = FolderStatus{.path = folder_->dir().string(),
                         .images = from_folder_ ? images_.size() : 0,
                         .unreadable = folder_->unreadable(),
                         .unread = folder_->unread(),
                         .watched = true};
  status_.problem = problem_text();
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
  std::shared_ptr<const Image> image;
  std::string file;
  {
    std::lock_guard lock(mutex_);
    auto it =
        std::upper_bound(images_.begin(), images_.end(), last_name_,
                         [](const std::string& n, const FolderImage& f) { return n < f.name; });
    if (it == images_.end()) it = images_.begin();
    image = it->image;
    file = last_name_ = it->name;
  }
  return Keyframe{*index, *image, std::nullopt, "folder " + file};
}

FolderStatus FolderKeyframeSource::folder_status() const {
  std::lock_guard lock(mutex_);
  return status_;
}

std::uint64_t FolderKeyframeSource::scans() const {
  std::lock_guard lock(mutex_);
  return scans_;
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
  // A large folder still being read (a turn at a time) is read on after a quarter of the pause.
  // folder_ is this thread's alone.
  while (sleep_unless_stopped(stop, folder_->unread() > 0 ? every / 4 : every)) rescan();
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
  status_.problem = problem_text();
  if (folder.problem() != before && !folder.problem().empty())
    spdlog::warn("source.folder = '{}': {}", folder.dir().string(), status_.problem);
  else if (!before.empty() && folder.problem().empty() && !changed)
    spdlog::info("source.folder: '{}' can be read again", folder.dir().string());
}

}  // namespace dw::pipeline
