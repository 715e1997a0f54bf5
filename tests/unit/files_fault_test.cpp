// write_file_atomic when the disk refuses to flush (fsync failing: a btrfs volume out of space, a
// network share over its quota, a failing disk). The status writer replaces status.json every
// second, so a descriptor left open per failure would use up the process's limit within minutes,
// and with it the sockets to ComfyUI and the cache's reads. This test binary defines fsync itself,
// so the calls from dw_core reach it instead of libc's; it fails only while a test asks it to.
#include <dirent.h>
#include <gtest/gtest.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <filesystem>

#include "core/error.h"
#include "core/files.h"
#include "support/test_support.h"

namespace {
std::atomic<bool> g_fsync_fails{false};
std::atomic<int> g_fsync_calls{0};
}  // namespace

extern "C" int fsync(int fd) {
  ++g_fsync_calls;
  if (g_fsync_fails.load()) {
    errno = EIO;
    return -1;
  }
  return static_cast<int>(::syscall(SYS_fsync, fd));
}

namespace dw {
namespace {

std::size_t open_descriptors() {
  std::size_t n = 0;
  for ([[maybe_unused]] const auto& e : std::filesystem::directory_iterator("/proc/self/fd")) ++n;
  return n;
}

TEST(FilesFaults, AFlushThatFailsLeavesNoDescriptorOpenAndNoTemporary) {
  test::ScratchDir dir;
  const std::string path = dir / "status.json";
  write_file_atomic(path, std::string_view("{\"ok\": true}"));
  const std::size_t before = open_descriptors();
  g_fsync_fails = true;
  for (int i = 0; i < 50; ++i) {
    try {
      write_file_atomic(path, std::string_view("{\"ok\": false}"));
      ADD_FAILURE() << "a write whose flush failed was reported done";
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find("status.json"), std::string::npos) << e.what();
    }
  }
  g_fsync_fails = false;
  EXPECT_EQ(open_descriptors(), before) << "each failed flush left its file open";
  std::size_t files = 0;
  for ([[maybe_unused]] const auto& e : std::filesystem::directory_iterator(dir.path())) ++files;
  EXPECT_EQ(files, 1u) << "temporaries were left behind";
  write_file_atomic(path, std::string_view("{\"ok\": 2}"));  // the disk mended: writes work again
}

// A durable write syncs the file and its folder; a replaceable one (status.json, every second)
// syncs nothing and is still whole for its readers.
TEST(FilesFaults, OnlyADurableWriteSyncs) {
  test::ScratchDir dir;
  const std::string path = dir / "status.json";
  g_fsync_calls = 0;
  write_file_atomic(path, std::string_view("{\"n\": 1}"));
  EXPECT_EQ(g_fsync_calls.load(), 2) << "the file and its folder";
  g_fsync_calls = 0;
  write_file_atomic(path, std::string_view("{\"n\": 2}"), Durability::Replaceable);
  EXPECT_EQ(g_fsync_calls.load(), 0);
  const auto bytes = read_file(path, 1024);
  EXPECT_EQ(std::string(bytes.begin(), bytes.end()), "{\"n\": 2}");
}

}  // namespace
}  // namespace dw
