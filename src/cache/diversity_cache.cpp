#include "cache/diversity_cache.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "core/error.h"
#include "core/files.h"

namespace dw::cache {
namespace {

constexpr std::size_t kMaxIndexBytes = 16u << 20;
constexpr int kIndexVersion = 1;

std::optional<EntryKind> kind_from_name(const std::string& s) {
  if (s == "keyframe") return EntryKind::Keyframe;
  if (s == "injected") return EntryKind::Injected;
  if (s == "middle") return EntryKind::Middle;
  return std::nullopt;
}

// Entry files are always "<id>.png": a name from the index never becomes a path unchecked.
std::string entry_file_name(std::uint64_t id) {
  return fmt::format("{:016x}.png", id);
}

}  // namespace

const char* entry_kind_name(EntryKind kind) {
  switch (kind) {
    case EntryKind::Keyframe:
      return "keyframe";
    case EntryKind::Injected:
      return "injected";
    case EntryKind::Middle:
      return "middle";
  }
  return "?";
}

double pair_redundancy(const Similarity& s, const CacheThresholds& t) {
  return 0.5 * (s.colour / t.colour + s.structure / t.structure);
}

DiversityCache::DiversityCache(std::string dir, CacheThresholds thresholds)
    : dir_(std::move(dir)), thresholds_(thresholds) {
  std::error_code ec;
  std::filesystem::create_directories(dir_, ec);
  if (ec) throw Error(fmt::format("cannot create cache directory '{}': {}", dir_, ec.message()));
  grow_matrix_locked(std::max<std::size_t>(thresholds_.max_entries + 1, 8));
  load_index();
}

void DiversityCache::grow_matrix_locked(std::size_t capacity) {
  if (capacity <= capacity_) return;
  std::vector<Similarity> grown(capacity * capacity);
  for (std::size_t i = 0; i < entries_.size(); ++i)
    for (std::size_t j = 0; j < entries_.size(); ++j)
      grown[i * capacity + j] = matrix_[i * capacity_ + j];
  matrix_ = std::move(grown);
  capacity_ = capacity;
}

void DiversityCache::set_thresholds(const CacheThresholds& thresholds) {
  std::lock_guard lock(mutex_);
  thresholds_ = thresholds;
  grow_matrix_locked(thresholds_.max_entries + 1);
  bool changed = false;
  while (entries_.size() > thresholds_.max_entries) {
    remove_locked(most_redundant_locked());
    changed = true;
  }
  if (changed) write_index_locked();
}

Similarity DiversityCache::mean_similarity(const ImageFeatures& features) const {
  std::lock_guard lock(mutex_);
  Similarity mean;
  if (entries_.empty()) return mean;
  for (const CacheEntry& e : entries_) {
    const Similarity s = similarity(features, e.features);
    mean.colour += s.colour;
    mean.structure += s.structure;
  }
  mean.colour /= entries_.size();
  mean.structure /= entries_.size();
  return mean;
}

Verdict DiversityCache::consider(const Image& image, const ImageFeatures& features, EntryKind kind,
                                 std::uint64_t keyframe_index) {
  Verdict verdict;
  verdict.mean_similarity = mean_similarity(features);
  {
    std::lock_guard lock(mutex_);
    const bool diverse =
        entries_.empty() || (verdict.mean_similarity.colour < thresholds_.colour &&
                             verdict.mean_similarity.structure < thresholds_.structure);
    if (!diverse) return verdict;
  }
  // Encode and write the PNG outside the lock: it is the slow part.
  std::uint64_t id;
  {
    std::lock_guard lock(mutex_);
    id = next_id_++;
  }
  const std::string file = entry_file_name(id);
  save_png(image, (std::filesystem::path(dir_) / file).string());

  std::lock_guard lock(mutex_);
  grow_matrix_locked(std::max(entries_.size() + 2, thresholds_.max_entries + 1));
  const std::size_t row = entries_.size();
  entries_.push_back(CacheEntry{id, kind, keyframe_index, features, file});
  for (std::size_t j = 0; j < row; ++j) {
    const Similarity s = similarity(features, entries_[j].features);
    pair(row, j) = s;
    pair(j, row) = s;
  }
  pair(row, row) = Similarity{3.0, 1.0};
  verdict.accepted = true;
  if (entries_.size() > thresholds_.max_entries) {
    const std::size_t victim = most_redundant_locked();
    verdict.evicted = entries_[victim].id;
    remove_locked(victim);
  }
  write_index_locked();
  return verdict;
}

std::size_t DiversityCache::most_redundant_locked() const {
  std::size_t best = 0;
  double best_score = -1;
  for (std::size_t i = 0; i < entries_.size(); ++i) {
    double worst_pair = 0;
    for (std::size_t j = 0; j < entries_.size(); ++j)
      if (j != i) worst_pair = std::max(worst_pair, pair_redundancy(pair(i, j), thresholds_));
    // Ties go to the older entry: keep what is fresh.
    if (worst_pair > best_score) {
      best_score = worst_pair;
      best = i;
    }
  }
  return best;
}

void DiversityCache::remove_locked(std::size_t index) {
  const std::size_t last = entries_.size() - 1;
  std::error_code ec;
  std::filesystem::remove(std::filesystem::path(dir_) / entries_[index].file, ec);
  if (index != last) {
    // Swap the last entry into the hole: one row and one column move.
    entries_[index] = std::move(entries_[last]);
    for (std::size_t j = 0; j < last; ++j) {
      pair(index, j) = pair(last, j);
      pair(j, index) = pair(j, last);
    }
    pair(index, index) = Similarity{3.0, 1.0};
  }
  entries_.pop_back();
}

double DiversityCache::max_redundancy() const {
  std::lock_guard lock(mutex_);
  double worst = 0;
  for (std::size_t i = 0; i < entries_.size(); ++i)
    for (std::size_t j = i + 1; j < entries_.size(); ++j)
      worst = std::max(worst, pair_redundancy(pair(i, j), thresholds_));
  return worst;
}

std::vector<CacheEntry> DiversityCache::entries() const {
  std::lock_guard lock(mutex_);
  return entries_;
}

std::size_t DiversityCache::size() const {
  std::lock_guard lock(mutex_);
  return entries_.size();
}

Image DiversityCache::load_image(std::uint64_t id) const {
  return dw::load_image((std::filesystem::path(dir_) / entry_file_name(id)).string());
}

void DiversityCache::write_index_locked() const {
  nlohmann::json index;
  index["version"] = kIndexVersion;
  index["next_id"] = next_id_;
  nlohmann::json list = nlohmann::json::array();
  for (const CacheEntry& e : entries_) {
    nlohmann::json j;
    j["id"] = e.id;
    j["kind"] = entry_kind_name(e.kind);
    j["keyframe"] = e.keyframe_index;
    j["hsv"] = e.features.hsv;
    j["phash"] = fmt::format("{:016x}", e.features.phash);
    j["latent_stats"] = e.features.latent_stats;
    list.push_back(std::move(j));
  }
  index["entries"] = std::move(list);
  write_file_atomic((std::filesystem::path(dir_) / "index.json").string(), index.dump(1));
}

void DiversityCache::load_index() {
  const std::string path = (std::filesystem::path(dir_) / "index.json").string();
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) return;
  nlohmann::json index;
  try {
    const auto bytes = read_file(path, kMaxIndexBytes);
    index = nlohmann::json::parse(bytes.begin(), bytes.end());
    if (!index.is_object() || index.value("version", 0) != kIndexVersion ||
        !index.contains("entries") || !index["entries"].is_array())
      throw InputError("unknown layout");
  } catch (const std::exception& e) {
    spdlog::warn("cache index '{}' is unreadable ({}); starting with an empty cache", path,
                 e.what());
    return;
  }
  std::lock_guard lock(mutex_);
  for (const nlohmann::json& j : index["entries"]) {
    try {
      CacheEntry e;
      e.id = j.at("id").get<std::uint64_t>();
      const auto kind = kind_from_name(j.at("kind").get<std::string>());
      if (!kind) throw InputError("unknown kind");
      e.kind = *kind;
      e.keyframe_index = j.at("keyframe").get<std::uint64_t>();
      const auto hsv = j.at("hsv").get<std::vector<float>>();
      if (hsv.size() != e.features.hsv.size()) throw InputError("histogram size");
      std::copy(hsv.begin(), hsv.end(), e.features.hsv.begin());
      e.features.phash = std::stoull(j.at("phash").get<std::string>(), nullptr, 16);
      e.features.latent_stats = j.value("latent_stats", std::vector<float>{});
      e.file = entry_file_name(e.id);
      if (!std::filesystem::is_regular_file(std::filesystem::path(dir_) / e.file, ec))
        throw InputError(fmt::format("image file {} is missing", e.file));
      next_id_ = std::max(next_id_, e.id + 1);
      grow_matrix_locked(std::max(entries_.size() + 2, thresholds_.max_entries + 1));
      const std::size_t row = entries_.size();
      entries_.push_back(std::move(e));
      for (std::size_t k = 0; k < row; ++k) {
        const Similarity s = similarity(entries_[row].features, entries_[k].features);
        pair(row, k) = s;
        pair(k, row) = s;
      }
      pair(row, row) = Similarity{3.0, 1.0};
    } catch (const std::exception& ex) {
      spdlog::warn("cache index '{}': dropping an entry ({})", path, ex.what());
    }
  }
  next_id_ = std::max(next_id_, index.value("next_id", std::uint64_t{1}));
  while (entries_.size() > thresholds_.max_entries) remove_locked(most_redundant_locked());
  spdlog::info("cache '{}': {} entries loaded", dir_, entries_.size());
}

}  // namespace dw::cache
