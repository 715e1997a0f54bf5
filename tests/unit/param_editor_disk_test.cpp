// The editor against a disk that is slow, hangs or loses the file: the overlay's panel reads the
// editor every frame and every status read asks it for the pending restart rows, so no file read
// or write may hold them; and a reload never takes a missing file for "all defaults".
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <fstream>
#include <functional>
#include <mutex>
#include <thread>

#include "core/param_editor.h"
#include "support/test_support.h"

namespace dw {
namespace {

// Runs `read` on a thread of its own; true when it returned within `deadline`. The thread is
// joined either way (the caller releases whatever it waits on first when this says false).
class Reader {
 public:
  explicit Reader(std::function<void()> read)
      : thread_([this, read = std::move(read)] {
          read();
          done_ = true;
        }) {}
  bool answered(std::chrono::seconds deadline = std::chrono::seconds(5)) {
    return test::wait_until([this] { return done_.load(); }, deadline);
  }

 private:
  std::atomic<bool> done_{false};
  std::jthread thread_;
};

TEST(ParamEditorDisk, ASaveWaitingOnTheDiskHoldsNoReaderAndAnEditMeanwhileStaysUnsaved) {
  test::ScratchDir dir;
  const std::string path = dir / "config.toml";
  ConfigStore store(default_config());
  ParamEditor editor(store, path);
  // The disk takes as long as the test says (a sync behind a recording's writes, a share).
  std::mutex mutex;
  std::condition_variable cv;
  bool writing = false, answer = false;
  editor.set_writer([&](const std::string& p, const Config& values,
                        const std::set<std::string>& keys) -> std::optional<std::string> {
    std::unique_lock lock(mutex);
    writing = true;
    cv.notify_all();
    cv.wait_for(lock, std::chrono::seconds(30), [&] { return answer; });
    return save_config_keys(p, values, keys);
  });
  ASSERT_TRUE(editor.edit("display.gamma", "1.5").ok);

  std::optional<std::string> saved = std::string("not yet");
  std::jthread saver([&] { saved = editor.save(); });
  {
    std::unique_lock lock(mutex);
    ASSERT_TRUE(cv.wait_for(lock, std::chrono::seconds(10), [&] { return writing; }));
  }
  std::set<std::string> unsaved_then;
  Reader reads([&] {
    (void)editor.view();
    (void)editor.pending_restart();
    unsaved_then = editor.unsaved();
    EXPECT_TRUE(editor.edit("display.brightness", "0.75").ok);
  });
  const bool answered = reads.answered();
  {
    std::lock_guard lock(mutex);
    answer = true;  // the disk answers: the save goes on
  }
  cv.notify_all();
  saver.join();
  EXPECT_TRUE(answered) << "reading the editor waited for the save's disk";
  ASSERT_EQ(saved, std::nullopt) << *saved;
  EXPECT_TRUE(unsaved_then.contains("display.gamma"));

  EXPECT_EQ(editor.unsaved(), (std::set<std::string>{"display.brightness"}))
      << "the edit made while the file was written is not in it";
  Config back = default_config();
  ASSERT_EQ(load_config_file(path, back), std::nullopt);
  EXPECT_DOUBLE_EQ(back.display.gamma, 1.5);
  EXPECT_DOUBLE_EQ(back.display.brightness, default_config().display.brightness);
  ASSERT_EQ(editor.save(), std::nullopt);
  EXPECT_TRUE(editor.unsaved().empty());
  ASSERT_EQ(load_config_file(path, back), std::nullopt);
  EXPECT_DOUBLE_EQ(back.display.brightness, 0.75);
}

// A check that reads a file (the schedule's themes) and is slow holds no reader either.
TEST(ParamEditorDisk, ASlowCheckHoldsNoReader) {
  ConfigStore store(default_config());
  ParamEditor editor(store, "unused.toml");
  std::mutex mutex;
  std::condition_variable cv;
  bool entered = false, released = false;
  editor.add_check({"display.gamma"}, [&](const Config&) -> std::optional<std::string> {
    std::unique_lock lock(mutex);
    entered = true;
    cv.notify_all();
    cv.wait_for(lock, std::chrono::seconds(30), [&] { return released; });
    return std::nullopt;
  });
  EditOutcome outcome;
  std::jthread editing([&] { outcome = editor.edit("display.gamma", "2"); });
  {
    std::unique_lock lock(mutex);
    ASSERT_TRUE(cv.wait_for(lock, std::chrono::seconds(10), [&] { return entered; }));
  }
  Reader reads([&] {
    (void)editor.view();
    (void)editor.pending_restart();
    (void)editor.unsaved();
  });
  const bool answered = reads.answered();
  {
    std::lock_guard lock(mutex);
    released = true;
  }
  cv.notify_all();
  editing.join();
  EXPECT_TRUE(answered) << "reading the editor waited for a check";
  EXPECT_TRUE(outcome.ok) << outcome.error;
  EXPECT_DOUBLE_EQ(store.get()->display.gamma, 2.0);
}

// SIGHUP while the file is being replaced (renamed away, then the new one renamed in), or on a
// disk that went: the defaults are not applied in its place, which would undo every live setting
// (gamma, brightness, the schedule that keeps a closed installation dark).
TEST(ParamEditorDisk, AReloadWithTheFileGoneChangesNothing) {
  test::ScratchDir dir;
  const std::string path = dir / "config.toml";
  std::ofstream(path) << "[display]\ngamma = 1.25\n";
  Config start = default_config();
  ASSERT_EQ(load_config_file(path, start), std::nullopt);
  ConfigStore store(start);
  ParamEditor editor(store, path);
  std::filesystem::rename(path, dir / "config.toml.old");
  const ReloadOutcome gone = editor.reload();
  EXPECT_FALSE(gone.ok);
  EXPECT_NE(gone.error.find(path), std::string::npos) << gone.error;
  EXPECT_DOUBLE_EQ(store.get()->display.gamma, 1.25);

  std::ofstream(path) << "[display]\ngamma = 1.75\n";
  const ReloadOutcome back = editor.reload();
  ASSERT_TRUE(back.ok) << back.error;
  EXPECT_DOUBLE_EQ(store.get()->display.gamma, 1.75);

  // A run with no file at all (the embedded defaults) reloads them as before.
  test::ScratchDir empty;
  ConfigStore defaults(default_config());
  ParamEditor without(defaults, empty / "never-written.toml");
  EXPECT_TRUE(without.reload().ok);
}

}  // namespace
}  // namespace dw
