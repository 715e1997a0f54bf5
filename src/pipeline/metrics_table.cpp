#include "pipeline/metrics_table.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "pipeline/metrics_rows.h"

namespace dw::pipeline {
namespace {

using namespace metric_rows;
using Read = decltype(MetricRow::read);

// One of the keyframe source's named counters (SourceHealth::counters); absent for a source that
// does not report it. `path` is "generation.counters.<name>".
MetricRow source_row(std::string_view path, MetricKind kind, std::string_view unit,
                     std::string_view help) {
  const std::string_view name = path.substr(path.rfind('.') + 1);
  Read read = [name, kind](const S& s, std::size_t) -> std::optional<MetricValue> {
    for (const auto& [n, v] : s.source_health.counters)
      if (n == name)
        return kind == kCounter ? value(std::isfinite(v) && v > 0 ? static_cast<std::uint64_t>(v)
                                                                  : std::uint64_t{0})
                                : value(v);
    return std::nullopt;
  };
  return {path, kind, unit, help, MetricGroup::None, std::move(read)};
}

std::vector<MetricRow> display_rows() {
  return {
      row("uptime_s", kGauge, "seconds", "Seconds since start.",
          [](const S& s) { return s.uptime_s; }),
      row("version", kInfo, "", "Program version.", [](const S& s) { return s.version; }),
      row("problem_count", kGauge, "",
          "Problems an operator must see now (status.json's problems: 0 when all is well).",
          [](const S& s) { return static_cast<std::uint64_t>(status_problems(s).size()); }),
      row("frame.presented", kCounter, "frames", "Display frames presented.",
          [](const S& s) { return s.display.frames_presented; }),
      row("frame.content_frames_shown", kCounter, "frames",
          "Content frames that reached the screen.",
          [](const S& s) { return s.display.content_frames_shown; }),
      row("frame.content_uploads", kCounter, "frames",
          "Content frames uploaded to the GPU: one upload per frame, however many outputs.",
          [](const S& s) { return s.display.content_uploads; }),
      row("frame.sequence", kGauge, "", "Sequence number of the content frame on screen.",
          [](const S& s) { return s.display.current_sequence; }),
      row("frame.keyframe", kGauge, "", "Keyframe index of the content on screen.",
          [](const S& s) { return s.display.current_keyframe; }),
      row("frame.fps", kGauge, "hertz", "Display frames per second.",
          [](const S& s) { return s.display.fps; }),
      row("frame.frame_ms_p50", kGauge, "milliseconds", "Median display frame time.",
          [](const S& s) { return s.display.frame_ms_p50; }),
      row("frame.frame_ms_p99", kGauge, "milliseconds", "99th percentile display frame time.",
          [](const S& s) { return s.display.frame_ms_p99; }),
      row("frame.late_frames", kCounter, "frames",
          "Display frames later than 1.5 refresh intervals.",
          [](const S& s) { return s.display.late_frames; }),
      row("frame.content_fps", kGauge, "hertz", "Content frames shown per second.",
          [](const S& s) { return s.display.content_fps; }),
      row("frame.display", kInfo, "",
          "The display the main window is on (its name, as --list-displays prints it).",
          [](const S& s) { return s.display.display; }),
      row("frame.display_on_target", kGauge, "",
          "Whether every window's own display is there, the main window's and each output's "
          "(false while a projector is off).",
          [](const S& s) { return s.display.display_on_target; }),
      row("frame.display_moves", kCounter, "moves",
          "Times a full-screen window went back onto its display after it returned.",
          [](const S& s) { return s.display.display_moves; }),
      output_row("outputs[].presented", kCounter, "frames",
                 "Frames this output showed ([[output]] tables; output 1 is the main window).",
                 [](const OutputStatus& o) { return o.presented; }),
      output_row("outputs[].skipped", kCounter, "frames",
                 "Canvases this output had no refresh for (its display is slower than the loop).",
                 [](const OutputStatus& o) { return o.skipped; }),
      output_row("outputs[].fps", kGauge, "hertz",
                 "Frames per second this output shows: its own display's rate (0 when stalled).",
                 [](const OutputStatus& o) { return o.fps; }),
      output_row("outputs[].own_thread", kGauge, "",
                 "Whether a thread of its own draws this output (windows after the first).",
                 [](const OutputStatus& o) { return o.own_thread; }),
      output_row("outputs[].on_display", kGauge, "",
                 "Whether this output's window is on its own display (false while its projector "
                 "is off or not there yet: the window waits hidden).",
                 [](const OutputStatus& o) { return o.on_display; }),
      row("buffer.seconds", kGauge, "seconds",
          "Content ahead of the screen: ready in the ring plus being decoded "
          "(buffer.ready_seconds + buffer.decoding_seconds); the orchestrator fills it up to "
          "the target.",
          [](const S& s) { return s.buffer_s; }),
      row("buffer.ready_seconds", kGauge, "seconds",
          "Content ready to show: the frames in the ring (0 while the screen waits for frames).",
          [](const S& s) { return s.buffer_ready_s; }),
      row("buffer.decoding_seconds", kGauge, "seconds",
          "Content of keyframe pairs taken for decoding whose frames are not in the ring yet.",
          [](const S& s) { return s.buffer_decoding_s; }),
      row("buffer.target_seconds", kGauge, "seconds", "Buffer the orchestrator aims for.",
          [](const S& s) { return s.buffer_target_s; }),
      row("buffer.percent", kGauge, "percent", "Buffer as a share of its target.",
          [](const S& s) {
            return s.buffer_target_s > 0 ? 100.0 * s.buffer_s / s.buffer_target_s : 0.0;
          }),
      row("buffer.ring_depth", kGauge, "frames", "Content frames waiting in the ring.",
          [](const S& s) { return s.ring_depth; }),
      row("buffer.ring_capacity", kGauge, "frames", "Slots of the frame ring.",
          [](const S& s) { return s.ring_capacity; }),
  };
}

std::vector<MetricRow> generation_rows() {
  return {
      row("generation.source", kInfo, "", "The keyframe source producing now.",
          [](const S& s) {
            return s.orchestrator.source.empty() ? s.source : s.orchestrator.source;
          }),
      row("generation.keyframes", kCounter, "keyframes", "Keyframes emitted in order.",
          [](const S& s) { return s.orchestrator.keyframes; }),
      row("generation.requests", kCounter, "requests", "Keyframe requests submitted.",
          [](const S& s) { return s.orchestrator.requests; }),
      row("generation.last_keyframe", kGauge, "", "Index of the newest keyframe.",
          [](const S& s) { return s.orchestrator.last_keyframe; }),
      row("generation.pending", kGauge, "requests", "Requests at the source, not yet taken.",
          [](const S& s) { return s.source_pending; }),
      row("generation.depth", kGauge, "requests",
          "Requests the source can use: the pipeline's depth.",
          [](const S& s) { return s.source_capacity; }),
      row("generation.last_generation_s", kGauge, "seconds",
          "Request-to-result time of the newest keyframe.",
          [](const S& s) { return s.orchestrator.last_generation_s; }),
      row("generation.mean_generation_s", kGauge, "seconds", "Mean request-to-result time.",
          [](const S& s) { return s.orchestrator.mean_generation_s; }),
      row("generation.theme", kInfo, "", "The prompt theme in use.",
          [](const S& s) { return s.orchestrator.theme; }),
      row("generation.healthy_servers", kGauge, "servers", "Keyframe servers currently healthy.",
          [](const S& s) {
            return static_cast<std::uint64_t>(
                std::count_if(s.source_health.servers.begin(), s.source_health.servers.end(),
                              [](const ServerHealth& sv) { return sv.healthy; }));
          }),
      source_row("generation.counters.keyframes", kCounter, "keyframes",
                 "Keyframes the source delivered."),
      source_row("generation.counters.failed_attempts", kCounter, "attempts",
                 "Attempts that failed and were re-requested."),
      source_row("generation.counters.transport_errors", kCounter, "errors",
                 "Unreachable server, connection lost, HTTP timeout."),
      source_row("generation.counters.server_errors", kCounter, "errors",
                 "Errors the server reported (node errors, execution errors, 5xx)."),
      source_row("generation.counters.stalls", kCounter, "prompts",
                 "Running prompts interrupted after comfy.stall_timeout_s without a sign of life."),
      source_row("generation.counters.lost", kCounter, "requests",
                 "Prompts or images gone with a restart or a dropped socket."),
      source_row("generation.counters.failovers", kCounter, "failovers",
                 "Times the offline generator took over from a server that was not delivering "
                 "(source.kind auto)."),
      source_row("generation.counters.fallback_keyframes", kCounter, "keyframes",
                 "Keyframes the offline generator made while it covered for the servers."),
      source_row("generation.counters.overdue_covers", kCounter, "requests",
                 "Requests a healthy server held too long, made by the offline generator "
                 "(source.overdue_factor)."),
      source_row("generation.counters.starving_covers", kCounter, "requests",
                 "Of those, covered sooner because the content buffer was running low."),
      source_row("generation.counters.late_keyframes", kCounter, "keyframes",
                 "Keyframes a server finished after the offline generator had covered them "
                 "(their time still counts as the server's)."),
      source_row("generation.counters.late_shown", kCounter, "keyframes",
                 "Of those, shown in place of a later request (spares)."),
      source_row("generation.counters.uploads_reused", kCounter, "uploads",
                 "Inputs sent as the server's own PNG bytes."),
      source_row("generation.counters.bytes_sent", kCounter, "bytes", "Bytes sent to the servers."),
      source_row("generation.counters.bytes_received", kCounter, "bytes",
                 "Bytes received from the servers."),
      source_row("generation.counters.progress_value", kGauge, "steps",
                 "Sampler step of the latest progress event."),
      source_row("generation.counters.progress_max", kGauge, "steps",
                 "Sampler steps of the latest progress event."),
      server_row("generation.servers[].url", kInfo, "", "The server's URL.",
                 [](const ServerHealth& sv) { return sv.url; }),
      server_row("generation.servers[].healthy", kGauge, "", "1 while the server answers.",
                 [](const ServerHealth& sv) { return sv.healthy; }),
      server_row("generation.servers[].keyframes", kCounter, "keyframes",
                 "Keyframes this server delivered.",
                 [](const ServerHealth& sv) { return sv.keyframes; }),
      server_row("generation.servers[].errors", kCounter, "errors", "Errors with this server.",
                 [](const ServerHealth& sv) { return sv.errors; }),
      server_row("generation.servers[].degraded", kGauge, "",
                 "1 when the server answers but delivered nothing for a stall timeout.",
                 [](const ServerHealth& sv) { return sv.degraded; }),
      server_row("generation.servers[].queue_remaining", kGauge, "prompts",
                 "The server's whole queue (every client's prompts).",
                 [](const ServerHealth& sv) { return static_cast<double>(sv.queue_remaining); }),
      server_row("generation.servers[].ours_waiting", kGauge, "prompts",
                 "Our prompts the server took (POST answered), queued and not yet running.",
                 [](const ServerHealth& sv) { return static_cast<double>(sv.ours_waiting); }),
      server_row("generation.servers[].ours_running", kGauge, "prompts",
                 "Our prompts executing at the server now.",
                 [](const ServerHealth& sv) { return static_cast<double>(sv.ours_running); }),
      settings_row("generation.settings.checkpoint", kInfo, "", "The checkpoint generating now.",
                   [](const GenerationSettings& g) { return g.checkpoint; }),
      settings_row("generation.settings.steps", kGauge, "steps", "Sampler steps per keyframe.",
                   [](const GenerationSettings& g) { return static_cast<double>(g.steps); }),
      settings_row("generation.settings.cfg", kGauge, "", "Classifier-free guidance scale.",
                   [](const GenerationSettings& g) { return g.cfg; }),
      settings_row("generation.settings.denoise", kGauge, "", "img2img denoise strength.",
                   [](const GenerationSettings& g) { return g.denoise; }),
      settings_row("generation.settings.sampler", kInfo, "", "The sampler.",
                   [](const GenerationSettings& g) { return g.sampler; }),
      settings_row("generation.settings.scheduler", kInfo, "", "The noise scheduler.",
                   [](const GenerationSettings& g) { return g.scheduler; }),
      settings_row("generation.settings.progress", kGauge, "ratio",
                   "How far the running prompt's sampler is (0 to 1).",
                   [](const GenerationSettings& g) {
                     return g.progress_max > 0
                                ? static_cast<double>(g.progress_value) / g.progress_max
                                : 0.0;
                   }),
      server_row("generation.servers[].last_error", kInfo, "", "The latest error with this server.",
                 [](const ServerHealth& sv) { return sv.last_error; }),
  };
}

// source.folder: the slideshow's images (source.kind = folder) or the seeds of the others.
std::vector<MetricRow> folder_rows() {
  return {
      row("folder.path", kInfo, "", "source.folder (empty: the shipped seed images).",
          [](const S& s) { return s.folder.path; }),
      row("folder.problem", kInfo, "",
          "Why source.folder is not read (missing, not readable, no images) and what is shown "
          "instead; empty while it is read.",
          [](const S& s) { return s.folder.problem; }),
      row("folder.images", kGauge, "images", "Images from source.folder in use.",
          [](const S& s) { return s.folder.images; }),
      row("folder.unreadable", kGauge, "files",
          "Image files in source.folder that could not be read (skipped).",
          [](const S& s) { return s.folder.unreadable; }),
      row("folder.unread", kGauge, "files",
          "Image files in source.folder not read yet: a large folder is read a second at a time "
          "while the show runs (source.kind = folder).",
          [](const S& s) { return s.folder.unread; }),
      row("folder.on_disk", kGauge, "images",
          "Images in use from source.folder not held in memory (over source.folder_memory_mb): "
          "read from their files ahead of being shown.",
          [](const S& s) { return s.folder.on_disk; }),
      row("folder.watched", kGauge, "",
          "1 when source.folder is read again while running (source.kind = folder).",
          [](const S& s) { return s.folder.watched; }),
  };
}

std::vector<MetricRow> worker_stage_rows() {
  return {
      row("interpolation.backend", kInfo, "", "The VAE backend.",
          [](const S& s) { return s.vae_backend; }),
      row("interpolation.keyframes", kCounter, "keyframes",
          "Keyframes the interpolation worker took.",
          [](const S& s) { return s.interpolation.keyframes; }),
      row("interpolation.pairs", kCounter, "pairs", "Keyframe pairs interpolated.",
          [](const S& s) { return s.interpolation.pairs; }),
      row("interpolation.frames", kCounter, "frames", "Content frames decoded.",
          [](const S& s) { return s.interpolation.frames; }),
      row("interpolation.last_pair_ms", kGauge, "milliseconds",
          "Slerp and decode time of the last pair.",
          [](const S& s) { return s.interpolation.last_pair_ms; }),
      row("interpolation.last_encode_ms", kGauge, "milliseconds",
          "Encode time of the last keyframe.",
          [](const S& s) { return s.interpolation.last_encode_ms; }),
      row("interpolation.decode_stride", kGauge, "frames",
          "Every k-th in-between frame is decoded, the rest blended (1: all).",
          [](const S& s) { return s.interpolation.decode_stride; }),
      row("interpolation.decoded_per_pair", kGauge, "frames",
          "VAE decodes per keyframe pair (0: pixel crossfades).",
          [](const S& s) { return s.interpolation.decoded_per_pair; }),
      row("interpolation.vae_decode_fps", kGauge, "frames per second",
          "Measured decode rate of the VAE (0: not measured yet).",
          [](const S& s) { return s.interpolation.vae_decode_fps; }),
      row("interpolation.vae_keeps_up", kGauge, "",
          "1 when the decode plan fits the pair's playing time.",
          [](const S& s) { return s.interpolation.vae_keeps_up; }),
      row("interpolation.queue", kGauge, "keyframes",
          "Keyframes waiting for the interpolation worker.",
          [](const S& s) { return s.interpolation_queue; }),
      row("interpolation.queued_frames", kGauge, "frames",
          "Frames those waiting keyframes will give.",
          [](const S& s) { return s.interpolation_queued_frames; }),
      row("interpolation.encode_errors", kCounter, "errors", "Keyframes that failed to encode.",
          [](const S& s) { return s.interpolation.encode_errors; }),
      row("interpolation.decode_errors", kCounter, "errors", "Pairs that failed to decode.",
          [](const S& s) { return s.interpolation.decode_errors; }),
      row("cache.entries", kGauge, "frames", "Frames in the diversity cache.",
          [](const S& s) { return s.cache_entries; }),
      row("cache.considered", kCounter, "frames", "Frames the cache judged.",
          [](const S& s) { return s.cache_worker.considered; }),
      row("cache.accepted", kCounter, "frames", "Frames the cache kept.",
          [](const S& s) { return s.cache_worker.accepted; }),
      row("cache.evicted", kCounter, "frames", "Frames the cache evicted.",
          [](const S& s) { return s.cache_worker.evicted; }),
      row("cache.queue", kGauge, "frames", "Frames waiting for the cache worker.",
          [](const S& s) { return s.cache_queue; }),
      row("cache.dropped", kCounter, "frames", "Frames dropped by the full cache queue.",
          [](const S& s) { return s.cache_worker.queue.dropped_oldest; }),
      row("cache.refused_degenerate", kCounter, "frames",
          "Frames refused as fried or noisy (the trend or the frame's own measures).",
          [](const S& s) { return s.cache_worker.refused_degenerate; }),
      row("cache.refused_budget", kCounter, "frames", "Frames refused: the write budget was spent.",
          [](const S& s) { return s.cache_worker.refused_budget; }),
      row("cache.refused_collapse", kCounter, "frames",
          "Frames refused while the loop was collapsing (forced, or its variety held).",
          [](const S& s) { return s.cache_worker.refused_collapse; }),
      row("cache.forgotten", kCounter, "frames",
          "Frames of a collapse taken out of the cache again once it was seen.",
          [](const S& s) { return s.cache_worker.forgotten; }),
      row("cache.renewals", kCounter, "frames",
          "Frames a full cache took in the oldest entry's place (once an hour at most).",
          [](const S& s) { return s.cache_worker.renewals; }),
      row("cache.set_aside", kCounter, "frames",
          "Frames not tried within a minute of a failed cache write.",
          [](const S& s) { return s.cache_worker.set_aside; }),
      row("cache.bytes_written", kCounter, "bytes", "PNG and index bytes written since start.",
          [](const S& s) { return s.cache_worker.bytes_written; }),
      row("cache.errors", kCounter, "errors", "Cache errors recovered from.",
          [](const S& s) { return s.cache_worker.errors; }),
      row("cache.last_mean_colour_similarity", kGauge, "",
          "Mean colour similarity of the last frame to the cache.",
          [](const S& s) { return s.cache_worker.last_mean_similarity.colour; }),
      row("cache.last_mean_structure_similarity", kGauge, "",
          "Mean structure similarity of the last frame to the cache.",
          [](const S& s) { return s.cache_worker.last_mean_similarity.structure; }),
      row("vae_lock.acquisitions", kCounter, "", "Times the VAE lock was taken.",
          [](const S& s) { return s.vae_lock.acquisitions; }),
      row("vae_lock.mean_wait_ms", kGauge, "milliseconds", "Mean wait for the VAE lock.",
          [](const S& s) { return s.vae_lock.mean_wait_ms(); }),
      row("vae_lock.max_wait_ms", kGauge, "milliseconds", "Longest wait for the VAE lock.",
          [](const S& s) { return s.vae_lock.max_wait_ms; }),
      row("vae_lock.last_wait_ms", kGauge, "milliseconds", "Latest wait for the VAE lock.",
          [](const S& s) { return s.vae_lock.last_wait_ms; }),
  };
}

std::vector<MetricRow> decision_rows() {
  return {
      row("injection.total", kCounter, "keyframes", "Keyframes injected from the cache or seeds.",
          [](const S& s) { return s.orchestrator.injections; }),
      row("injection.forced", kCounter, "keyframes", "Injections forced by a collapse.",
          [](const S& s) { return s.orchestrator.forced_injections; }),
      row("injection.seed", kCounter, "keyframes", "Injections of a seed image.",
          [](const S& s) { return s.orchestrator.seed_injections; }),
      row("collapse.ready", kGauge, "", "1 once the detector has enough history to judge.",
          [](const S& s) { return s.orchestrator.collapse.ready; }),
      row("collapse.colour_similarity", kGauge, "", "Newest consecutive-pair colour similarity.",
          [](const S& s) { return s.orchestrator.collapse.colour_mean; }),
      row("collapse.structure_similarity", kGauge, "",
          "Newest consecutive-pair structure similarity.",
          [](const S& s) { return s.orchestrator.collapse.structure_mean; }),
      row("collapse.colour_delta", kGauge, "", "Collapse detector colour delta.",
          [](const S& s) { return s.orchestrator.collapse.colour_delta; }),
      row("collapse.structure_delta", kGauge, "", "Collapse detector structure delta.",
          [](const S& s) { return s.orchestrator.collapse.structure_delta; }),
      row("collapse.injection_rate", kGauge, "", "Injection probability for the next keyframe.",
          [](const S& s) { return s.orchestrator.collapse.rate; }),
      row("collapse.progress", kGauge, "", "0..1 between the scale and force levels.",
          [](const S& s) { return s.orchestrator.collapse.progress; }),
      row("collapse.forced", kGauge, "", "1 when a delta reached its force level.",
          [](const S& s) { return s.orchestrator.collapse.forced; }),
      row("collapse.fry", kGauge, "", "Newest fry index (contrast, saturation, clipping).",
          [](const S& s) { return s.orchestrator.collapse.degeneration.fry; }),
      row("collapse.fry_delta", kGauge, "",
          "How fast the fry index climbs (after a fry injection: its level above the healthy one).",
          [](const S& s) { return s.orchestrator.collapse.degeneration.fry_delta; }),
      row("collapse.hf", kGauge, "", "Newest high-frequency energy (relative to contrast).",
          [](const S& s) { return s.orchestrator.collapse.degeneration.hf; }),
      row("collapse.noise_delta", kGauge, "",
          "How fast the high-frequency energy climbs (after a noise injection: its level above "
          "the healthy one).",
          [](const S& s) { return s.orchestrator.collapse.degeneration.noise_delta; }),
      row("collapse.holding", kGauge, "",
          "1 while the healthy level from before a fry or noise climb is held, until the picture "
          "is back near it.",
          [](const S& s) { return s.orchestrator.collapse.degeneration.holding; }),
      row("collapse.holding_variety", kGauge, "",
          "1 while the variety from before a collapse is held: until consecutive keyframes "
          "differ about as much again, or 20 keyframes after the stream last stood still.",
          [](const S& s) { return s.orchestrator.collapse.holding; }),
      row("collapse.cause", kInfo, "", "What scales injection now: collapse, fry, noise or none.",
          [](const S& s) { return std::string(s.orchestrator.collapse.cause); }),
      worker_row("workers[].name", kInfo, "", "The worker.",
                 [](const WorkerHealth& w) { return w.name; }),
      worker_row("workers[].state", kInfo, "", "starting, running, unhealthy, stopped or failed.",
                 [](const WorkerHealth& w) { return std::string(to_string(w.state)); }),
      worker_row("workers[].running", kGauge, "", "1 while the worker runs.",
                 [](const WorkerHealth& w) { return w.state == WorkerState::Running; }),
      worker_row("workers[].errors", kCounter, "errors", "Errors the worker recovered from.",
                 [](const WorkerHealth& w) { return w.errors; }),
      worker_row("workers[].last_error", kInfo, "",
                 "The latest error, or what stopped a failed worker.",
                 [](const WorkerHealth& w) { return w.last_error; }),
      row("errors.orchestrator", kCounter, "errors", "Errors the orchestrator recovered from.",
          [](const S& s) { return s.orchestrator.errors; }),
      row("errors.last", kInfo, "", "The orchestrator's latest error.",
          [](const S& s) { return s.orchestrator.last_error; }),
  };
}

std::vector<MetricRow> build_table() {
  std::vector<MetricRow> all;
  for (auto part : {display_rows, generation_rows, folder_rows, worker_stage_rows, decision_rows,
                    installation_metric_rows})
    for (MetricRow& r : part()) all.push_back(std::move(r));
  return all;
}

// "group[].field" -> ("group", "field"); a row without a group -> (path, "").
std::pair<std::string_view, std::string_view> split_group(std::string_view path) {
  const std::size_t brackets = path.find("[]");
  if (brackets == std::string_view::npos) return {path, {}};
  return {path.substr(0, brackets), path.substr(brackets + 3)};
}

std::string replace_all(std::string text, char from, char to) {
  std::replace(text.begin(), text.end(), from, to);
  return text;
}

// "frame_ms_p50" -> "frame_milliseconds_p50", "uptime_s" -> "uptime_seconds".
std::string spell_units(const std::string& name) {
  std::string out;
  std::size_t start = 0;
  while (start <= name.size()) {
    const std::size_t end = std::min(name.find('_', start), name.size());
    const std::string_view word = std::string_view(name).substr(start, end - start);
    out += word == "s" ? "seconds" : word == "ms" ? "milliseconds" : std::string(word);
    if (end < name.size()) out += '_';
    start = end + 1;
  }
  return out;
}

}  // namespace

std::string_view to_string(MetricKind kind) {
  switch (kind) {
    case MetricKind::Counter:
      return "counter";
    case MetricKind::Gauge:
      return "gauge";
    case MetricKind::Info:
      return "info";
  }
  return "unknown";
}

std::span<const MetricRow> metrics_table() {
  static const std::vector<MetricRow> table = build_table();
  return table;
}

std::size_t group_size(const StatusSnapshot& s, MetricGroup group) {
  switch (group) {
    case MetricGroup::Workers:
      return s.workers.size();
    case MetricGroup::Servers:
      return s.source_health.servers.size();
    case MetricGroup::Outputs:
      return s.display.outputs.size();
    case MetricGroup::None:
      break;
  }
  return 1;
}

std::string group_key(const StatusSnapshot& s, MetricGroup group, std::size_t item) {
  switch (group) {
    case MetricGroup::Workers:
      return s.workers.at(item).name;
    case MetricGroup::Servers:
      return s.source_health.servers.at(item).url;
    case MetricGroup::Outputs:
      return std::to_string(item + 1);
    case MetricGroup::None:
      break;
  }
  return {};
}

std::string_view group_label(MetricGroup group) {
  switch (group) {
    case MetricGroup::Workers:
      return "worker";
    case MetricGroup::Servers:
      return "server";
    case MetricGroup::Outputs:
      return "output";
    case MetricGroup::None:
      break;
  }
  return {};
}

std::string prometheus_name(const MetricRow& row) {
  const auto [group, field] = split_group(row.path);
  std::string name = replace_all(std::string(group), '.', '_');
  if (!field.empty()) name += "_" + std::string(field);
  name = spell_units(name);
  if (row.kind == MetricKind::Counter) name += "_total";
  if (row.kind == MetricKind::Info) name += "_info";
  return "dreamwindow_" + name;
}

std::string json_pointer(const MetricRow& row, std::size_t item) {
  const auto [group, field] = split_group(row.path);
  std::string pointer = "/" + replace_all(std::string(group), '.', '/');
  if (row.group != MetricGroup::None) pointer += fmt::format("/{}/{}", item, field);
  return pointer;
}

std::string overlay_label(const MetricRow& row, const StatusSnapshot& s, std::size_t item) {
  if (row.group == MetricGroup::None) return std::string(row.path);
  const auto [group, field] = split_group(row.path);
  return fmt::format("{}[{}].{}", group, group_key(s, row.group, item), field);
}

}  // namespace dw::pipeline
