// The log file: written, rotated at its size cap, old files limited; journald priorities.
#include "app/service_log.h"

#include <gtest/gtest.h>
#include <spdlog/spdlog.h>

#include <filesystem>
#include <fstream>

#include "support/test_support.h"

namespace dw::service {
namespace {

namespace fs = std::filesystem;

TEST(ServiceLog, TheFileRotatesAtItsCapAndKeepsOnlyTheConfiguredOldFiles) {
  test::ScratchDir dir;
  ServiceConfig config;
  config.log_file = dir / "logs/dreamwindow.log";  // the folder is created
  config.log_max_mb = 8.0 / 1024.0;                // 8 KiB
  config.log_files = 2;
  const auto previous = spdlog::default_logger();
  ASSERT_EQ(install_logger(config), config.log_file);
  for (int i = 0; i < 2000; ++i) spdlog::info("line {} of a long run, padded to some length", i);
  spdlog::set_default_logger(previous);  // the logger goes: its writers write what is queued

  std::vector<fs::path> files;
  for (const auto& e : fs::directory_iterator(dir.path() / "logs")) files.push_back(e.path());
  EXPECT_EQ(files.size(), 3u) << "the current file and 2 rotated ones";
  for (const fs::path& f : files) EXPECT_LE(fs::file_size(f), 8u * 1024u) << f;
  // The newest lines are in the current file.
  std::ifstream current(config.log_file);
  const std::string text((std::istreambuf_iterator<char>(current)), {});
  EXPECT_NE(text.find("line 1999 of a long run"), std::string::npos);
}

// The last lines before the watchdog kills a hung program (its "pings stop" warning among them)
// are what an operator reads afterwards: each line reaches the file while the program runs on (the
// log file's own writer flushes it), not in a buffer that only an orderly exit would write.
TEST(ServiceLog, ALineReachesTheFileWhileTheProgramRunsOn) {
  test::ScratchDir dir;
  ServiceConfig config;
  config.log_file = dir / "dreamwindow.log";
  const auto previous = spdlog::default_logger();
  ASSERT_EQ(install_logger(config), config.log_file);
  spdlog::info("a line before the kill");
  std::string text;
  const bool arrived = test::wait_until([&] {
    std::ifstream file(config.log_file);
    text.assign(std::istreambuf_iterator<char>(file), {});
    return text.find("a line before the kill") != std::string::npos;
  });
  spdlog::set_default_logger(previous);
  EXPECT_TRUE(arrived) << text;
}

TEST(ServiceLog, AFileThatCannotBeOpenedLeavesStderrOnly) {
  test::ScratchDir dir;
  ServiceConfig config;
  std::ofstream(dir / "blocker") << "a file where a folder should be";
  config.log_file = dir / "blocker/dreamwindow.log";
  const auto previous = spdlog::default_logger();
  EXPECT_EQ(install_logger(config), "");
  spdlog::set_default_logger(previous);
}

TEST(ServiceLog, JournalPrioritiesFollowSyslog) {
  EXPECT_EQ(journal_priority(spdlog::level::critical), 2);
  EXPECT_EQ(journal_priority(spdlog::level::err), 3);
  EXPECT_EQ(journal_priority(spdlog::level::warn), 4);
  EXPECT_EQ(journal_priority(spdlog::level::info), 6);
  EXPECT_EQ(journal_priority(spdlog::level::debug), 7);
}

}  // namespace
}  // namespace dw::service
