#include "pipeline/image_folder.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cctype>

namespace dw::pipeline {
namespace {

bool is_image_name(const std::string& name) {
  if (name.empty() || name.front() == '.') return false;
  std::string ext = std::filesystem::path(name).extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return ext == ".png" || ext == ".jpg" || ext == ".jpeg";
}

// A subfolder whose images are shown: not hidden (.Trashes, .Spotlight-V100 on a stick a Mac has
// seen), not a Windows recycle bin ($RECYCLE.BIN: deleted photos) or system folder.
bool is_shown_folder(const std::string& name) {
  return !name.empty() && name.front() != '.' && name.front() != '$' &&
         name != "System Volume Information" && name != "lost+found";
}

}  // namespace

ImageFolder::ImageFolder(std::filesystem::path dir, int width, int height)
    : dir_(std::move(dir)), width_(width), height_(height) {}

std::uint64_t ImageFolder::unreadable() const {
  return static_cast<std::uint64_t>(std::count_if(
      entries_.begin(), entries_.end(), [](const auto& e) { return !e.second.readable; }));
}

std::uint64_t ImageFolder::on_disk() const {
  return static_cast<std::uint64_t>(
      std::count_if(images_.begin(), images_.end(), [](const FolderImage& f) { return !f.image; }));
}

std::shared_ptr<const Image> ImageFolder::load(const std::string& name) const {
  return std::make_shared<const Image>(
      resize_cover(load_image((dir_ / name).string(), kFolderImageLimits), width_, height_));
}

bool ImageFolder::list(std::map<std::string, Entry>& found) {
  namespace fs = std::filesystem;
  std::error_code ec;
  const fs::file_status st = fs::status(dir_, ec);
  if (!fs::exists(st)) {
    problem_ = ec && ec != std::errc::no_such_file_or_directory
                   ? fmt::format("cannot read it: {}", ec.message())
                   : "no such folder";
    return false;
  }
  if (!fs::is_directory(st)) {
    problem_ = "not a folder";
    return false;
  }
  // Links to folders are not followed (no loops); a subfolder that may not be read is passed by.
  fs::recursive_directory_iterator it(dir_, fs::directory_options::skip_permission_denied, ec);
  for (; !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
    const std::string name = it->path().filename().string();
    std::error_code entry_ec;
    if (it->is_directory(entry_ec)) {
      if (!subfolders_ || it.depth() + 1 >= kMaxFolderDepth || !is_shown_folder(name))
        it.disable_recursion_pending();
      continue;
    }
    if (!is_image_name(name) || !it->is_regular_file(entry_ec)) continue;
    Entry e;
    e.mtime = it->last_write_time(entry_ec);
    e.size = it->file_size(entry_ec);
    if (!entry_ec)
      found.emplace(it->path().lexically_relative(dir_).generic_string(), std::move(e));
  }
  if (ec) {
    problem_ = fmt::format("cannot read it: {}", ec.message());
    return false;
  }
  return true;
}

bool ImageFolder::scan() {
  std::map<std::string, Entry> found;
  const auto listing = std::chrono::steady_clock::now();
  const bool listed = list(found);
  listing_time_ = std::chrono::duration_cast<std::chrono::milliseconds>(
      std::chrono::steady_clock::now() - listing);
  // A folder that is gone or unreadable (a disk unplugged, a share down) keeps what it had.
  if (!listed) return false;
  const auto now = std::filesystem::file_time_type::clock::now();
  const auto started = std::chrono::steady_clock::now();
  settling_ = 0;
  unread_ = 0;
  bool changed = false;
  bool decoded = false;  // one file at least, whatever the budget
  // The bytes held by images already read that are still there: a new or changed image is held
  // if it fits beside them (and a replaced one's old picture goes as its new one is read).
  std::uint64_t held = 0;
  for (const auto& [name, e] : found)
    if (const auto old = entries_.find(name); old != entries_.end() && old->second.image)
      held += old->second.image->rgba.size();
  for (auto it = found.begin(); it != found.end();) {
    Entry& e = it->second;
    const auto old = entries_.find(it->first);
    if (old != entries_.end() && old->second.mtime == e.mtime && old->second.size == e.size) {
      e.image = old->second.image;  // unchanged: not decoded again
      e.readable = old->second.readable;
      ++it;
      continue;
    }
    const auto age = now - e.mtime;
    const bool writing = age >= decltype(age)::zero() && age < settle_;
    const bool out_of_time = !writing && decoded && read_budget_.count() > 0 &&
                             std::chrono::steady_clock::now() - started >= read_budget_;
    if (writing || out_of_time) {
      // Still being written, or no time left to read it: a new file is not listed yet (the next
      // scan sees it as new), a replaced one keeps its old picture until then.
      ++(writing ? settling_ : unread_);
      if (old == entries_.end()) {
        it = found.erase(it);
        continue;
      }
      e = old->second;
      ++it;
      continue;
    }
    changed = true;
    decoded = true;
    if (old != entries_.end() && old->second.image) held -= old->second.image->rgba.size();
    try {
      std::shared_ptr<const Image> image = load(it->first);
      const std::uint64_t bytes = image->rgba.size();
      e.readable = true;
      if (hold_budget_ == 0 || held == 0 || held + bytes <= hold_budget_) {
        e.image = std::move(image);
        held += bytes;
      }
    } catch (const std::exception& ex) {
      spdlog::warn("source.folder: skipping '{}': {}", (dir_ / it->first).string(), ex.what());
    }
    ++it;
  }
  changed = changed || found.size() != entries_.size();  // removed ones
  entries_ = std::move(found);
  if (changed) {
    images_.clear();
    for (const auto& [name, e] : entries_)
      if (e.readable) images_.push_back(FolderImage{name, e.image});
  }
  problem_ = !images_.empty() ? ""
             : settling_ > 0  ? "its images are still being written"
             : unread_ > 0    ? "its images are still being read"
                              : "no readable image in it";
  return changed;
}

}  // namespace dw::pipeline
