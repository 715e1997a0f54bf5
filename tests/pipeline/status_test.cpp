#include "pipeline/status.h"

#include <gtest/gtest.h>

#include <atomic>
#include <nlohmann/json.hpp>

#include "core/files.h"
#include "pipeline/metrics_table.h"
#include "support/test_support.h"

namespace dw::pipeline {
namespace {

StatusSnapshot sample() {
  StatusSnapshot s;
  s.uptime_s = 12.5;
  s.vae_backend = "cpu";
  s.display.frames_presented = 750;
  s.display.content_fps = 12;
  s.ring_depth = 120;
  s.ring_capacity = 256;
  s.buffer_target_s = 30;
  s.buffer_s = 15;
  s.orchestrator.keyframes = 31;
  s.orchestrator.injections = 2;
  s.orchestrator.collapse.colour_mean = 2.4;
  s.cache_entries = 17;
  s.vae_lock.acquisitions = 4;
  s.vae_lock.total_wait_ms = 2;
  s.vae_lock.max_wait_ms = 1.5;
  s.workers.push_back({"interpolation", WorkerState::Running, 1, "decode failed"});
  return s;
}

TEST(Status, JsonCarriesTheFieldsThatMatter) {
  const auto j = nlohmann::json::parse(status_to_json(sample()));
  EXPECT_EQ(j["frame"]["presented"], 750);
  EXPECT_DOUBLE_EQ(j["buffer"]["seconds"].get<double>(), 15);
  EXPECT_DOUBLE_EQ(j["buffer"]["percent"].get<double>(), 50);
  EXPECT_EQ(j["generation"]["keyframes"], 31);
  EXPECT_EQ(j["injection"]["total"], 2);
  EXPECT_EQ(j["cache"]["entries"], 17);
  EXPECT_DOUBLE_EQ(j["collapse"]["colour_similarity"].get<double>(), 2.4);
  EXPECT_DOUBLE_EQ(j["vae_lock"]["mean_wait_ms"].get<double>(), 0.5);
  EXPECT_EQ(j["workers"][0]["last_error"], "decode failed");
}

// buffer.seconds counts the frames still owed by decoding: with the ring empty it read 3.667 s
// beside "ring 0/256". Its two parts are named apart.
TEST(Status, BufferSecondsSplitIntoReadyAndDecoding) {
  StatusSnapshot s = sample();
  s.ring_depth = 0;
  s.buffer_ready_s = 0;
  s.buffer_decoding_s = 3.5;
  s.buffer_s = 3.5;
  const auto j = nlohmann::json::parse(status_to_json(s));
  EXPECT_DOUBLE_EQ(j["buffer"]["ready_seconds"].get<double>(), 0);
  EXPECT_DOUBLE_EQ(j["buffer"]["decoding_seconds"].get<double>(), 3.5);
  EXPECT_DOUBLE_EQ(j["buffer"]["seconds"].get<double>(), 3.5);
}

// What the overlay's state line counts, as the web page lists it.
TEST(Status, ProblemsNameWhatAnOperatorMustSee) {
  StatusSnapshot s;
  s.workers.push_back({"orchestrator", WorkerState::Running, 0, ""});
  s.remote.state = "listening";
  EXPECT_TRUE(status_problems(s).empty());
  s.workers.push_back({"cache", WorkerState::Failed, 2, "disk full"});
  ServerHealth server;
  server.url = "http://gpu1:8188";
  server.healthy = false;
  server.last_error = "connection refused";
  s.source_health.servers.push_back(server);
  s.interpolation.decode_errors = 4;
  const std::vector<std::string> problems = status_problems(s);
  ASSERT_EQ(problems.size(), 3u);
  EXPECT_EQ(problems[0], "worker cache: failed, 2 errors - disk full");
  EXPECT_EQ(problems[1], "ComfyUI http://gpu1:8188: not healthy - connection refused");
  EXPECT_EQ(problems[2], "VAE decode errors: 4");
  // status.json carries the same list, in the same words (the web page shows it as it is).
  const auto j = nlohmann::json::parse(status_to_json(s));
  EXPECT_EQ(j["problems"].get<std::vector<std::string>>(), problems);
  EXPECT_EQ(j["problem_count"], 3);
  // And /metrics counts them, for an alert on "anything wrong".
  EXPECT_NE(status_to_prometheus(s).find("\ndreamwindow_problem_count 3\n"), std::string::npos);
  s = StatusSnapshot{};
  s.remote.state = "listening";
  EXPECT_EQ(nlohmann::json::parse(status_to_json(s))["problems"], nlohmann::json::array());
}

// OSC that waits to bind (an address DHCP has not given yet) is on the operator's list until it
// listens.
TEST(Status, ProblemsNameOscThatDoesNotListen) {
  StatusSnapshot s;
  s.control.osc = "off";
  EXPECT_TRUE(status_problems(s).empty()) << "off by the config is no problem";
  s.control.osc = "udp://192.168.1.20:9000";
  EXPECT_TRUE(status_problems(s).empty());
  s.control.osc =
      "waiting to bind to osc.address = 192.168.1.20, osc.port = 9000: Cannot assign requested "
      "address; retrying";
  EXPECT_EQ(status_problems(s), std::vector<std::string>{"osc: " + s.control.osc});
}

// source.folder not read (a disk not mounted yet) is on the list until it is, and so are files in
// it that are no readable image; status.json carries the same under "folder".
TEST(Status, ProblemsNameASourceFolderNotRead) {
  StatusSnapshot s;
  s.remote.state = "listening";
  s.folder = FolderStatus{.path = "/media/usb/show", .images = 3, .watched = true};
  EXPECT_TRUE(status_problems(s).empty());
  s.folder.problem = "no such folder; showing the default seed images until it has images";
  s.folder.images = 0;
  s.folder.unreadable = 1;
  EXPECT_EQ(status_problems(s),
            (std::vector<std::string>{"source.folder /media/usb/show: " + s.folder.problem,
                                      "source.folder files not readable as images: 1"}));
  const auto j = nlohmann::json::parse(status_to_json(s));
  EXPECT_EQ(j["folder"]["problem"], s.folder.problem);
  EXPECT_EQ(j["folder"]["path"], "/media/usb/show");
  EXPECT_EQ(j["folder"]["unreadable"], 1);
}

// A web remote waiting for its port (held by an instance still ending) is on the list until it
// listens.
TEST(Status, ProblemsNameARemoteWaitingToBind) {
  StatusSnapshot s;
  s.remote.state =
      "waiting to bind to remote.address = 127.0.0.1, remote.port = 8420: Address already in use; "
      "retrying";
  EXPECT_EQ(status_problems(s), std::vector<std::string>{"remote: " + s.remote.state});
  s.remote.state = "listening";
  EXPECT_TRUE(status_problems(s).empty());
}

TEST(Status, PrometheusTextHasTypesAndValues) {
  const std::string text = status_to_prometheus(sample());
  EXPECT_NE(text.find("# TYPE dreamwindow_generation_keyframes_total counter\n"
                      "dreamwindow_generation_keyframes_total 31\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("dreamwindow_cache_entries 17"), std::string::npos);
}

TEST(PeriodicFileWriter, WritesPeriodicallyAndOnceMoreOnStop) {
  test::ScratchDir dir;
  std::atomic<int> counter{0};
  PeriodicFileWriter writer(dir / "status.json", std::chrono::milliseconds(10),
                            [&] { return std::to_string(++counter); });
  ASSERT_TRUE(test::wait_until([&] { return writer.writes() >= 3; }));
  writer.stop();
  const auto bytes = read_file(dir / "status.json", 100);
  EXPECT_EQ(std::string(bytes.begin(), bytes.end()), std::to_string(counter.load()))
      << "the file holds the final state";
}

TEST(PeriodicFileWriter, UnwritablePathIsCountedNotFatal) {
  PeriodicFileWriter writer("/proc/dreamwindow-cannot-write/status.json",
                            std::chrono::milliseconds(10), [] { return "{}"; });
  ASSERT_TRUE(test::wait_until([&] { return writer.failures() >= 2; }));
  EXPECT_EQ(writer.writes(), 0u);
}

}  // namespace
}  // namespace dw::pipeline
