#include "pipeline/resume.h"

#include <fmt/chrono.h>
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <ctime>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <set>

#include "core/error.h"
#include "core/files.h"
#include "core/local_time.h"

namespace dw::pipeline {
namespace {

namespace fs = std::filesystem;
constexpr int kVersion = 1;
constexpr std::size_t kMaxStateBytes = 64 * 1024;

std::string png_name(std::uint64_t index) {
  return fmt::format("keyframe-{}.png", index);
}

double unix_now() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

nlohmann::json parse_state(const std::string& path) {
  const std::vector<std::uint8_t> bytes = read_file(path, kMaxStateBytes);
  nlohmann::json j = nlohmann::json::parse(bytes.begin(), bytes.end(), nullptr, false);
  if (j.is_discarded() || !j.is_object())
    throw InputError(fmt::format("'{}' is not a JSON object", path));
  if (j.value("version", 0) != kVersion)
    throw InputError(fmt::format("'{}' has version {} (expected {})", path,
                                 j.contains("version") ? j["version"].dump() : "none", kVersion));
  return j;
}

std::vector<std::uint64_t> indexes_of(const nlohmann::json& j, const std::string& path) {
  const auto it = j.find("keyframes");
  if (it == j.end() || !it->is_array() || it->empty() || it->size() > 2)
    throw InputError(fmt::format("'{}': 'keyframes' must list one or two indexes", path));
  std::vector<std::uint64_t> out;
  for (const auto& v : *it) {
    if (!v.is_number_unsigned() || v.get<std::uint64_t>() == 0 ||
        (!out.empty() && v.get<std::uint64_t>() <= out.back()))
      throw InputError(fmt::format("'{}': 'keyframes' must be increasing positive indexes, not {}",
                                   path, it->dump()));
    out.push_back(v.get<std::uint64_t>());
  }
  return out;
}

}  // namespace

std::optional<ResumeState> load_resume_state(const std::string& dir, int width, int height) {
  const std::string path = (fs::path(dir) / "state.json").string();
  std::error_code ec;
  if (!fs::exists(path, ec)) return std::nullopt;
  const nlohmann::json j = parse_state(path);
  if (j.value("width", 0) != width || j.value("height", 0) != height)
    throw InputError(fmt::format("'{}' holds {}x{} keyframes, the stream is {}x{} now", path,
                                 j.value("width", 0), j.value("height", 0), width, height));
  ResumeState state;
  for (const std::uint64_t index : indexes_of(j, path)) {
    const std::string png = (fs::path(dir) / png_name(index)).string();
    Image image = load_image(png);  // InputError naming the file when missing or broken
    if (image.width != width || image.height != height)
      throw InputError(
          fmt::format("'{}' is {}x{}, not {}x{}", png, image.width, image.height, width, height));
    state.keyframes.push_back({index, std::move(image)});
  }
  const auto theme = j.find("theme");
  const auto started = j.find("theme_started_at");
  if (theme != j.end() && theme->is_string()) state.theme.theme = theme->get<std::string>();
  if (started != j.end() && started->is_number_unsigned())
    state.theme.started_at = started->get<std::uint64_t>();
  if (const auto at = j.find("saved_at"); at != j.end() && at->is_number())
    state.saved_at = at->get<double>();
  return state;
}

std::size_t save_resume_state(const std::string& dir, const ResumeState& state,
                              const std::set<std::uint64_t>& on_disk) {
  DW_CHECK(!state.keyframes.empty() && state.keyframes.size() <= 2,
           "a resume state holds one or two keyframes");
  fs::create_directories(dir);
  std::size_t bytes = 0;
  std::set<std::string> keep{"state.json"};
  nlohmann::json indexes = nlohmann::json::array();
  for (const ResumeKeyframe& k : state.keyframes) {
    const std::string name = png_name(k.index);
    keep.insert(name);
    indexes.push_back(k.index);
    const std::string path = (fs::path(dir) / name).string();
    std::error_code ec;
    if (on_disk.contains(k.index) && fs::exists(path, ec)) continue;  // the same keyframe
    const std::vector<std::uint8_t> png = encode_png(k.image);
    write_file_atomic(path, png);
    bytes += png.size();
  }
  const nlohmann::json j = {{"version", kVersion},
                            {"keyframes", indexes},
                            {"theme", state.theme.theme},
                            {"theme_started_at", state.theme.started_at},
                            {"width", state.keyframes.back().image.width},
                            {"height", state.keyframes.back().image.height},
                            {"saved_at", state.saved_at > 0 ? state.saved_at : unix_now()}};
  const std::string text = j.dump(2);
  write_file_atomic((fs::path(dir) / "state.json").string(), text);
  bytes += text.size();
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    const std::string name = entry.path().filename().string();
    if (name.starts_with("keyframe-") && name.ends_with(".png") && !keep.contains(name))
      fs::remove(entry.path(), ec);
  }
  remove_stale_temporaries(dir);  // writes an unclean stop cut short
  return bytes;
}

std::string resume_dir_for(const std::string& status_path) {
  const fs::path parent = fs::path(status_path).parent_path();
  return (parent.empty() ? fs::path("resume") : parent / "resume").string();
}

ResumeStart read_resume_start(const std::string& dir, int width, int height) {
  ResumeStart start;
  start.source = "seed image";
  try {
    std::optional<ResumeState> state = load_resume_state(dir, width, height);
    if (!state) return start;
    const std::uint64_t index = state->keyframes.back().index;
    const std::time_t saved = static_cast<std::time_t>(state->saved_at);
    const std::tm local = local_calendar_time(saved);
    start.source =
        fmt::format("resume state: keyframe {} saved {:%Y-%m-%d %H:%M:%S}", index, local);
    spdlog::info("resume: continuing from keyframe {} (theme '{}'), saved {:%Y-%m-%d %H:%M:%S}",
                 index, state->theme.theme, local);
    start.keyframes = std::move(state->keyframes);
    start.theme = std::move(state->theme);
  } catch (const std::exception& e) {
    spdlog::warn("resume: the saved state cannot be used ({}); starting from a seed image",
                 e.what());
    start.source = "seed image (the resume state could not be used)";
  }
  return start;
}

ResumeWriter::ResumeWriter(ResumeWriterOptions options)
    : options_(std::move(options)), budget_(options_.mb_per_day * 1024.0 * 1024.0) {
  thread_ = std::jthread([this](std::stop_token stop) { run(stop); });
}

ResumeWriter::~ResumeWriter() {
  stop();
}

void ResumeWriter::offer(std::uint64_t index, Image image, ThemePosition theme) {
  {
    std::lock_guard lock(mutex_);
    auto& kfs = pending_.keyframes;
    if (!kfs.empty() && kfs.back().index >= index) return;
    kfs.push_back({index, std::move(image)});
    if (kfs.size() > 2) kfs.erase(kfs.begin());
    pending_.theme = std::move(theme);
    dirty_ = true;
    ++offers_;
  }
  wake_.notify_all();
}

void ResumeWriter::stop() {
  if (!thread_.joinable()) return;
  thread_.request_stop();
  thread_.join();
  std::unique_lock lock(mutex_);
  if (dirty_) save_locked(lock);  // the last keyframe of this run, whatever the budget says
}

ResumeStats ResumeWriter::stats() const {
  std::lock_guard lock(mutex_);
  return stats_;
}

void ResumeWriter::save_locked(std::unique_lock<std::mutex>& lock) {
  ResumeState state = pending_;
  state.saved_at = unix_now();
  dirty_ = false;
  last_save_ = Clock::now();
  const std::set<std::uint64_t> on_disk = on_disk_;
  lock.unlock();
  std::size_t bytes = 0;
  std::string error;
  try {
    bytes = save_resume_state(options_.dir, state, on_disk);
  } catch (const std::exception& e) {
    error = e.what();
  }
  lock.lock();
  budget_.spend(bytes, Clock::now());
  stats_.bytes += bytes;
  if (!error.empty()) {
    if (stats_.failures++ == 0) spdlog::warn("resume: saving the state failed: {}", error);
    stats_.last_error = error;
    // Still not saved: tried again after every_s and at stop, even when no keyframe comes (a
    // paused generation) to mark it anew.
    dirty_ = true;
    return;
  }
  ++stats_.saves;
  stats_.last_saved_keyframe = state.keyframes.back().index;
  on_disk_.clear();
  for (const ResumeKeyframe& k : state.keyframes) on_disk_.insert(k.index);
}

void ResumeWriter::run(std::stop_token stop) {
  const auto every = std::chrono::duration_cast<Clock::duration>(
      std::chrono::duration<double>(std::max(options_.every_s, 0.0)));
  std::unique_lock lock(mutex_);
  while (!stop.stop_requested()) {
    const Clock::time_point now = Clock::now();
    const Clock::time_point due = last_save_ ? *last_save_ + every : now;
    if (dirty_ && now >= due && budget_.allows(now)) {
      save_locked(lock);
      continue;
    }
    // Wake for a new keyframe, when the next save is due, or to look at the budget again.
    const Clock::duration wait = !dirty_     ? Clock::duration(std::chrono::hours(1))
                                 : now < due ? due - now
                                             : Clock::duration(std::chrono::seconds(1));
    const std::uint64_t seen = offers_;
    wake_.wait_for(lock, stop, wait, [&] { return offers_ != seen; });
  }
}

}  // namespace dw::pipeline
