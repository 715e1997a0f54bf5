// The metrics table drives status.json, /metrics and the overlay: every row, read from a snapshot
// where every group has elements, must show up in all three with the same value and the right
// Prometheus type. Nothing here names a metric; the rows come from the table.
#include "pipeline/metrics_table.h"

#include <gtest/gtest.h>

#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "core/files.h"
#include "support/test_support.h"

namespace dw::pipeline {
namespace {

using nlohmann::json;

// Every field set, two workers and two servers, and every source counter the table declares.
StatusSnapshot full_snapshot() {
  StatusSnapshot s;
  s.uptime_s = 12.5;
  s.version = "9.9.9";
  s.vae_backend = "cpu";
  s.source = "comfy";
  s.display = {750, 600, 599, 41, 60, 16.6, 20.1, 3, 12};
  s.display.outputs = {{750, 0, 60.0, false, true}, {620, 130, 50.0, true, false}};
  s.ring_depth = 120;
  s.ring_capacity = 256;
  s.buffer_target_s = 30;
  s.buffer_s = 15;
  s.orchestrator.keyframes = 31;
  s.orchestrator.injections = 2;
  s.orchestrator.theme = "tide pools";
  s.orchestrator.last_error = "a recovered error";
  s.orchestrator.collapse.colour_mean = 2.4;
  s.cache_entries = 17;
  s.vae_lock = {4, 2, 1.5, 0.25};
  s.workers.push_back({"interpolation", WorkerState::Running, 1, "decode failed"});
  s.workers.push_back({"cache", WorkerState::Failed, 0, "disk full"});
  s.source_health.servers.push_back({"http://a:8188", true, false, 20, 0, ""});
  s.source_health.servers.push_back({"http://b:8188", false, true, 11, 4, "connection refused"});
  s.remote = {"listening", "http://127.0.0.1:8420", true, 7};
  s.source_health.settings =
      GenerationSettings{"sd15.safetensors", 10, 6.0, 0.4, "euler", "normal", 3, 10};
  s.recording = RecordingStatus{true, "/videos/a.mp4", "libx264", 100,        2, 123456,
                                1,    1u << 30,        3,         "disk full"};
  const std::string prefix = "generation.counters.";
  double v = 1;
  for (const MetricRow& row : metrics_table())
    if (row.path.starts_with(prefix))
      s.source_health.counters.emplace_back(std::string(row.path.substr(prefix.size())), v++);
  return s;
}

// Prometheus text -> {metric name: TYPE} and the sample lines.
struct Exposition {
  std::map<std::string, std::string> types;
  std::vector<std::string> samples;
};

Exposition parse_prometheus(const std::string& text) {
  Exposition e;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    if (line.starts_with("# TYPE ")) {
      const std::size_t space = line.rfind(' ');
      const std::string name = line.substr(7, space - 7);
      EXPECT_FALSE(e.types.contains(name)) << "TYPE declared twice: " << name;
      e.types[name] = line.substr(space + 1);
    } else if (!line.starts_with("#")) {
      e.samples.push_back(line);
    }
  }
  return e;
}

std::string expected_type(const MetricRow& row) {
  return row.kind == MetricKind::Counter ? "counter" : "gauge";
}

bool has_sample(const Exposition& e, const std::string& name, const std::string& label) {
  for (const std::string& line : e.samples)
    if ((line.starts_with(name + " ") || line.starts_with(name + "{")) &&
        line.find(label) != std::string::npos)
      return true;
  return false;
}

TEST(MetricsTable, EveryRowAppearsInJsonPrometheusAndOverlay) {
  const StatusSnapshot s = full_snapshot();
  const json j = json::parse(status_to_json(s));
  const Exposition prom = parse_prometheus(status_to_prometheus(s));
  std::map<std::string, std::string> overlay;
  for (const auto& [label, value] : status_overlay_lines(s)) overlay[label] = value;
  std::size_t checked = 0;
  for (const MetricRow& row : metrics_table()) {
    ASSERT_GT(group_size(s, row.group), 0u) << row.path << ": the snapshot leaves its group empty";
    const std::string name = prometheus_name(row);
    EXPECT_EQ(prom.types.count(name) ? prom.types.at(name) : "missing", expected_type(row)) << name;
    for (std::size_t i = 0; i < group_size(s, row.group); ++i) {
      const std::optional<MetricValue> v = row.read(s, i);
      ASSERT_TRUE(v) << row.path << " reads nothing from a full snapshot";
      const json expected = std::visit([](const auto& x) { return json(x); }, *v);
      const json::json_pointer at(json_pointer(row, i));
      ASSERT_TRUE(j.contains(at)) << row.path << " missing from status.json at " << at;
      EXPECT_EQ(j.at(at), expected) << row.path;
      const std::string key =
          row.group == MetricGroup::None
              ? ""
              : std::string(group_label(row.group)) + "=\"" + group_key(s, row.group, i) + "\"";
      EXPECT_TRUE(has_sample(prom, name, key)) << name << " " << key;
      EXPECT_TRUE(overlay.contains(overlay_label(row, s, i))) << overlay_label(row, s, i);
      ++checked;
    }
  }
  EXPECT_GE(checked, metrics_table().size());
}

// Weeks of uptime read as a span on the overlay, not in scientific notation.
TEST(MetricsTable, TheOverlayShowsLongSpansAsAPersonReadsThem) {
  StatusSnapshot s = full_snapshot();
  const auto overlay_of = [](const StatusSnapshot& snapshot) {
    std::map<std::string, std::string> overlay;
    for (const auto& [label, value] : status_overlay_lines(snapshot)) overlay[label] = value;
    return overlay;
  };
  s.uptime_s = 1209600 + 4 * 3600 + 125;  // two weeks, 4 h and a bit
  EXPECT_EQ(overlay_of(s)["uptime_s"], "14 d 4 h");
  s.uptime_s = 3 * 3600 + 25 * 60 + 9;
  EXPECT_EQ(overlay_of(s)["uptime_s"], "3 h 25 min");
  s.uptime_s = 425;
  EXPECT_EQ(overlay_of(s)["uptime_s"], "7 min 5 s");
  s.uptime_s = 42.5;
  EXPECT_EQ(overlay_of(s)["uptime_s"], "42.5 s");
  for (const auto& [label, value] : overlay_of(s))
    EXPECT_EQ(value.find("e+"), std::string::npos) << label << " = " << value;
}

// A 60 Hz main window and a 50 Hz projector on its own thread: each output's own rate and the
// canvases the slower one had no refresh for, per output, in all three views.
TEST(MetricsTable, EachOutputShowsItsOwnRate) {
  const StatusSnapshot s = full_snapshot();
  const json j = json::parse(status_to_json(s));
  ASSERT_EQ(j["outputs"].size(), 2u);
  EXPECT_EQ(j["outputs"][1]["fps"], 50.0);
  EXPECT_EQ(j["outputs"][1]["skipped"], 130);
  EXPECT_EQ(j["outputs"][1]["own_thread"], true);
  EXPECT_EQ(j["outputs"][0]["own_thread"], false);
  EXPECT_EQ(j["outputs"][1]["on_display"], false) << "a projector not there";
  EXPECT_EQ(j["outputs"][0]["on_display"], true);
  const Exposition prom = parse_prometheus(status_to_prometheus(s));
  EXPECT_TRUE(has_sample(prom, "dreamwindow_outputs_fps", "output=\"2\"} 50"));
  EXPECT_TRUE(has_sample(prom, "dreamwindow_outputs_skipped_total", "output=\"2\"} 130"));
  std::map<std::string, std::string> overlay;
  for (const auto& [label, value] : status_overlay_lines(s)) overlay[label] = value;
  EXPECT_TRUE(overlay.contains("outputs[2].fps"));
  // Without [[output]] tables there are no output rows at all.
  StatusSnapshot plain = s;
  plain.display.outputs.clear();
  EXPECT_FALSE(json::parse(status_to_json(plain)).contains("outputs"));
  EXPECT_EQ(status_to_prometheus(plain).find("dreamwindow_outputs_"), std::string::npos);
}

TEST(MetricsTable, KindsUnitsAndNamesAreConsistent) {
  const StatusSnapshot s = full_snapshot();
  std::set<std::string> paths, names;
  for (const MetricRow& row : metrics_table()) {
    EXPECT_TRUE(paths.insert(std::string(row.path)).second) << "duplicate path " << row.path;
    EXPECT_TRUE(names.insert(prometheus_name(row)).second) << "duplicate " << prometheus_name(row);
    EXPECT_FALSE(row.help.empty()) << row.path;
    const std::string name = prometheus_name(row);
    EXPECT_EQ(name.ends_with("_total"), row.kind == MetricKind::Counter) << name;
    EXPECT_EQ(name.ends_with("_info"), row.kind == MetricKind::Info) << name;
    const MetricValue v = *row.read(s, 0);
    if (row.kind == MetricKind::Counter) {
      EXPECT_TRUE(std::holds_alternative<std::uint64_t>(v)) << row.path << ": counters count";
    }
    EXPECT_EQ(std::holds_alternative<std::string>(v), row.kind == MetricKind::Info) << row.path;
    if (row.unit == "seconds" || row.unit == "milliseconds") {
      EXPECT_NE(name.find(row.unit), std::string::npos) << name << " hides its unit";
    }
  }
  const json listing = json::parse(metrics_listing_json());
  ASSERT_EQ(listing.size(), metrics_table().size());
  EXPECT_EQ(listing[0]["prometheus"], prometheus_name(metrics_table()[0]));
}

TEST(MetricsTable, AbsentSourceCountersAreLeftOutAndUnknownOnesKeptInJson) {
  StatusSnapshot s = full_snapshot();
  s.source_health.counters = {{"something_new", 5}};
  const json j = json::parse(status_to_json(s));
  EXPECT_EQ(j["generation"]["counters"], json({{"something_new", 5.0}}));
  const std::string text = status_to_prometheus(s);
  EXPECT_EQ(text.find("dreamwindow_generation_counters_"), std::string::npos) << text;
}

// Error texts come from servers and exceptions: any bytes at all.
StatusSnapshot hostile_snapshot() {
  StatusSnapshot s = full_snapshot();
  const std::string nasty =
      std::string("bad \xff\xfe utf8 \xc0\xaf, \x01 control\nnewline \"quote\" \\") +
      std::string(1, '\0') + "nul " + std::string(2000, 'x');
  s.orchestrator.last_error = nasty;
  s.workers[1].last_error = nasty;
  s.workers[1].name = "cache \xff";
  s.source_health.servers[1].url = "http://b:8188/\"}\n";
  return s;
}

TEST(MetricsTable, AnyTextRendersValidOutputs) {
  const StatusSnapshot s = hostile_snapshot();
  std::string text;
  ASSERT_NO_THROW(text = status_to_json(s));
  const json j = json::parse(text);  // valid UTF-8 JSON
  const std::string last = j["errors"]["last"].get<std::string>();
  EXPECT_NE(last.find("\xEF\xBF\xBD"), std::string::npos) << "invalid bytes become U+FFFD";
  EXPECT_NE(last.find("\"quote\""), std::string::npos) << "valid text is kept as it was";

  const std::string prom = status_to_prometheus(s);
  const Exposition e = parse_prometheus(prom);
  for (const std::string& line : e.samples) {
    ASSERT_TRUE(line.starts_with("dreamwindow_")) << "a label broke a line: " << line;
    EXPECT_LT(line.size(), 1200u) << "labels are clipped";
  }
  EXPECT_NE(prom.find("server=\"http://b:8188/\\\"} \""), std::string::npos) << prom;

  for (const auto& [label, value] : status_overlay_lines(s)) {
    EXPECT_NO_THROW(json(label).dump()) << "overlay label is valid UTF-8";
    EXPECT_NO_THROW(json(value).dump()) << "overlay value is valid UTF-8";
    EXPECT_EQ(value.find('\n'), std::string::npos);
  }
}

TEST(MetricsTable, StatusFileKeepsBeingRewrittenAfterHostileText) {
  test::ScratchDir dir;
  const StatusSnapshot s = hostile_snapshot();
  PeriodicFileWriter writer(dir / "status.json", std::chrono::milliseconds(10),
                            [&] { return status_to_json(s); });
  ASSERT_TRUE(test::wait_until([&] { return writer.writes() >= 3; }));
  writer.stop();
  EXPECT_EQ(writer.failures(), 0u);
  const auto bytes = read_file(dir / "status.json", 1 << 20);
  const json j = json::parse(bytes.begin(), bytes.end());
  EXPECT_EQ(j["workers"][1]["state"], "failed");
}

}  // namespace
}  // namespace dw::pipeline
