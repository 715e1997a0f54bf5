// Files an unclean stop leaves behind: write_file_atomic's temporaries are removed once they are
// old enough to be no write under way, and nothing else in the folder is touched.
#include "core/files.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "support/test_support.h"

namespace dw {
namespace {

namespace fs = std::filesystem;

void write(const fs::path& path, const std::string& text, std::chrono::minutes age) {
  std::ofstream(path) << text;
  fs::last_write_time(path, fs::file_time_type::clock::now() - age);
}

TEST(Files, StaleTemporariesOfCutShortWritesAreRemovedAndNothingElse) {
  test::ScratchDir dir;
  const fs::path d = dir.path();
  write(d / ".index.json.a1B2c3", "half", std::chrono::minutes(30));    // stale: goes
  write(d / ".000042.png.Zz9Yy8", "half", std::chrono::minutes(30));    // stale: goes
  write(d / ".index.json.q1w2e3", "writing", std::chrono::minutes(0));  // under way: stays
  write(d / "index.json", "{}", std::chrono::minutes(30));              // a real file: stays
  write(d / ".hidden", "mine", std::chrono::minutes(30));               // no temporary: stays
  write(d / ".index.json.12345", "short", std::chrono::minutes(30));    // not XXXXXX: stays
  write(d / ".status.json.abc-12", "odd", std::chrono::minutes(30));    // not XXXXXX: stays
  EXPECT_EQ(remove_stale_temporaries(d.string()), 2u);
  EXPECT_FALSE(fs::exists(d / ".index.json.a1B2c3"));
  EXPECT_FALSE(fs::exists(d / ".000042.png.Zz9Yy8"));
  for (const char* kept :
       {".index.json.q1w2e3", "index.json", ".hidden", ".index.json.12345", ".status.json.abc-12"})
    EXPECT_TRUE(fs::exists(d / kept)) << kept;
  EXPECT_EQ(remove_stale_temporaries((d / "missing").string()), 0u);
}

TEST(Files, WithATargetOnlyThatFilesTemporariesGo) {
  test::ScratchDir dir;
  const fs::path d = dir.path();
  write(d / ".status.json.a1b2c3", "half", std::chrono::minutes(30));
  write(d / ".other.json.a1b2c3", "someone else's", std::chrono::minutes(30));
  EXPECT_EQ(remove_stale_temporaries(d.string(), "status.json"), 1u);
  EXPECT_FALSE(fs::exists(d / ".status.json.a1b2c3"));
  EXPECT_TRUE(fs::exists(d / ".other.json.a1b2c3"));
}

}  // namespace
}  // namespace dw
