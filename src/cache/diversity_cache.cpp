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

// One index entry, checked field by field (throws on anything malformed). Measures are absent
// from indexes written before they existed.
CacheEntry parse_entry(const nlohmann::json& j, bool* has_measures) {
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
  // An index from before the measures, or from a build that took fewer of them: the caller
  // takes them from the image.
  const auto m = j.value("measures", std::vector<double>{});
  *has_measures = m.size() == e.features.measures.values.size();
  if (*has_measures) std::copy(m.begin(), m.end(), e.features.measures.values.begin());
  e.file = entry_file_name(e.id);
  return e;
}

}  // namespace

const char* refusal_name(Refusal r) {
  switch (r) {
    case Refusal::None:
      return "none";
    case Refusal::Similar:
      return "similar";
    case Refusal::Degenerate:
      return "degenerate";
    case Refusal::NoGain:
      return "no gain";
    case Refusal::Budget:
      return "write budget";
  }
  return "?";
}

bool degenerate(const PictureMeasures& m, const CacheThresholds& t, std::string* why) {
  const double clipped = m[Measure::Clipped], hf = m[Measure::Hf];
  const double variation = m[Measure::Variation];
  std::string reason;
  if (clipped > t.max_clipped)
    reason = fmt::format("clipped {:.3f} above {:.3f} (fried)", clipped, t.max_clipped);
  else if (hf > t.max_hf)
    reason = fmt::format("hf {:.3f} above {:.3f} (noise)", hf, t.max_hf);
  else if (variation < t.min_variation)
    reason = fmt::format("colour variation {:.1f} below {:.1f} (flat)", variation, t.min_variation);
  else
    return false;
  if (why) *why = std::move(reason);
  return true;
}

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

DiversityCache::DiversityCache(std::string dir, CacheThresholds thresholds, Clock clock)
    : dir_(std::move(dir)),
      thresholds_(thresholds),
      clock_(clock ? std::move(clock) : Clock([] { return std::chrono::steady_clock::now(); })),
      budget_(thresholds.write_bytes_per_day),
      last_renewal_(clock_()) {
  grow_matrix_locked(std::max<std::size_t>(thresholds_.max_entries + 1, 8));
  std::error_code ec;
  std::filesystem::create_directories(dir_, ec);
  if (ec) {
    // The cache is the show's memory, not the show: without its folder (a drive not mounted, a
    // path that is a file) it starts empty, and each frame it takes tries the folder again.
    spdlog::error(
        "cache: cannot create the folder '{}' ({}); the cache starts empty and takes frames once "
        "it can write there",
        dir_, ec.message());
    return;
  }
  // Writes cut short by an unclean stop (a power cut mid-PNG) would pile up over weeks.
  if (const std::size_t n = remove_stale_temporaries(dir_))
    spdlog::info("cache '{}': removed {} half-written files of an earlier run", dir_, n);
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

CacheThresholds DiversityCache::thresholds() const {
  std::lock_guard lock(mutex_);
  return thresholds_;
}

void DiversityCache::set_thresholds(const CacheThresholds& thresholds) {
  {
    std::lock_guard lock(mutex_);
    thresholds_ = thresholds;
    budget_.set_rate(thresholds.write_bytes_per_day);
    grow_matrix_locked(thresholds_.max_entries + 1);
    while (entries_.size() > thresholds_.max_entries) remove_locked(most_redundant_locked());
  }
  sync_disk();
}

std::vector<Similarity> DiversityCache::similarities_locked(const ImageFeatures& features) const {
  std::vector<Similarity> out;
  out.reserve(entries_.size());
  for (const CacheEntry& e : entries_) out.push_back(similarity(features, e.features));
  return out;
}

namespace {

Similarity mean_of(std::span<const Similarity> to_entries) {
  Similarity mean;
  if (to_entries.empty()) return mean;
  for (const Similarity& s : to_entries) {
    mean.colour += s.colour;
    mean.structure += s.structure;
  }
  mean.colour /= to_entries.size();
  mean.structure /= to_entries.size();
  return mean;
}

}  // namespace

Similarity DiversityCache::mean_similarity(const ImageFeatures& features) const {
  std::lock_guard lock(mutex_);
  return mean_of(similarities_locked(features));
}

Refusal DiversityCache::screen_locked(const ImageFeatures& features,
                                      std::span<const Similarity> to_entries,
                                      const Similarity& mean, bool& renewal) {
  const bool diverse = entries_.empty() ||
                       (mean.colour < thresholds_.colour && mean.structure < thresholds_.structure);
  if (!diverse) return Refusal::Similar;
  // Far from the cache on average is not enough: a near copy of one entry (over both thresholds
  // to it) would make the same injection twice as likely and take a place for nothing.
  for (const Similarity& s : to_entries)
    if (s.colour >= thresholds_.colour && s.structure >= thresholds_.structure)
      return Refusal::Similar;
  if (degenerate(features.measures, thresholds_)) return Refusal::Degenerate;
  if (entries_.size() >= thresholds_.max_entries && entries_.size() >= 2) {
    // Full: worth a write only if the newcomer's nearest pair is less redundant than the worst
    // pair already here (that pair then loses a member and the cache gains diversity).
    double nearest = 0;
    for (const Similarity& s : to_entries)
      nearest = std::max(nearest, pair_redundancy(s, thresholds_));
    double worst = 0;
    for (std::size_t i = 0; i < entries_.size(); ++i)
      for (std::size_t j = i + 1; j < entries_.size(); ++j)
        worst = std::max(worst, pair_redundancy(pair(i, j), thresholds_));
    if (nearest >= worst) {
      // The renewal (kRenewEvery): a near copy of an entry (its nearest pair over the
      // thresholds) never takes a place this way.
      const auto now = clock_();
      if (nearest >= 1.0 || now - last_renewal_ < kRenewEvery) return Refusal::NoGain;
      if (!budget_.allows(now)) return Refusal::Budget;
      renewal = true;
      last_renewal_ = now;
      return Refusal::None;
    }
  }
  if (!budget_.allows(clock_())) return Refusal::Budget;
  return Refusal::None;
}

Verdict DiversityCache::consider(const Image& image, const ImageFeatures& features, EntryKind kind,
                                 std::uint64_t keyframe_index) {
  Verdict verdict;
  std::uint64_t id;
  bool renewal = false;
  {
    std::lock_guard lock(mutex_);
    const std::vector<Similarity> to_entries = similarities_locked(features);
    verdict.mean_similarity = mean_of(to_entries);
    verdict.refusal = screen_locked(features, to_entries, verdict.mean_similarity, renewal);
    if (verdict.refusal != Refusal::None) return verdict;
    id = next_id_++;
  }
  // Encode and write the PNG outside the lock: it is the slow part.
  const std::string file = entry_file_name(id);
  const std::vector<std::uint8_t> png = encode_png(image);
  write_file_atomic((std::filesystem::path(dir_) / file).string(), png);

  {
    std::lock_guard lock(mutex_);
    ++files_written_;
    bytes_written_ += png.size();
    budget_.spend(png.size(), clock_());
    insert_locked(CacheEntry{id, kind, keyframe_index, features, file});
    verdict.accepted = true;
    verdict.id = id;
    if (entries_.size() > thresholds_.max_entries) {
      const std::size_t victim = renewal ? oldest_locked() : most_redundant_locked();
      verdict.evicted = entries_[victim].id;
      if (renewal) {
        ++renewals_;
        spdlog::info(
            "cache '{}': entry {} (keyframe {}), the oldest, makes way for keyframe {} "
            "(the hourly renewal)",
            dir_, entries_[victim].id, entries_[victim].keyframe_index, keyframe_index);
      }
      remove_locked(victim);
    }
  }
  verdict.index_error = sync_disk();
  return verdict;
}

std::size_t DiversityCache::oldest_locked() const {
  std::size_t oldest = 0;  // ids grow with each frame taken: the smallest is the oldest
  for (std::size_t i = 1; i < entries_.size(); ++i)
    if (entries_[i].id < entries_[oldest].id) oldest = i;
  return oldest;
}

std::uint64_t DiversityCache::renewals() const {
  std::lock_guard lock(mutex_);
  return renewals_;
}

void DiversityCache::insert_locked(CacheEntry entry) {
  index_dirty_ = true;
  grow_matrix_locked(std::max(entries_.size() + 2, thresholds_.max_entries + 1));
  const std::size_t row = entries_.size();
  entries_.push_back(std::move(entry));
  for (std::size_t j = 0; j < row; ++j) {
    const Similarity s = similarity(entries_[row].features, entries_[j].features);
    pair(row, j) = s;
    pair(j, row) = s;
  }
  pair(row, row) = Similarity{3.0, 1.0};
}

std::uint64_t DiversityCache::files_written() const {
  std::lock_guard lock(mutex_);
  return files_written_;
}

std::uint64_t DiversityCache::bytes_written() const {
  std::lock_guard lock(mutex_);
  return bytes_written_;
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
  doomed_.push_back(entries_[index].file);
  index_dirty_ = true;
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

bool DiversityCache::forget(std::uint64_t id) {
  {
    std::lock_guard lock(mutex_);
    const auto it = std::find_if(entries_.begin(), entries_.end(),
                                 [id](const CacheEntry& e) { return e.id == id; });
    if (it == entries_.end()) return false;
    remove_locked(static_cast<std::size_t>(it - entries_.begin()));
  }
  sync_disk();  // listed but missing, it is dropped at the next load
  return true;
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

namespace {

// A cache file loaded, or why not. A failure is the file's own (missing, no image, cut short)
// or only for now (too many open files, an I/O error, a drive that dropped out for a moment, a
// permission): only the first may remove an entry, since the second would empty the cache within
// minutes of a fault that mends itself.
struct LoadedEntry {
  std::optional<Image> image;
  bool for_now = false;
  std::string why;
};

LoadedEntry load_entry(const std::string& path) {
  LoadedEntry out;
  std::vector<std::uint8_t> bytes;
  try {
    bytes = read_file(path, ImageLimits{}.max_bytes);
  } catch (const InputError& e) {
    std::error_code ec;
    out.for_now = std::filesystem::exists(path, ec) || ec;  // there, or no telling
    out.why = e.what();
    return out;
  }
  try {
    out.image = decode_image(bytes, path);
  } catch (const InputError& e) {
    out.why = e.what();
  }
  return out;
}

}  // namespace

std::optional<Image> DiversityCache::load_image_or_forget(std::uint64_t id) {
  LoadedEntry loaded = load_entry((std::filesystem::path(dir_) / entry_file_name(id)).string());
  if (loaded.image) return std::move(loaded.image);
  if (loaded.for_now) {
    spdlog::warn("cache '{}': entry {} cannot be read now ({}); it stays for a later try", dir_, id,
                 loaded.why);
    return std::nullopt;
  }
  spdlog::warn("cache '{}': entry {} is unreadable ({}); it leaves the cache", dir_, id,
               loaded.why);
  forget(id);
  return std::nullopt;
}

std::string DiversityCache::index_text_locked() const {
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
    j["measures"] = e.features.measures.values;
    list.push_back(std::move(j));
  }
  index["entries"] = std::move(list);
  return index.dump(1);
}

std::string DiversityCache::sync_disk() {
  std::lock_guard turn(disk_mutex_);
  std::vector<std::string> doomed;
  std::optional<std::string> text;
  {
    std::lock_guard lock(mutex_);
    doomed.swap(doomed_);
    if (index_dirty_) text = index_text_locked();
    index_dirty_ = false;
  }
  if (disk_hook_ && (text || !doomed.empty())) disk_hook_();
  // Files first: an index that no longer lists a file whose removal did not happen would take it
  // back at the next start (the PNGs are the truth).
  for (const std::string& file : doomed) {
    std::error_code ec;
    std::filesystem::remove(std::filesystem::path(dir_) / file, ec);
  }
  if (!text) return {};
  try {
    write_file_atomic((std::filesystem::path(dir_) / "index.json").string(), *text);
  } catch (const std::exception& e) {
    spdlog::warn("cache '{}': the index was not written ({}); the next write or start mends it",
                 dir_, e.what());
    std::lock_guard lock(mutex_);
    index_dirty_ = true;  // the next sync tries again
    return e.what();
  }
  std::lock_guard lock(mutex_);
  bytes_written_ += text->size();
  budget_.spend(text->size(), clock_());
  return {};
}

std::size_t DiversityCache::recover_unlisted_locked() {
  std::vector<std::pair<std::uint64_t, std::filesystem::path>> unlisted;
  std::error_code ec;
  for (const auto& item : std::filesystem::directory_iterator(dir_, ec)) {
    const std::string name = item.path().filename().string();
    // Only names this cache writes (entry_file_name): whatever else is there is left alone.
    if (name.size() != 20 || !name.ends_with(".png") ||
        name.find_first_not_of("0123456789abcdef") != 16 || !item.is_regular_file(ec))
      continue;
    const std::uint64_t id = std::stoull(name.substr(0, 16), nullptr, 16);
    if (std::none_of(entries_.begin(), entries_.end(),
                     [id](const CacheEntry& e) { return e.id == id; }))
      unlisted.emplace_back(id, item.path());
  }
  std::sort(unlisted.begin(), unlisted.end());  // oldest first: the same order as the index
  std::size_t recovered = 0;
  for (const auto& [id, path] : unlisted) {
    next_id_ = std::max(next_id_, id + 1);
    LoadedEntry loaded = load_entry(path.string());
    if (!loaded.image && loaded.for_now) {
      spdlog::warn("cache '{}': {} cannot be read now ({}); it is left for the next start", dir_,
                   path.filename().string(), loaded.why);
      continue;
    }
    try {
      if (!loaded.image) throw InputError(loaded.why);
      CacheEntry e;
      e.id = id;
      e.kind = EntryKind::Keyframe;
      e.file = entry_file_name(id);
      e.features = compute_features(*loaded.image);
      std::string why;
      if (degenerate(e.features.measures, thresholds_, &why))
        throw InputError("a degenerate frame: " + why);
      insert_locked(std::move(e));
      ++recovered;
    } catch (const std::exception& ex) {
      spdlog::warn("cache '{}': removing {}, which the index does not list ({})", dir_,
                   path.filename().string(), ex.what());
      std::filesystem::remove(path, ec);
    }
  }
  if (recovered > 0)
    spdlog::info("cache '{}': {} entries the index did not list were taken back from their files",
                 dir_, recovered);
  return recovered;
}

void DiversityCache::load_index() {
  const std::string path = (std::filesystem::path(dir_) / "index.json").string();
  std::error_code ec;
  nlohmann::json index = nlohmann::json::object();
  if (std::filesystem::exists(path, ec)) {
    try {
      const auto bytes = read_file(path, kMaxIndexBytes);
      index = nlohmann::json::parse(bytes.begin(), bytes.end());
      if (!index.is_object() || index.value("version", 0) != kIndexVersion ||
          !index.contains("entries") || !index["entries"].is_array())
        throw InputError("unknown layout");
    } catch (const std::exception& e) {
      spdlog::warn("cache index '{}' is unreadable ({}); its entries are taken from their files",
                   path, e.what());
      index = nlohmann::json::object();
    }
  }
  std::size_t loaded = 0;
  {
    std::lock_guard lock(mutex_);
    for (const nlohmann::json& j : index.value("entries", nlohmann::json::array())) {
      try {
        bool has_measures = false;
        CacheEntry e = parse_entry(j, &has_measures);
        const auto image_path = std::filesystem::path(dir_) / e.file;
        if (!std::filesystem::is_regular_file(image_path, ec))
          throw InputError(fmt::format("image file {} is missing", e.file));
        next_id_ = std::max(next_id_, e.id + 1);
        // An index without (all of) the measures: take them from the image itself.
        if (!has_measures)
          e.features.measures = measure_picture(dw::load_image(image_path.string()));
        std::string why;
        if (degenerate(e.features.measures, thresholds_, &why)) {
          std::filesystem::remove(image_path, ec);
          throw InputError("a degenerate frame: " + why);
        }
        insert_locked(std::move(e));
      } catch (const std::exception& ex) {
        spdlog::warn("cache index '{}': dropping an entry ({})", path, ex.what());
      }
    }
    // A next_id that is no count (null, text, negative: a hand-edited or foreign index) is ignored:
    // the entries' own ids still keep new ids apart from theirs.
    if (const auto it = index.find("next_id"); it != index.end() && it->is_number_unsigned())
      next_id_ = std::max(next_id_, it->get<std::uint64_t>());
    const bool recovered = recover_unlisted_locked() > 0;
    const bool shrunk = entries_.size() > thresholds_.max_entries;
    while (entries_.size() > thresholds_.max_entries) remove_locked(most_redundant_locked());
    // The index is written again only when it no longer tells what is there.
    index_dirty_ = recovered || shrunk;
    loaded = entries_.size();
  }
  sync_disk();
  spdlog::info("cache '{}': {} entries loaded", dir_, loaded);
}

}  // namespace dw::cache
