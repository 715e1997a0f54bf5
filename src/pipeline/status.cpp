#include "pipeline/status.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <condition_variable>
#include <nlohmann/json.hpp>

#include "core/files.h"

namespace dw::pipeline {

std::string status_to_json(const StatusSnapshot& s) {
  using nlohmann::json;
  const double buffer_s = s.buffer_s;
  json j;
  j["uptime_s"] = s.uptime_s;
  j["version"] = s.version;
  j["frame"] = {{"presented", s.display.frames_presented},
                {"content_frames_shown", s.display.content_frames_shown},
                {"sequence", s.display.current_sequence},
                {"keyframe", s.display.current_keyframe},
                {"fps", s.display.fps},
                {"frame_ms_p50", s.display.frame_ms_p50},
                {"frame_ms_p99", s.display.frame_ms_p99},
                {"late_frames", s.display.late_frames},
                {"content_fps", s.display.content_fps}};
  j["buffer"] = {{"seconds", buffer_s},
                 {"target_seconds", s.buffer_target_s},
                 {"percent", s.buffer_target_s > 0 ? 100.0 * buffer_s / s.buffer_target_s : 0.0},
                 {"ring_depth", s.ring_depth},
                 {"ring_capacity", s.ring_capacity}};
  const OrchestratorStats& o = s.orchestrator;
  j["generation"] = {{"source", o.source.empty() ? s.source : o.source},
                     {"keyframes", o.keyframes},
                     {"requests", o.requests},
                     {"last_keyframe", o.last_keyframe},
                     {"pending", s.source_pending},
                     {"depth", s.source_capacity},
                     {"last_generation_s", o.last_generation_s},
                     {"mean_generation_s", o.mean_generation_s},
                     {"theme", o.theme}};
  json counters = json::object();
  for (const auto& [name, value] : s.source_health.counters) counters[name] = value;
  j["generation"]["counters"] = std::move(counters);
  json servers = json::array();
  for (const ServerHealth& sv : s.source_health.servers)
    servers.push_back({{"url", sv.url},
                       {"healthy", sv.healthy},
                       {"keyframes", sv.keyframes},
                       {"errors", sv.errors},
                       {"last_error", sv.last_error}});
  j["generation"]["servers"] = std::move(servers);
  j["interpolation"] = {{"backend", s.vae_backend},
                        {"pairs", s.interpolation.pairs},
                        {"frames", s.interpolation.frames},
                        {"last_pair_ms", s.interpolation.last_pair_ms},
                        {"last_encode_ms", s.interpolation.last_encode_ms},
                        {"queue", s.interpolation_queue},
                        {"encode_errors", s.interpolation.encode_errors},
                        {"decode_errors", s.interpolation.decode_errors}};
  j["cache"] = {{"entries", s.cache_entries},
                {"considered", s.cache_worker.considered},
                {"accepted", s.cache_worker.accepted},
                {"evicted", s.cache_worker.evicted},
                {"queue", s.cache_queue},
                {"dropped", s.cache_worker.queue.dropped_oldest},
                {"last_mean_colour_similarity", s.cache_worker.last_mean_similarity.colour},
                {"last_mean_structure_similarity", s.cache_worker.last_mean_similarity.structure}};
  j["injection"] = {
      {"total", o.injections}, {"forced", o.forced_injections}, {"seed", o.seed_injections}};
  j["collapse"] = {{"ready", o.collapse.ready},
                   {"colour_similarity", o.collapse.colour_mean},
                   {"structure_similarity", o.collapse.structure_mean},
                   {"colour_delta", o.collapse.colour_delta},
                   {"structure_delta", o.collapse.structure_delta},
                   {"injection_rate", o.collapse.rate},
                   {"forced", o.collapse.forced}};
  j["vae_lock"] = {{"acquisitions", s.vae_lock.acquisitions},
                   {"mean_wait_ms", s.vae_lock.mean_wait_ms()},
                   {"max_wait_ms", s.vae_lock.max_wait_ms},
                   {"last_wait_ms", s.vae_lock.last_wait_ms}};
  json workers = json::array();
  for (const WorkerHealth& w : s.workers)
    workers.push_back({{"name", w.name},
                       {"state", std::string(to_string(w.state))},
                       {"running", w.state == WorkerState::Running},
                       {"errors", w.errors},
                       {"last_error", w.last_error}});
  j["workers"] = std::move(workers);
  j["errors"] = {{"orchestrator", o.errors}, {"last", o.last_error}};
  // Any text (a server's error cut mid-character) is written: invalid UTF-8 becomes U+FFFD.
  return j.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
}

namespace {

void metric(std::string& out, std::string_view name, std::string_view type, std::string_view help,
            double value) {
  out += fmt::format("# HELP dreamwindow_{} {}\n# TYPE dreamwindow_{} {}\ndreamwindow_{} {}\n",
                     name, help, name, type, name, value);
}

}  // namespace

std::string status_to_prometheus(const StatusSnapshot& s) {
  std::string out;
  const OrchestratorStats& o = s.orchestrator;
  metric(out, "uptime_seconds", "gauge", "Seconds since start.", s.uptime_s);
  metric(out, "frames_presented_total", "counter", "Display frames presented.",
         static_cast<double>(s.display.frames_presented));
  metric(out, "late_frames_total", "counter", "Display frames later than 1.5 refresh intervals.",
         static_cast<double>(s.display.late_frames));
  metric(out, "frame_time_p99_milliseconds", "gauge", "99th percentile display frame time.",
         s.display.frame_ms_p99);
  metric(out, "buffer_seconds", "gauge", "Seconds of content buffered ahead.", s.buffer_s);
  metric(out, "ring_depth", "gauge", "Content frames waiting in the ring.",
         static_cast<double>(s.ring_depth));
  metric(out, "keyframes_total", "counter", "Keyframes emitted in order.",
         static_cast<double>(o.keyframes));
  metric(out, "keyframe_requests_total", "counter", "Keyframe requests submitted.",
         static_cast<double>(o.requests));
  metric(out, "generation_seconds", "gauge", "Request-to-result time of the newest keyframe.",
         o.last_generation_s);
  metric(out, "injections_total", "counter", "Keyframes injected from the cache or seeds.",
         static_cast<double>(o.injections));
  metric(out, "interpolated_frames_total", "counter", "Content frames decoded.",
         static_cast<double>(s.interpolation.frames));
  metric(out, "pair_decode_milliseconds", "gauge", "Slerp and decode time of the last pair.",
         s.interpolation.last_pair_ms);
  metric(out, "cache_entries", "gauge", "Frames in the diversity cache.",
         static_cast<double>(s.cache_entries));
  metric(out, "cache_dropped_total", "counter", "Frames dropped by the full cache queue.",
         static_cast<double>(s.cache_worker.queue.dropped_oldest));
  metric(out, "collapse_colour_delta", "gauge", "Collapse detector colour delta.",
         o.collapse.colour_delta);
  metric(out, "collapse_structure_delta", "gauge", "Collapse detector structure delta.",
         o.collapse.structure_delta);
  metric(out, "vae_lock_wait_max_milliseconds", "gauge", "Longest wait for the VAE lock.",
         s.vae_lock.max_wait_ms);
  for (const auto& [name, value] : s.source_health.counters)
    metric(out, "source_" + name, "gauge",
           "Keyframe source counter (status.json generation.counters).", value);
  std::size_t healthy_servers = 0;
  for (const ServerHealth& sv : s.source_health.servers) healthy_servers += sv.healthy;
  metric(out, "source_servers_healthy", "gauge", "Keyframe servers currently healthy.",
         static_cast<double>(healthy_servers));
  metric(out, "errors_total", "counter", "Errors the orchestrator recovered from.",
         static_cast<double>(o.errors + s.interpolation.decode_errors +
                             s.interpolation.encode_errors + s.cache_worker.errors));
  return out;
}

PeriodicFileWriter::PeriodicFileWriter(std::string path, std::chrono::milliseconds interval,
                                       std::function<std::string()> render)
    : path_(std::move(path)), interval_(interval), render_(std::move(render)) {
  thread_ = std::jthread([this](std::stop_token stop) { run(stop); });
}

PeriodicFileWriter::~PeriodicFileWriter() {
  stop();
}

void PeriodicFileWriter::stop() {
  if (!thread_.joinable()) return;
  thread_.request_stop();
  thread_.join();
  write_now();  // the final state
}

void PeriodicFileWriter::write_now() {
  std::lock_guard lock(write_mutex_);
  try {
    write_file_atomic(path_, std::string_view(render_()));
    ++writes_;
  } catch (const std::exception& e) {
    if (failures_++ == 0) spdlog::error("status: cannot write '{}': {}", path_, e.what());
  }
}

void PeriodicFileWriter::run(std::stop_token stop) {
  std::mutex m;
  std::condition_variable_any cv;
  std::unique_lock lock(m);
  while (!stop.stop_requested()) {
    write_now();
    cv.wait_for(lock, stop, interval_, [] { return false; });
  }
}

}  // namespace dw::pipeline
