#include "cache/diversity_cache.h"

#include <gtest/gtest.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <fstream>
#include <future>
#include <optional>
#include <random>
#include <thread>

#include "core/error.h"
#include "support/test_support.h"
#include "test_images.h"

namespace dw::cache {
namespace {

using namespace std::chrono_literals;

// Offers the test patterns of seeds [first, end) as keyframes numbered by their seed.
void offer_patterns(DiversityCache& cache, std::uint32_t first, std::uint32_t end) {
  for (std::uint32_t seed = first; seed < end; ++seed) {
    const Image img = test::pattern_image(seed);
    cache.consider(img, compute_features(img), EntryKind::Keyframe, seed);
  }
}

// Thresholds that accept everything, to test eviction in isolation.
CacheThresholds accept_all(std::size_t max_entries) {
  return {max_entries, 3.5, 1.5};
}

TEST(DiversityCache, AcceptsDiverseFramesAndRejectsNearDuplicates) {
  test::ScratchDir dir;
  DiversityCache cache(dir.path().string(), CacheThresholds{});
  const Image a = test::pattern_image(1);
  EXPECT_TRUE(cache.consider(a, compute_features(a), EntryKind::Keyframe, 1).accepted);
  const Image a2 = test::nudged(a, 3);
  const Verdict dup = cache.consider(a2, compute_features(a2), EntryKind::Keyframe, 2);
  EXPECT_FALSE(dup.accepted);
  EXPECT_GT(dup.mean_similarity.colour, 1.92);
  int accepted = 0;
  for (std::uint32_t seed = 50; seed < 60; ++seed) {
    const Image img = test::pattern_image(seed);
    accepted += cache.consider(img, compute_features(img), EntryKind::Keyframe, seed).accepted;
  }
  EXPECT_GE(accepted, 5) << "distinct patterns should mostly be accepted";
  EXPECT_EQ(cache.size(), static_cast<std::size_t>(1 + accepted));
}

// While the cache fills, a newcomer far from the cache on average but a near copy of one entry
// (the feedback loop coming back to a picture it made an hour ago) is refused: two copies would
// make the same injection twice as likely and waste a place.
TEST(DiversityCache, ANearCopyOfOneEntryIsRefusedWhileFilling) {
  test::ScratchDir dir;
  DiversityCache cache(dir.path().string(), CacheThresholds{});
  offer_patterns(cache, 50, 60);
  ASSERT_GE(cache.size(), 5u);
  ASSERT_LT(cache.size(), CacheThresholds{}.max_entries) << "the cache is filling, not full";
  const std::uint64_t copied = cache.entries().back().keyframe_index;
  const Image twin = test::nudged(test::pattern_image(static_cast<std::uint32_t>(copied)), 3);
  const std::size_t before = cache.size();
  const Verdict v = cache.consider(twin, compute_features(twin), EntryKind::Keyframe, 100);
  EXPECT_LT(v.mean_similarity.colour, CacheThresholds{}.colour)
      << "far from the cache on average: the mean alone lets it in";
  EXPECT_FALSE(v.accepted);
  EXPECT_EQ(v.refusal, Refusal::Similar);
  EXPECT_EQ(cache.size(), before);
}

TEST(DiversityCache, NeverExceedsMaxAndEvictsTheMostRedundant) {
  test::ScratchDir dir;
  DiversityCache cache(dir.path().string(), accept_all(4));
  std::vector<std::uint64_t> ids;
  for (std::uint32_t seed : {11u, 20u, 30u}) {
    const Image img = test::pattern_image(seed);
    cache.consider(img, compute_features(img), EntryKind::Keyframe, seed);
  }
  // A near-copy of seed 20 makes a redundant pair; when the cache overflows, one of that pair
  // must be the one that goes.
  const Image twin = test::nudged(test::pattern_image(20), 2);
  cache.consider(twin, compute_features(twin), EntryKind::Middle, 21);
  const Image fresh = test::pattern_image(40);
  const Verdict v = cache.consider(fresh, compute_features(fresh), EntryKind::Keyframe, 40);
  ASSERT_TRUE(v.accepted);
  ASSERT_TRUE(v.evicted.has_value());
  EXPECT_EQ(cache.size(), 4u);
  std::vector<std::uint64_t> keyframes;
  for (const CacheEntry& e : cache.entries()) keyframes.push_back(e.keyframe_index);
  const bool one_twin_left = (std::count(keyframes.begin(), keyframes.end(), 20) +
                              std::count(keyframes.begin(), keyframes.end(), 21)) == 1;
  EXPECT_TRUE(one_twin_left);
  // The evicted frame's file is gone; the others are there.
  int files = 0;
  for (const auto& f : std::filesystem::directory_iterator(dir.path()))
    files += f.path().extension() == ".png";
  EXPECT_EQ(files, 4);
}

TEST(DiversityCache, IncrementalMatrixMatchesBruteForceAfterManyChanges) {
  test::ScratchDir dir;
  DiversityCache cache(dir.path().string(), accept_all(6));
  for (std::uint32_t seed = 1; seed <= 25; ++seed) {
    const Image img =
        seed % 3 == 0 ? test::nudged(test::pattern_image(seed - 1), 4) : test::pattern_image(seed);
    cache.consider(img, compute_features(img), EntryKind::Keyframe, seed);
    const auto entries = cache.entries();
    double brute = 0;
    for (std::size_t i = 0; i < entries.size(); ++i)
      for (std::size_t j = i + 1; j < entries.size(); ++j)
        brute = std::max(
            brute,
            pair_redundancy(similarity(entries[i].features, entries[j].features), accept_all(6)));
    ASSERT_NEAR(cache.max_redundancy(), brute, 1e-12) << "after frame " << seed;
  }
}

// The index and the files of evicted entries are written with no lock a reader needs: status and
// the overlay (on the render thread) read the cache, and a disk that is slow or hangs there (a USB
// stick's flush, a network share) must not hold them.
TEST(DiversityCache, ReadersNeverWaitForTheDisk) {
  test::ScratchDir dir;
  DiversityCache cache(dir.path().string(), accept_all(3));
  offer_patterns(cache, 1, 4);
  ASSERT_EQ(cache.size(), 3u);
  std::promise<void> entered, release;
  std::shared_future<void> released = release.get_future().share();
  std::atomic<bool> hung{false};
  cache.set_disk_hook_for_test([&] {
    if (hung.exchange(true)) return;
    entered.set_value();
    released.wait();
  });
  // A frame that is taken and evicts another: an index and a removal to write, and the disk hangs.
  std::jthread writer([&] { offer_patterns(cache, 10, 11); });
  ASSERT_EQ(entered.get_future().wait_for(10s), std::future_status::ready);
  const ImageFeatures probe = compute_features(test::pattern_image(99));
  auto reader = std::async(std::launch::async, [&] {
    (void)cache.max_redundancy();
    (void)cache.mean_similarity(probe);
    (void)cache.bytes_written();
    (void)cache.size();
    return cache.entries().size();
  });
  const bool answered = reader.wait_for(5s) == std::future_status::ready;
  release.set_value();  // the disk comes back, whatever the readers did
  EXPECT_TRUE(answered) << "a reader waited for the disk";
  EXPECT_EQ(reader.get(), 3u) << "the new frame is in and one evicted before the disk is written";
  writer.join();
  int files = 0;
  for (const auto& f : std::filesystem::directory_iterator(dir.path()))
    files += f.path().extension() == ".png";
  EXPECT_EQ(files, 3) << "the evicted entry's file went once the disk came back";
  DiversityCache reopened(dir.path().string(), accept_all(3));
  EXPECT_EQ(reopened.size(), 3u);
  EXPECT_EQ(reopened.bytes_written(), 0u) << "the index told what is there: not written again";
}

TEST(DiversityCache, SurvivesARestart) {
  test::ScratchDir dir;
  std::vector<std::uint64_t> before;
  {
    DiversityCache cache(dir.path().string(), CacheThresholds{});
    for (std::uint32_t seed = 70; seed < 76; ++seed) {
      const Image img = test::pattern_image(seed);
      cache.consider(img, compute_features(img), EntryKind::Injected, seed);
    }
    for (const CacheEntry& e : cache.entries()) before.push_back(e.id);
  }
  DiversityCache again(dir.path().string(), CacheThresholds{});
  std::vector<std::uint64_t> after;
  for (const CacheEntry& e : again.entries()) after.push_back(e.id);
  EXPECT_EQ(after, before);
  ASSERT_FALSE(after.empty());
  const Image img = again.load_image(after.front());
  EXPECT_EQ(img.width, 96);
  // New ids never collide with the old ones.
  const Image fresh = test::pattern_image(999);
  again.consider(fresh, compute_features(fresh), EntryKind::Keyframe, 999);
  EXPECT_GT(again.entries().back().id, before.back());
}

TEST(DiversityCache, CorruptIndexOrMissingFilesLoseOnlyWhatIsBroken) {
  test::ScratchDir dir;
  {
    DiversityCache cache(dir.path().string(), CacheThresholds{});
    offer_patterns(cache, 80, 84);
    ASSERT_GE(cache.size(), 3u);
    std::filesystem::remove(dir.path() / cache.entries().front().file);
  }
  {
    DiversityCache cache(dir.path().string(), CacheThresholds{});
    EXPECT_GE(cache.size(), 2u) << "only the entry with a missing file is dropped";
  }
  std::size_t listed = 0;
  {
    DiversityCache cache(dir.path().string(), CacheThresholds{});
    listed = cache.size();
  }
  std::ofstream(dir.path() / "index.json") << "{ not json";
  DiversityCache cache(dir.path().string(), CacheThresholds{});
  EXPECT_EQ(cache.size(), listed) << "an unreadable index: the pictures come back from their files";
  const Image img = test::pattern_image(5);
  EXPECT_TRUE(cache.consider(img, compute_features(img), EntryKind::Keyframe, 5).accepted);
}

// A stop between a PNG's write and the index's (a power cut) leaves a picture the index does not
// list. The next start takes it back from the file instead of leaving it on disk for ever; a
// file of that kind that cannot be read is removed, and files of other names are left alone.
TEST(DiversityCache, PicturesTheIndexDoesNotListAreTakenBackAtTheNextStart) {
  test::ScratchDir dir;
  const auto index = dir.path() / "index.json";
  std::vector<CacheEntry> all;
  {
    DiversityCache cache(dir.path().string(), accept_all(8));
    for (std::uint32_t seed = 70; seed < 72; ++seed) {
      const Image img = test::pattern_image(seed);
      cache.consider(img, compute_features(img), EntryKind::Injected, seed);
    }
    std::filesystem::copy_file(index, dir.path() / "early.json");
    offer_patterns(cache, 72, 74);
    all = cache.entries();
  }
  ASSERT_EQ(all.size(), 4u);
  std::filesystem::rename(dir.path() / "early.json", index);  // the last two writes never came
  std::ofstream(dir.path() / "00000000000000ff.png") << "\x89PNG cut short";
  std::ofstream(dir.path() / "notes.png") << "the operator's";
  DiversityCache cache(dir.path().string(), accept_all(8));
  std::vector<std::uint64_t> ids;
  for (const CacheEntry& e : cache.entries()) ids.push_back(e.id);
  std::sort(ids.begin(), ids.end());
  ASSERT_EQ(ids.size(), 4u);
  for (std::size_t i = 0; i < 4; ++i) EXPECT_EQ(ids[i], all[i].id);
  EXPECT_EQ(cache.load_image(all.back().id).width, 96);
  EXPECT_FALSE(std::filesystem::exists(dir.path() / "00000000000000ff.png"));
  EXPECT_TRUE(std::filesystem::exists(dir.path() / "notes.png"));
  const Image fresh = test::pattern_image(999);
  ASSERT_TRUE(cache.consider(fresh, compute_features(fresh), EntryKind::Keyframe, 999).accepted);
  EXPECT_GT(cache.entries().back().id, 0xffu) << "ids of removed files are not reused either";
  EXPECT_EQ(DiversityCache(dir.path().string(), accept_all(8)).size(), 5u);
}

// An index that cannot be written (a full disk; here a folder in its place) leaves the frame
// accepted, with the reason, and the cache goes on; the next start has the frame.
TEST(DiversityCache, AnIndexThatCannotBeWrittenLosesNoFrame) {
  test::ScratchDir dir;
  const auto index = dir.path() / "index.json";
  std::filesystem::create_directories(index / "in_the_way");
  {
    DiversityCache cache(dir.path().string(), accept_all(8));
    const Image img = test::pattern_image(7);
    const Verdict v = cache.consider(img, compute_features(img), EntryKind::Keyframe, 7);
    EXPECT_TRUE(v.accepted);
    EXPECT_FALSE(v.index_error.empty());
    EXPECT_EQ(cache.size(), 1u);
    const Image other = test::pattern_image(8);
    EXPECT_TRUE(cache.consider(other, compute_features(other), EntryKind::Keyframe, 8).accepted);
  }
  std::filesystem::remove_all(index);
  EXPECT_EQ(DiversityCache(dir.path().string(), accept_all(8)).size(), 2u);
}

// A hand-edited or foreign index whose next_id is no count (null, text, negative) starts the
// cache with its entries, and new ids still never collide with theirs.
TEST(DiversityCache, AnIndexWhoseNextIdIsNoCountStillLoads) {
  for (const char* bad : {"null", "\"seven\"", "-3", "1.5"}) {
    test::ScratchDir dir;
    std::vector<std::uint64_t> ids;
    {
      DiversityCache cache(dir.path().string(), CacheThresholds{});
      offer_patterns(cache, 90, 93);
      for (const CacheEntry& e : cache.entries()) ids.push_back(e.id);
    }
    ASSERT_FALSE(ids.empty());
    const auto index = dir.path() / "index.json";
    std::string text;
    {
      std::ifstream in(index);
      text.assign(std::istreambuf_iterator<char>(in), {});
    }
    const auto at = text.find("\"next_id\"");
    ASSERT_NE(at, std::string::npos);
    const auto value = text.find(':', at) + 1;
    const auto end = text.find_first_of(",}", value);
    text.replace(value, end - value, bad);
    std::ofstream(index, std::ios::trunc) << text;
    DiversityCache cache(dir.path().string(), CacheThresholds{});
    EXPECT_EQ(cache.size(), ids.size()) << "next_id " << bad;
    const Image fresh = test::pattern_image(999);
    ASSERT_TRUE(cache.consider(fresh, compute_features(fresh), EntryKind::Keyframe, 999).accepted);
    EXPECT_GT(cache.entries().back().id, *std::max_element(ids.begin(), ids.end()))
        << "next_id " << bad;
  }
}

// An entry whose PNG was cut short by a power cut (or replaced by hand) is found when an
// injection loads it: it leaves the cache and its index for good, and the others stay.
TEST(DiversityCache, AnUnreadableEntryLeavesTheCacheWhenLoaded) {
  test::ScratchDir dir;
  std::vector<CacheEntry> before;
  {
    DiversityCache cache(dir.path().string(), CacheThresholds{});
    offer_patterns(cache, 60, 64);
    before = cache.entries();
  }
  ASSERT_GE(before.size(), 2u);
  std::ofstream(dir.path() / before.front().file, std::ios::trunc) << "\x89PNG truncated";
  DiversityCache cache(dir.path().string(), CacheThresholds{});
  ASSERT_EQ(cache.size(), before.size()) << "the file exists: it is found only when read";
  EXPECT_FALSE(cache.load_image_or_forget(before.front().id).has_value());
  EXPECT_EQ(cache.size(), before.size() - 1);
  EXPECT_FALSE(std::filesystem::exists(dir.path() / before.front().file));
  const auto good = cache.load_image_or_forget(before.back().id);
  ASSERT_TRUE(good.has_value());
  EXPECT_EQ(good->width, 96);
  EXPECT_EQ(DiversityCache(dir.path().string(), CacheThresholds{}).size(), before.size() - 1)
      << "the index no longer lists it";
}

// The process out of descriptors for a moment (or a drive that dropped out, an I/O error): the
// entries cannot be read now, and must not be removed for it. Each injection tries up to four
// entries, so removing them emptied the cache within minutes of a fault that mends itself.
TEST(DiversityCache, AnEntryThatCannotBeReadForNowStays) {
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
  // The sanitizers' runtime opens files of its own while it checks a throw (UBSan's vptr check
  // reads the process's maps): with no descriptor free it reports the exception object as bad.
  // The next test covers this build with a file that cannot be opened.
  GTEST_SKIP() << "out of descriptors, the sanitizer runtime cannot check the throw";
#endif
  test::ScratchDir dir;
  DiversityCache cache(dir.path().string(), CacheThresholds{});
  offer_patterns(cache, 60, 64);
  const std::vector<CacheEntry> entries = cache.entries();
  ASSERT_GE(entries.size(), 2u);
  // No descriptor free: the lowest free number becomes the limit.
  rlimit was{};
  ASSERT_EQ(::getrlimit(RLIMIT_NOFILE, &was), 0);
  const int lowest_free = ::dup(0);
  ASSERT_GE(lowest_free, 0);
  ::close(lowest_free);
  rlimit none = was;
  none.rlim_cur = static_cast<rlim_t>(lowest_free);
  ASSERT_EQ(::setrlimit(RLIMIT_NOFILE, &none), 0);
  const std::optional<Image> during = cache.load_image_or_forget(entries.front().id);
  ASSERT_EQ(::setrlimit(RLIMIT_NOFILE, &was), 0);
  EXPECT_FALSE(during.has_value());
  EXPECT_EQ(cache.size(), entries.size()) << "an entry left the cache for want of a descriptor";
  EXPECT_TRUE(std::filesystem::exists(dir.path() / entries.front().file));
  const std::optional<Image> after = cache.load_image_or_forget(entries.front().id);
  ASSERT_TRUE(after.has_value()) << "the fault mended, the entry loads";
  EXPECT_EQ(after->width, 96);
}

// cache.dir on a drive not mounted yet, or a path that is a file: the show starts (it exited 1,
// and the service manager started it into the same failure for ever) with an empty cache, whose
// frames are refused with the reason until the folder can be written.
// The same with a file that is there but cannot be opened (here a link that loops, as a name on
// a share that answers with an error would): the entry stays, and loads once the file is back.
TEST(DiversityCache, AnEntryWhoseFileCannotBeOpenedStays) {
  test::ScratchDir dir;
  DiversityCache cache(dir.path().string(), CacheThresholds{});
  offer_patterns(cache, 60, 64);
  const std::vector<CacheEntry> entries = cache.entries();
  ASSERT_GE(entries.size(), 2u);
  const std::filesystem::path file = dir.path() / entries.front().file;
  const std::filesystem::path aside = dir.path() / "aside.png";
  std::filesystem::rename(file, aside);
  std::filesystem::create_symlink(file.filename(), file);  // a link to itself: ELOOP
  EXPECT_FALSE(cache.load_image_or_forget(entries.front().id).has_value());
  EXPECT_EQ(cache.size(), entries.size()) << "an entry left the cache for a file it could not open";
  std::filesystem::remove(file);
  std::filesystem::rename(aside, file);
  const std::optional<Image> after = cache.load_image_or_forget(entries.front().id);
  ASSERT_TRUE(after.has_value()) << "the file back, the entry loads";
  EXPECT_EQ(after->width, 96);
}

TEST(DiversityCache, AFolderThatCannotBeCreatedStartsEmptyAndTriesAgain) {
  test::ScratchDir scratch;
  const std::filesystem::path blocker = scratch.path() / "not-a-folder";
  std::ofstream(blocker) << "x";
  const std::string dir = (blocker / "frames").string();
  std::optional<DiversityCache> cache;
  ASSERT_NO_THROW(cache.emplace(dir, CacheThresholds{}));
  EXPECT_EQ(cache->size(), 0u);
  const Image img = test::pattern_image(5);
  EXPECT_THROW(cache->consider(img, compute_features(img), EntryKind::Keyframe, 5), Error)
      << "a frame it cannot write is refused with the reason";
  EXPECT_EQ(cache->size(), 0u);
  std::filesystem::remove(blocker);  // the drive is mounted: the folder can be made
  const Verdict v = cache->consider(img, compute_features(img), EntryKind::Keyframe, 5);
  EXPECT_TRUE(v.accepted);
  EXPECT_EQ(cache->size(), 1u);
  EXPECT_TRUE(std::filesystem::exists(std::filesystem::path(dir) / cache->entries().front().file));
}

TEST(DiversityCache, ShrinkingMaxEvictsAtOnce) {
  test::ScratchDir dir;
  DiversityCache cache(dir.path().string(), accept_all(8));
  offer_patterns(cache, 1, 9);
  cache.set_thresholds(accept_all(3));
  EXPECT_EQ(cache.size(), 3u);
}

}  // namespace
}  // namespace dw::cache
