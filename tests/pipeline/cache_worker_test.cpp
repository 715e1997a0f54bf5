// The cache worker against a real on-disk cache: what a collapsing feedback loop may leave in it.
#include "pipeline/cache_worker.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <set>

#include "cache/test_images.h"
#include "support/test_support.h"

namespace dw::pipeline {
namespace {

using namespace std::chrono_literals;

CacheConfig accept_all() {
  CacheConfig c;
  c.color_threshold = 3.5;  // above any similarity: every clean frame is kept
  c.structure_threshold = 1.5;
  return c;
}

std::set<std::uint64_t> keyframes_in(const cache::DiversityCache& cache) {
  std::set<std::uint64_t> out;
  for (const cache::CacheEntry& e : cache.entries()) out.insert(e.keyframe_index);
  return out;
}

std::size_t png_files(const std::filesystem::path& dir) {
  std::size_t n = 0;
  for (const auto& f : std::filesystem::directory_iterator(dir))
    n += f.path().extension() == ".png";
  return n;
}

void enqueue(CacheAnalysisWorker& worker, std::uint64_t from, std::uint64_t to) {
  for (std::uint64_t k = from; k <= to; ++k)
    worker.enqueue(CacheItem{test::pattern_image(static_cast<std::uint32_t>(k)),
                             cache::EntryKind::Keyframe, k});
}

bool considered(const CacheAnalysisWorker& worker, std::uint64_t n) {
  return test::wait_until([&] { return worker.stats().considered >= n; }, 20s);
}

// A loop that collapsed is seen only after it has been the same picture for a while: by then the
// cache has kept some of it, which a later injection would bring back. While it collapses nothing
// is kept; once its variety is held, what was kept after the last keyframe made before the
// collapse is taken out again (file and index), and what came before stays.
TEST(CacheAnalysisWorker, RefusesACollapsingLoopAndTakesOutWhatItKeptOfTheCollapse) {
  test::ScratchDir dir;
  cache::DiversityCache cache(dir.path().string(), cache::CacheThresholds{});
  CacheAnalysisWorker worker(cache, LiveSection<CacheConfig>(accept_all()));
  enqueue(worker, 1, 6);
  ASSERT_TRUE(considered(worker, 6));
  ASSERT_EQ(keyframes_in(cache), (std::set<std::uint64_t>{1, 2, 3, 4, 5, 6}));

  worker.set_collapse(true, std::nullopt);  // scaled: refused, nothing taken out yet
  enqueue(worker, 7, 8);
  ASSERT_TRUE(considered(worker, 8));
  EXPECT_EQ(worker.stats().refused_collapse, 2u);
  EXPECT_EQ(cache.size(), 6u);

  worker.set_collapse(true, 3);  // held: keyframes 4.. were the collapse
  ASSERT_TRUE(test::wait_until([&] { return worker.stats().forgotten >= 3; }, 20s))
      << worker.stats().forgotten << " taken out";
  EXPECT_EQ(keyframes_in(cache), (std::set<std::uint64_t>{1, 2, 3}));
  EXPECT_EQ(png_files(dir.path()), 3u);
  cache::DiversityCache reloaded(dir.path().string(), cache::CacheThresholds{});
  EXPECT_EQ(keyframes_in(reloaded), (std::set<std::uint64_t>{1, 2, 3})) << "the index on disk";

  worker.set_collapse(false, std::nullopt);  // healthy again: kept as before
  enqueue(worker, 9, 9);
  ASSERT_TRUE(considered(worker, 9));
  EXPECT_EQ(keyframes_in(cache), (std::set<std::uint64_t>{1, 2, 3, 9}));
  EXPECT_EQ(worker.stats().forgotten, 3u);
}

// Entries from before this run (an earlier run's, loaded from disk) are never taken out: their
// keyframe numbers are another run's.
TEST(CacheAnalysisWorker, AnEarlierRunsEntriesAreNotTakenOut) {
  test::ScratchDir dir;
  {
    cache::DiversityCache earlier(dir.path().string(), cache::CacheThresholds{});
    for (std::uint32_t k = 44; k < 47; ++k) {
      const Image img = test::pattern_image(k);
      ASSERT_TRUE(earlier.consider(img, cache::compute_features(img), cache::EntryKind::Keyframe, k)
                      .accepted);
    }
  }
  cache::DiversityCache cache(dir.path().string(), cache::CacheThresholds{});
  CacheAnalysisWorker worker(cache, LiveSection<CacheConfig>(accept_all()));
  enqueue(worker, 1, 2);
  ASSERT_TRUE(considered(worker, 2));
  worker.set_collapse(true, 0);
  ASSERT_TRUE(test::wait_until([&] { return worker.stats().forgotten >= 2; }, 20s));
  EXPECT_EQ(keyframes_in(cache), (std::set<std::uint64_t>{44, 45, 46}));
}

// A cache folder that cannot be written (a full disk, a drive gone): one failed frame is logged
// and counted, and the frames after it are set aside for a minute, not each encoded, refused and
// logged (a line per keyframe for as long as the disk stays full).
TEST(CacheAnalysisWorker, AFailedWriteSetsFramesAsideForAWhile) {
  test::ScratchDir scratch;
  const std::filesystem::path blocker = scratch.path() / "a-file";
  std::ofstream(blocker) << "x";
  cache::DiversityCache cache((blocker / "frames").string(), cache::CacheThresholds{});
  CacheAnalysisWorker worker(cache, LiveSection<CacheConfig>(accept_all()));
  enqueue(worker, 1, 1);
  ASSERT_TRUE(test::wait_until([&] { return worker.stats().errors >= 1; }, 20s));
  enqueue(worker, 2, 4);
  ASSERT_TRUE(test::wait_until([&] { return worker.stats().set_aside >= 3; }, 20s));
  const CacheWorkerStats s = worker.stats();
  EXPECT_EQ(s.errors, 1u);
  EXPECT_NE(s.last_error.find("a-file"), std::string::npos) << s.last_error;
  EXPECT_EQ(cache.size(), 0u);
}

}  // namespace
}  // namespace dw::pipeline
