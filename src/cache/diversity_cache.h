// The persistent cache of diverse past frames that injection draws from (BEHAVIOUR.md, "Cache,
// collapse and injection").
//
// What must stay true:
//  - at most `max_entries` entries; a frame is accepted only when its MEAN similarity to the
//    cache is below both thresholds (colour and structure);
//  - when full, the most redundant entry goes: the one with the highest maximum similarity to any
//    other entry (a mean would hide clusters of near-duplicates);
//  - the pairwise similarity matrix is kept incrementally: an insert computes one row (O(N)), an
//    eviction swaps the last entry into the hole (O(N));
//  - a degenerate frame (clipped share or high-frequency energy above the limits: a fried or
//    noisy picture; or colour variation below the floor: a featureless one, such as a crossfade
//    through grey) is never admitted, and one found in a loaded index is dropped;
//  - when full, a frame is admitted only if the cache gets more diverse: its nearest pair must be
//    less redundant than the cache's worst pair (otherwise it would only take the place of its
//    nearest neighbour, and every such swap costs a PNG write);
//  - on disk: one PNG per entry plus index.json, written atomically after every change; a frame is
//    written only when it is admitted, and admissions stop while the write budget
//    (`write_bytes_per_day`, write_budget.h) is spent; a missing file drops that entry with a
//    warning at load, never the whole cache, and one found unreadable when it is used is
//    forgotten by its user (the orchestrator's injection);
//  - the PNGs are the truth, the index their summary: an entry's PNG in the folder that the index
//    does not list (a stop between the two writes, an index write that failed on a full disk, an
//    index found unreadable) is taken back at load from the picture itself (as a keyframe, its
//    keyframe number unknown: 0); one that cannot be read is removed. An index write that fails
//    is logged and leaves the cache as it is in memory: the next write, or the next start, makes
//    the two agree.
// Thread-safety: every public method locks; the lock is held only for in-memory work and the
// small index write, never while encoding a PNG.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "cache/features.h"
#include "cache/write_budget.h"
#include "core/image.h"

namespace dw::cache {

enum class EntryKind { Keyframe, Injected, Middle };
const char* entry_kind_name(EntryKind kind);

struct CacheEntry {
  std::uint64_t id = 0;  // unique, increasing; also the file name
  EntryKind kind = EntryKind::Keyframe;
  std::uint64_t keyframe_index = 0;
  ImageFeatures features;
  std::string file;  // PNG file name inside the cache directory
};

struct CacheThresholds {
  std::size_t max_entries = 50;
  double colour = 1.92;
  double structure = 0.80;
  double max_clipped = 0.20;         // a frame with more clipped values is fried
  double max_hf = 0.80;              // a frame with more high-frequency energy is noise
  double min_variation = 0.0;        // a frame whose colours vary less is flat (0: off)
  double write_bytes_per_day = 5e8;  // PNG and index bytes (0: no limit)
};

enum class Refusal { None, Similar, Degenerate, NoGain, Budget };
const char* refusal_name(Refusal r);

struct Verdict {
  bool accepted = false;
  Refusal refusal = Refusal::None;       // why not, when not accepted
  Similarity mean_similarity;            // to the cache before the insert
  std::optional<std::uint64_t> evicted;  // id of the entry that made room
  std::uint64_t id = 0;                  // the new entry's, when accepted
  std::string index_error;               // why index.json could not be written (empty: it was)
};

// Whether `m` is a degenerate picture by the cache's limits; `why` names the measure and limit.
bool degenerate(const PictureMeasures& m, const CacheThresholds& t, std::string* why = nullptr);

// Redundancy of a pair, comparable across the two metrics: each similarity relative to its
// acceptance threshold, averaged. Eviction removes the entry whose worst pair is highest.
double pair_redundancy(const Similarity& s, const CacheThresholds& t);

class DiversityCache {
 public:
  using Clock = std::function<std::chrono::steady_clock::time_point()>;

  // A full cache admits only a frame that leaves it more diverse than its worst pair, so the
  // worst pair only ever improves: within days nothing gets in, and for weeks the cache holds the
  // first days' pictures (nothing of a theme added since). Once per this interval a frame that
  // would add no diversity, but is diverse by the thresholds and a near copy of no entry, takes
  // the oldest entry's place instead: a 50-entry cache turns over in about two days.
  static constexpr std::chrono::hours kRenewEvery{1};

  // dir is created if missing; an existing index is loaded. A folder that cannot be created is
  // logged, not thrown: the cache starts empty and each frame it takes tries the folder again.
  // `clock` drives the write budget (default: steady_clock).
  DiversityCache(std::string dir, CacheThresholds thresholds, Clock clock = {});

  // Live tuning: new thresholds apply to the next consider(); a smaller max evicts at once.
  void set_thresholds(const CacheThresholds& thresholds);
  CacheThresholds thresholds() const;

  // Decides on a frame and, when accepted, stores it (PNG + index). Throws dw::Error only when
  // its PNG cannot be written; the cache is unchanged then. An index that cannot be written
  // leaves the frame accepted (its PNG is there) and says why in the verdict.
  Verdict consider(const Image& image, const ImageFeatures& features, EntryKind kind,
                   std::uint64_t keyframe_index);

  // Takes an entry out (its file and its place in the index); false when there is none by that id.
  bool forget(std::uint64_t id);

  std::vector<CacheEntry> entries() const;
  std::size_t size() const;
  // Mean similarity of `features` to every entry ({0, 0} when empty).
  Similarity mean_similarity(const ImageFeatures& features) const;
  // The largest pairwise redundancy inside the cache (0 with fewer than two entries).
  double max_redundancy() const;
  // The stored image of an entry (throws dw::InputError when its file is gone or corrupt).
  Image load_image(std::uint64_t id) const;
  // The same, but an entry whose file is gone or corrupt (truncated by a power cut, replaced by
  // hand) leaves the cache, with a warning, and nothing is returned: chosen again and again it
  // would block every injection.
  std::optional<Image> load_image_or_forget(std::uint64_t id);
  const std::string& dir() const { return dir_; }
  // Frames taken as the hourly renewal of a full cache (see kRenewEvery).
  std::uint64_t renewals() const;
  // What this object wrote: PNG files and bytes (PNGs plus index.json).
  std::uint64_t files_written() const;
  std::uint64_t bytes_written() const;
  // Tests: called at the start of each disk write of the index and removal of files (a disk that
  // hangs there), with no lock of the cache's readers held.
  void set_disk_hook_for_test(std::function<void()> hook) { disk_hook_ = std::move(hook); }

 private:
  void load_index();
  void insert_locked(CacheEntry entry);
  // index.json's text for the entries now.
  std::string index_text_locked() const;
  // Brings the folder in line with the entries: removes the files of entries taken out, then
  // writes index.json if it changed. Called without mutex_: a reader (status, the overlay on the
  // render thread) never waits for a disk that is slow or hangs (a USB stick's fsync, a network
  // share). Concurrent calls take turns, each writing the index as it is when its turn comes.
  // An index that cannot be written is logged and returned (empty: written or nothing to write).
  std::string sync_disk();
  // Takes back the entry PNGs the index does not list (see the top); how many came back.
  std::size_t recover_unlisted_locked();
  // The similarity of `features` to each entry, in entries_' order.
  std::vector<Similarity> similarities_locked(const ImageFeatures& features) const;
  // Why a frame is refused, or nothing, from its similarities to the entries and their mean;
  // `renewal` is set when it is taken as the hour's renewal (it then replaces the oldest entry,
  // not the most redundant one).
  Refusal screen_locked(const ImageFeatures& features, std::span<const Similarity> to_entries,
                        const Similarity& mean, bool& renewal);
  std::size_t most_redundant_locked() const;
  std::size_t oldest_locked() const;
  // Takes the entry out of the list; its file goes at the next sync_disk().
  void remove_locked(std::size_t index);
  Similarity& pair(std::size_t i, std::size_t j) { return matrix_[i * capacity_ + j]; }
  const Similarity& pair(std::size_t i, std::size_t j) const { return matrix_[i * capacity_ + j]; }
  void grow_matrix_locked(std::size_t capacity);

  std::string dir_;
  std::mutex disk_mutex_;  // sync_disk()'s turn; taken before mutex_, never inside it
  mutable std::mutex mutex_;
  CacheThresholds thresholds_;
  std::vector<CacheEntry> entries_;
  std::vector<Similarity> matrix_;  // capacity_ x capacity_, row-major; valid for i, j < size
  std::size_t capacity_ = 0;
  std::uint64_t next_id_ = 1;
  Clock clock_;
  WriteBudget budget_;
  std::chrono::steady_clock::time_point last_renewal_;
  std::uint64_t renewals_ = 0;
  std::uint64_t files_written_ = 0;
  std::uint64_t bytes_written_ = 0;
  bool index_dirty_ = false;         // the entries changed since index.json was written
  std::vector<std::string> doomed_;  // files of entries taken out, not removed yet
  std::function<void()> disk_hook_;
};

}  // namespace dw::cache
