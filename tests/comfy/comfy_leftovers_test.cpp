// What the ComfyUI source leaves on a server: a prompt it gave up on (its POST unanswered, its
// poll failed, released while unanswered) is taken off the server, and the input files it uploads
// are named per install, so clones of one machine never overwrite each other's; its finished
// prompts leave the server's history; a waiting lane asks for the whole queue only now and then.
#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>

#include "comfy/comfy_source.h"
#include "comfy_source_helpers.h"
#include "fake_server.h"
#include "support/test_support.h"

namespace dw::comfy {
namespace {

using namespace test_helpers;

// Kiosk PCs cloned from one image share host name and uid: each install still has its own id
// for its upload names on a shared server (they overwrote each other's input pictures, and one
// display went on with the other's feedback loop), and keeps it across runs.
TEST(ComfySource, EachInstallHasItsOwnUploadIdKeptAcrossRuns) {
  test::ScratchDir a, b;
  const char* old = std::getenv("XDG_STATE_HOME");
  const std::string saved = old ? old : "";
  setenv("XDG_STATE_HOME", a.path().c_str(), 1);
  const std::string first = comfy_install_id();
  const std::string again = comfy_install_id();
  setenv("XDG_STATE_HOME", b.path().c_str(), 1);
  const std::string other = comfy_install_id();
  std::ofstream(b / "dreamwindow/install-id", std::ios::trunc) << "not a token\n";
  const std::string remade = comfy_install_id();
  const std::string remade_again = comfy_install_id();
  if (old)
    setenv("XDG_STATE_HOME", saved.c_str(), 1);
  else
    unsetenv("XDG_STATE_HOME");
  EXPECT_EQ(first.size(), 8u);
  EXPECT_EQ(again, first) << "kept across runs";
  EXPECT_NE(other, first) << "another install (the same host name and user) has another id";
  EXPECT_EQ(remade, remade_again) << "a damaged token is made anew and kept";
}

// A server whose next POST /prompt queues its prompt (3 s of work) but never answers.
ComfySourceOptions losing_one_answer(test::FakeComfy& server, double request_timeout_s) {
  server.fault("latency", 0, 3.0);
  server.fault("unanswered", 1);
  auto options = options_for({server.url()});
  options.in_flight = 1;
  options.request_timeout_s = request_timeout_s;
  return options;
}

// The prompt whose answer was lost was interrupted: only the one delivered ran to its end.
void expect_orphan_taken_off(test::FakeComfy& server) {
  const auto stats = server.stats();
  EXPECT_EQ(stats.value("posts_unanswered", 0), 1);
  EXPECT_EQ(stats.value("prompts_succeeded", 0), 1) << "the unanswered prompt ran on";
  EXPECT_GE(stats.value("interrupts", 0), 1);
}

// A POST /prompt whose answer never comes may have queued the prompt all the same. Once the lane
// has given up on the answer, the prompt is taken off the server: the retry does not wait behind
// it, and the GPU does not spend a keyframe's time on a picture nobody will show.
TEST(ComfySource, APromptWhoseAnswerNeverCameIsTakenOffTheServer) {
  test::FakeComfy server;
  ComfyKeyframeSource source(losing_one_answer(server, 1.0));
  ASSERT_TRUE(source.submit(request(0)));
  const auto k = source.next(std::stop_token{}, 30s);
  ASSERT_TRUE(k.has_value()) << source.stats().last_error;
  EXPECT_EQ(k->index, 0u);
  EXPECT_EQ(k->image.pixel(kSize / 2, kSize / 2)[0], 255 - colour_of(0)[0]);
  EXPECT_GE(source.stats().transport_errors, 1u) << "the lost answer was not timed out";
  EXPECT_EQ(server.stats().value("prompts_received", 0), 2);
  expect_orphan_taken_off(server);
}

// A prompt the server accepted, then given up on by its lane (its poll of the server failed in a
// network blip): it is taken off the server, so the retry does not queue behind it and the GPU
// does not spend a keyframe's time on a picture nobody will show (it ran to its end).
TEST(ComfySource, AnAcceptedPromptGivenUpOnIsTakenOffTheServer) {
  test::FakeComfy server;
  server.fault("latency", 0, 3.0);
  auto options = options_for({server.url()});
  options.in_flight = 1;
  ComfyKeyframeSource source(options);
  ASSERT_TRUE(source.submit(request(0)));
  ASSERT_TRUE(test::wait_until([&] { return server.stats().value("running", false); }))
      << "keyframe 0 never reached the server";
  server.fault("http500", 1);  // the lane's next look at the server fails
  const auto k = source.next(std::stop_token{}, 30s);
  ASSERT_TRUE(k.has_value()) << source.stats().last_error;
  EXPECT_EQ(k->index, 0u);
  const auto stats = server.stats();
  EXPECT_EQ(stats.value("prompts_received", 0), 2) << "the 500 did not make the lane give up";
  EXPECT_EQ(stats.value("prompts_succeeded", 0), 1) << "the prompt given up on ran on";
  EXPECT_GE(stats.value("interrupts", 0), 1);
}

// Released while its POST waits for an answer that never comes: the request is dropped at once
// (release() cannot know the server took it), and the prompt the server did take is removed.
TEST(ComfySource, AReleasedRequestWhoseAnswerNeverCameIsTakenOffTheServer) {
  test::FakeComfy server;
  ComfyKeyframeSource source(losing_one_answer(server, 60.0));
  ASSERT_TRUE(source.submit(request(0)));
  ASSERT_TRUE(test::wait_until([&] { return server.stats().value("running", false); }))
      << "keyframe 0 never reached the server";
  EXPECT_FALSE(source.release(0));
  ASSERT_TRUE(source.submit(request(1)));
  const auto k = source.next(std::stop_token{}, 30s);
  ASSERT_TRUE(k.has_value()) << "the lane was still held by the unanswered POST";
  EXPECT_EQ(k->index, 1u);
  EXPECT_EQ(source.stats().transport_errors, 0u) << "abandoned, not timed out";
  expect_orphan_taken_off(server);
}

// Our finished prompts are taken out of the server's history: ComfyUI keeps 10,000 entries, and
// at a keyframe a second ours pushed every other user's out of a shared server's history (the
// web UI's queue panel full of dreamwindow) within hours.
TEST(ComfySource, ItsFinishedPromptsAreTakenOutOfTheServersHistory) {
  test::FakeComfy server;
  ComfyKeyframeSource source(options_for({server.url()}));
  const auto got = run_keyframes(source, 4);
  ASSERT_EQ(got.size(), 4u) << source.stats().last_error;
  const auto stats = server.stats();
  EXPECT_EQ(stats.value("prompts_succeeded", 0), 4);
  EXPECT_EQ(stats.value("history", -1), 0) << "our entries stay in the server's history";
}

// The same for the prompts that failed there: a server that fails every prompt (out of memory, a
// broken node) left one history entry, with the whole graph, per retry, every 30 s at most, and
// within days ours had pushed every other user's out of its history.
TEST(ComfySource, ItsFailedPromptsAreTakenOutOfTheServersHistoryToo) {
  test::FakeComfy server;
  ComfyKeyframeSource source(options_for({server.url()}));
  ASSERT_TRUE(test::wait_until([&] { return source.healthy(); }));
  server.fault("execution_error", 2);
  const auto got = run_keyframes(source, 3);
  ASSERT_EQ(got.size(), 3u) << source.stats().last_error;
  EXPECT_GE(source.stats().server_errors, 2u);
  const auto stats = server.stats();
  EXPECT_GE(stats.value("prompts_executed", 0), 5);
  EXPECT_EQ(stats.value("history", -1), 0) << "our failed entries stay in the server's history";
}

// While ours waits behind another client's job, the lane does not fetch the whole queue (every
// user's workflows, megabytes on a shared server, serialised on ComfyUI's event loop) each second:
// its own /history entry is what it polls, the queue is asked every few seconds.
TEST(ComfySource, AWaitingLaneAsksForTheWholeQueueOnlyNowAndThen) {
  test::FakeComfy server;
  auto options = options_for({server.url()});
  options.stall_timeout_s = 120;
  options.request_timeout_s = 30;
  ComfyKeyframeSource source(options);
  ASSERT_TRUE(test::wait_until([&] { return source.healthy(); }));
  server.busy_with_another_client(10.0);
  const int before = server.stats().value("queue_requests", 0);
  ASSERT_TRUE(source.submit(request(0)));
  const auto k = source.next(std::stop_token{}, 60s);
  ASSERT_TRUE(k.has_value()) << source.stats().last_error;
  const int asked = server.stats().value("queue_requests", 0) - before;
  EXPECT_LE(asked, 3) << "the whole queue fetched " << asked << " times in about 10 s";
}

}  // namespace
}  // namespace dw::comfy
