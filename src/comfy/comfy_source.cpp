#include "comfy/comfy_source.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <set>
#include <thread>

#include "comfy/http.h"
#include "comfy/json_limits.h"
#include "comfy/png_codec.h"
#include "comfy/protocol.h"
#include "comfy/websocket.h"
#include "core/numeric.h"
#include "core/text.h"

namespace dw::comfy {

using nlohmann::json;
using pipeline::Keyframe;
using pipeline::KeyframeRequest;
using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

struct ComfyKeyframeSource::Job {
  KeyframeRequest request;
  int attempts = 0;
  Clock::time_point not_before{};
  bool cancelled = false;  // guarded by jobs_mutex_
};

// One prompt we queued, as the WebSocket and /history report it (guarded by Server::mutex).
struct ComfyKeyframeSource::Tracked {
  bool done = false;  // `executing` node=null, or /history has the entry
  bool lost = false;  // the WebSocket dropped while the prompt was out
  std::optional<std::string> error;
  std::vector<std::pair<std::string, std::string>> frames;  // (node id, whole binary message)
  json history;  // the /history entry when completion was seen there
};

struct ComfyKeyframeSource::Server {
  std::string url;
  std::string client_id = new_uuid();
  std::atomic<bool> healthy{false};
  std::atomic<bool> validated{false};
  std::atomic<bool> reconnect{false};
  std::mutex mutex;
  std::condition_variable_any cv;
  std::map<std::string, std::shared_ptr<Tracked>> tracked;  // by prompt id
  std::set<std::string> left_behind;  // queued by lanes that were stopped mid-request
  std::string ws_prompt, ws_node;     // the node executing now (supervisor thread only)
  ComfyServerStats stats;             // guarded by the source's stats_mutex_
  std::string last_logged;            // supervisor thread only
  std::jthread supervisor;
  std::vector<std::jthread> lanes;
};

namespace {

// The server's text as printable UTF-8 of at most `n` bytes (escapes, no broken characters).
std::string clip(std::string_view s, std::size_t n = 200) {
  return printable_text(s, n);
}

// Any status but 2xx: the server's words, for the log and the status.
[[noreturn]] void throw_status(const std::string& what, const HttpResponse& r) {
  throw ServerError(fmt::format("{} answered HTTP {}: {}", what, r.status, clip(r.body, 160)),
                    false);
}

// Sleeps for `d` or until stop is requested.
void pause_for(std::stop_token stop, Clock::duration d) {
  std::mutex m;
  std::condition_variable_any cv;
  std::unique_lock lock(m);
  cv.wait_for(lock, stop, d, [] { return false; });
}

std::string history_error(const json& entry) {
  if (!entry.contains("status") || !entry["status"].is_object()) return {};
  const json& st = entry["status"];
  if (st.value("status_str", "") != "error") return {};
  if (st.contains("messages") && st["messages"].is_array())
    for (const auto& m : st["messages"])
      if (m.is_array() && m.size() == 2 && m[1].is_object()) {
        if (m[0] == "execution_error") return describe_execution_error(m[1]);
        if (m[0] == "execution_interrupted") return describe_interrupted(m[1]);
      }
  return "ComfyUI reported an error for the prompt";
}

// Deletes our prompts from the server's queue and interrupts the running one if it is ours
// (an older server ignores the prompt id of /interrupt and would stop anyone's). Best effort.
void remove_prompts(HttpClient& http, const std::string& url, const std::vector<std::string>& ids) {
  try {
    http.post_json(url + "/queue", json{{"delete", ids}}.dump());
    const HttpResponse q = http.get(url + "/queue");
    const auto queue = parse_limited_json(q.body, kDocumentLimits);
    if (!q.ok() || !queue || !queue->is_object() || !queue->contains("queue_running")) return;
    for (const auto& item : (*queue)["queue_running"])
      if (item.is_array() && item.size() > 1 && item[1].is_string() &&
          std::find(ids.begin(), ids.end(), item[1].get<std::string>()) != ids.end())
        http.post_json(url + "/interrupt", json{{"prompt_id", item[1]}}.dump());
  } catch (const std::exception& e) {
    spdlog::debug("comfy: removing {} prompt(s) from {}: {}", ids.size(), url, e.what());
  }
}

}  // namespace

WorkflowValues workflow_values_from(const ComfyConfig& c) {
  WorkflowValues v;
  v.checkpoint = c.checkpoint;
  v.steps = c.steps;
  v.cfg = c.cfg;
  v.denoise = c.denoise;
  v.sampler = c.sampler;
  v.scheduler = c.scheduler;
  v.width = keyframe_dimension(c.width);
  v.height = keyframe_dimension(c.height);
  return v;
}

ComfySourceOptions options_from_config(const ComfyConfig& c) {
  ComfySourceOptions o;
  for (const auto& url : c.urls) o.urls.push_back(normalise_base_url(url));
  o.workflow = c.workflow;
  o.bindings = c.bindings;
  o.defaults = workflow_values_from(c);
  o.in_flight = std::max(1, c.in_flight);
  o.request_timeout_s = c.request_timeout_s;
  o.connect_timeout_s = c.connect_timeout_s;
  o.retry_max_s = c.retry_max_s;
  return o;
}

ComfyKeyframeSource::ComfyKeyframeSource(ComfySourceOptions options)
    : options_(std::move(options)),
      workflow_(Workflow::load(options_.workflow, options_.bindings)),
      capacity_(static_cast<std::size_t>(std::max(1, options_.in_flight)) *
                    std::max<std::size_t>(1, options_.urls.size()) +
                2),
      results_(capacity_) {
  if (options_.urls.empty()) throw InputError("comfy.urls: no ComfyUI server address given");
  for (const auto& url : options_.urls) {
    auto s = std::make_unique<Server>();
    s->url = normalise_base_url(url);
    s->stats.url = s->url;
    servers_.push_back(std::move(s));
  }
  stats_.servers.resize(servers_.size());
  spdlog::info("comfy: workflow '{}' (keyframe from node {} {}), {} server(s), {} in flight each",
               workflow_.what(), workflow_.image_output().id, workflow_.image_output().class_type,
               servers_.size(), options_.in_flight);
  for (auto& s : servers_) {
    Server& server = *s;
    server.supervisor =
        std::jthread([this, &server](std::stop_token st) { supervise(server, st); });
    for (int lane = 0; lane < options_.in_flight; ++lane)
      server.lanes.emplace_back(
          [this, &server, lane](std::stop_token st) { run_lane(server, lane, st); });
  }
}

ComfyKeyframeSource::~ComfyKeyframeSource() {
  stop();
}

std::string ComfyKeyframeSource::name() const {
  std::vector<std::string> urls;
  for (const auto& s : servers_) urls.push_back(s->url);
  return fmt::format("comfy {}", fmt::join(urls, " "));
}

std::size_t ComfyKeyframeSource::capacity() const {
  const auto up = std::count_if(servers_.begin(), servers_.end(),
                                [](const auto& s) { return s->healthy.load(); });
  return static_cast<std::size_t>(std::max(1, options_.in_flight)) *
         std::max<std::size_t>(1, static_cast<std::size_t>(up));
}

bool ComfyKeyframeSource::healthy() const {
  return std::any_of(servers_.begin(), servers_.end(),
                     [](const auto& s) { return s->healthy.load(); });
}

bool ComfyKeyframeSource::submit(KeyframeRequest request) {
  std::lock_guard lock(jobs_mutex_);
  if (stopped_ || live_.size() >= capacity_ || live_.count(request.index)) return false;
  auto job = std::make_shared<Job>();
  job->request = std::move(request);
  const std::uint64_t index = job->request.index;
  live_[index] = job;
  enqueue_locked(std::move(job));
  ++pending_;
  return true;
}

void ComfyKeyframeSource::enqueue_locked(std::shared_ptr<Job> job) {
  const auto at =
      std::upper_bound(queue_.begin(), queue_.end(), job->request.index,
                       [](std::uint64_t k, const auto& j) { return k < j->request.index; });
  queue_.insert(at, std::move(job));
  jobs_cv_.notify_all();
}

std::optional<Keyframe> ComfyKeyframeSource::next(std::stop_token stop, milliseconds timeout) {
  auto k = results_.pop(stop, timeout);
  if (k) --pending_;
  return k;
}

void ComfyKeyframeSource::cancel(std::uint64_t index) {
  std::lock_guard lock(jobs_mutex_);
  const auto it = live_.find(index);
  if (it == live_.end()) return;
  it->second->cancelled = true;  // a lane running it drops the result
  std::erase_if(queue_, [&](const auto& j) { return j->request.index == index; });
  live_.erase(it);
  --pending_;
}

std::shared_ptr<ComfyKeyframeSource::Job> ComfyKeyframeSource::take_job(std::stop_token stop,
                                                                        milliseconds max_wait) {
  const auto until = Clock::now() + max_wait;
  std::unique_lock lock(jobs_mutex_);
  for (;;) {
    const auto now = Clock::now();
    auto wake = until;
    for (auto it = queue_.begin(); it != queue_.end(); ++it) {  // the lowest index that is due
      if ((*it)->not_before <= now) {
        auto job = std::move(*it);
        queue_.erase(it);
        return job;
      }
      wake = std::min(wake, (*it)->not_before);
    }
    if (now >= until || stop.stop_requested()) return nullptr;
    jobs_cv_.wait_until(lock, stop, wake, [] { return false; });
    if (stop.stop_requested()) return nullptr;
  }
}

milliseconds ComfyKeyframeSource::backoff(int attempt) {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  const double base = options_.retry_base_s * std::pow(2.0, std::min(attempt - 1, 30));
  const double capped = std::min(base, options_.retry_max_s);
  // Jitter: a wait in [capped/2, capped], so clients of a restarted server do not return together.
  const double s = capped * std::uniform_real_distribution<double>(0.5, 1.0)(rng);
  return milliseconds(static_cast<long long>(s * 1000.0));
}

void ComfyKeyframeSource::retry_later(std::shared_ptr<Job> job) {
  std::lock_guard lock(jobs_mutex_);
  if (job->cancelled) return;
  ++job->attempts;
  job->not_before = Clock::now() + backoff(job->attempts);
  enqueue_locked(std::move(job));
}

void ComfyKeyframeSource::deliver(std::shared_ptr<Job> job, Keyframe keyframe,
                                  std::stop_token stop) {
  {
    std::lock_guard lock(jobs_mutex_);
    if (job->cancelled) return;
    live_.erase(job->request.index);
  }
  // Fails only when stopping: the keyframe then goes nowhere, like the source itself.
  results_.push(std::move(keyframe), WhenFull::Block, stop);
}

void ComfyKeyframeSource::record_error(Server& server, const std::string& message,
                                       std::uint64_t ComfyStats::*counter) {
  std::lock_guard lock(stats_mutex_);
  ++(stats_.*counter);
  stats_.last_error = message;
  ++server.stats.errors;
  server.stats.last_error = message;
}

void ComfyKeyframeSource::set_healthy(Server& server, bool healthy, bool quiet) {
  if (server.healthy.exchange(healthy) == healthy) return;
  if (healthy)
    spdlog::info("comfy: {} is up", server.url);
  else if (!quiet)
    spdlog::warn("comfy: {} is unavailable; its requests go to other servers or wait", server.url);
  server.cv.notify_all();
}

// ---- the supervisor: health, validation, the WebSocket -----------------------------------------

void ComfyKeyframeSource::supervise(Server& s, std::stop_token stop) {
  HttpClient http({options_.connect_timeout_s, std::max(options_.connect_timeout_s, 10.0),
                   options_.max_message_bytes});
  http.set_stop_token(stop);
  int failures = 0;
  const auto mark_all_lost = [&s] {
    std::lock_guard lock(s.mutex);
    for (auto& [id, t] : s.tracked) t->lost = true;
    s.ws_prompt.clear();
    s.cv.notify_all();
  };
  while (!stop.stop_requested()) {
    std::string problem;
    try {
      const HttpResponse r = http.get(s.url + "/system_stats");
      if (!r.ok()) throw_status(s.url + "/system_stats", r);
      if (!s.validated) {
        json info = json::object();
        for (const std::string& cls : workflow_.classes()) {
          const HttpResponse ri = http.get(s.url + "/object_info/" + url_escape(cls));
          if (ri.status == 404) continue;  // reported as "not installed" below
          if (!ri.ok()) throw_status(s.url + "/object_info/" + cls, ri);
          json one = parse_server_json(ri.body, s.url + "/object_info/" + cls, kDocumentLimits);
          if (one.is_object()) info.update(one);
        }
        WorkflowValues sample = current_values();
        sample.positive = sample.negative = "probe";
        const auto problems = workflow_.check(info, sample);
        if (!problems.empty())
          throw ServerError(fmt::format("workflow '{}' does not fit the server {}: {}",
                                        workflow_.what(), s.url, fmt::join(problems, "; ")),
                            true);
        s.validated = true;
      }
      WebSocket ws(s.url, "/ws?clientId=" + s.client_id, options_.connect_timeout_s,
                   options_.max_message_bytes, stop);
      s.reconnect = false;
      failures = 0;
      s.last_logged.clear();
      set_healthy(s, true);
      while (!stop.stop_requested() && !s.reconnect) {
        if (auto m = ws.receive(milliseconds(200))) on_message(s, *m);
      }
      if (stop.stop_requested()) break;
      problem = "reconnecting the WebSocket";
    } catch (const Cancelled&) {
      break;
    } catch (const ServerError& e) {
      problem = e.what();
      record_error(s, problem, &ComfyStats::server_errors);
    } catch (const std::exception& e) {
      problem = e.what();
      record_error(s, problem, &ComfyStats::transport_errors);
    }
    set_healthy(s, false);
    mark_all_lost();
    if (problem != s.last_logged) {
      spdlog::warn("comfy: {}", problem);
      s.last_logged = problem;
    }
    ++failures;
    pause_for(stop, backoff(failures));
  }
  set_healthy(s, false, /*quiet=*/true);
  mark_all_lost();
}

void ComfyKeyframeSource::on_message(Server& s, WsMessage& m) {
  if (m.binary) {
    if (!binary_frame_image(m.payload)) return;
    std::lock_guard lock(s.mutex);
    const auto it = s.tracked.find(s.ws_prompt);
    if (it != s.tracked.end())
      keep_frame(it->second->frames, s.ws_node, std::move(m.payload), options_.max_message_bytes);
    return;
  }
  std::string why;
  const auto parsed = parse_limited_json(m.payload, kWsMessageLimits, &why);
  if (!parsed) throw TransportError(fmt::format("{}/ws: a message {}", s.url, why));
  const json& j = *parsed;
  if (!j.is_object() || !j.contains("type") || !j.contains("data") || !j["data"].is_object())
    return;
  const std::string type = j["type"].is_string() ? j["type"].get<std::string>() : "";
  const json& data = j["data"];
  const std::string pid = data.contains("prompt_id") && data["prompt_id"].is_string()
                              ? data["prompt_id"].get<std::string>()
                              : "";
  std::lock_guard lock(s.mutex);
  const auto it = s.tracked.find(pid);
  Tracked* t = it == s.tracked.end() ? nullptr : it->second.get();
  if (type == "executing") {
    const json& node = data.contains("node") ? data["node"] : json();
    if (node.is_null()) {
      if (t) t->done = true;
      if (pid == s.ws_prompt) s.ws_prompt.clear();
      s.cv.notify_all();
    } else {
      s.ws_prompt = pid;
      s.ws_node = node.is_string() ? node.get<std::string>() : node.dump();
    }
  } else if (type == "progress" && t) {
    std::lock_guard stats_lock(stats_mutex_);
    stats_.progress_value = data.value("value", 0);
    stats_.progress_max = data.value("max", 0);
  } else if (type == "execution_error" && t) {
    t->error = describe_execution_error(data);
  } else if (type == "execution_interrupted" && t) {
    t->error = describe_interrupted(data);
  }
}

// ---- the lanes: one request at a time each ------------------------------------------------

void ComfyKeyframeSource::run_lane(Server& s, int lane, std::stop_token stop) {
  HttpClient http({options_.connect_timeout_s, options_.request_timeout_s,
                   std::max(options_.image_limits.max_bytes, std::size_t{1} << 20)});
  http.set_stop_token(stop);
  // One input file per lane, overwritten by each upload: nothing piles up on the server.
  const std::string upload_name =
      fmt::format("dreamwindow-{}-{}.png", s.client_id.substr(0, 8), lane);
  while (!stop.stop_requested()) {
    if (!s.healthy) {
      std::unique_lock lock(s.mutex);
      s.cv.wait_for(lock, stop, milliseconds(250), [&s] { return s.healthy.load(); });
      continue;
    }
    auto job = take_job(stop, milliseconds(250));
    if (!job) continue;
    try {
      Keyframe k = run_job(s, http, upload_name, *job, stop);
      {
        std::lock_guard lock(stats_mutex_);
        ++stats_.keyframes;
        ++s.stats.keyframes;
      }
      deliver(std::move(job), std::move(k), stop);
      continue;
    } catch (const Cancelled&) {
      break;
    } catch (const ServerError& e) {
      const std::string what = fmt::format("keyframe {}: {}", job->request.index, e.what());
      spdlog::error("comfy: {}", what);
      record_error(s, what, &ComfyStats::server_errors);
      if (e.workflow_invalid()) {  // revalidate before the next prompt goes to this server
        s.validated = false;
        s.reconnect = true;
        set_healthy(s, false);
      }
    } catch (const TransportError& e) {
      const std::string what = fmt::format("keyframe {}: {}", job->request.index, e.what());
      spdlog::warn("comfy: {}", what);
      record_error(s, what, &ComfyStats::transport_errors);
      s.reconnect = true;
      set_healthy(s, false);
    } catch (const std::exception& e) {  // a malformed or oversized answer
      const std::string what = fmt::format("keyframe {}: {}", job->request.index, e.what());
      spdlog::error("comfy: {}", what);
      record_error(s, what, &ComfyStats::server_errors);
    }
    {
      std::lock_guard lock(stats_mutex_);
      ++stats_.failed_attempts;
    }
    retry_later(std::move(job));
  }
}

Keyframe ComfyKeyframeSource::run_job(Server& s, HttpClient& http, const std::string& upload_name,
                                      const Job& job, std::stop_token stop) {
  const KeyframeRequest& req = job.request;
  std::uint64_t sent = 0, received = 0;

  // 1. The input image, under this lane's name; the server's answer names the file to use.
  // A keyframe fed back goes as the bytes it arrived as; anything else is encoded.
  std::shared_ptr<const std::string> held;
  std::string encoded;
  std::string_view upload = recent_png(req.input, held).value_or(std::string_view());
  if (upload.empty()) {
    encoded = encode_upload_png(req.input);
    upload = encoded;
  }
  sent += upload.size();
  HttpResponse r =
      http.post_form(s.url + "/upload/image", {{"image", upload, upload_name, "image/png"},
                                               {"overwrite", "true", "", ""},
                                               {"type", "input", "", ""},
                                               {"subfolder", "", "", ""}});
  if (!r.ok()) throw_status(s.url + "/upload/image", r);
  const json up = parse_server_json(r.body, s.url + "/upload/image");
  const std::string name = up.value("name", ""), sub = up.value("subfolder", "");
  if (!is_safe_name(name) || !is_safe_subfolder(sub))
    throw ServerError(fmt::format("{}/upload/image answered an unsafe file name '{}' in '{}'",
                                  s.url, clip(name, 80), clip(sub, 80)),
                      false);

  // 2. The prompt, under our own id, registered before it can start.
  WorkflowValues v = current_values();
  v.image = sub.empty() ? name : sub + "/" + name;
  v.positive = req.prompt.positive;
  v.negative = req.prompt.negative;
  v.seed = req.seed;
  const std::string pid = new_uuid();
  const std::string body =
      json{{"prompt", workflow_.fill(v)}, {"client_id", s.client_id}, {"prompt_id", pid}}.dump();
  sent += body.size();
  auto tracked = std::make_shared<Tracked>();
  {
    std::lock_guard lock(s.mutex);
    s.tracked[pid] = tracked;
  }
  struct Untrack {
    Server& s;
    const std::string& pid;
    std::stop_token stop;
    ~Untrack() {
      std::lock_guard lock(s.mutex);
      s.tracked.erase(pid);
      if (stop.stop_requested()) s.left_behind.insert(pid);  // stop() removes it from the server
    }
  } untrack{s, pid, stop};
  const auto deadline =
      Clock::now() + milliseconds(static_cast<long long>(options_.request_timeout_s * 1000));
  r = http.post_json(s.url + "/prompt", body);
  if (r.status == 400) throw ServerError(describe_prompt_answer(r.body), true);
  if (!r.ok()) throw_status(s.url + "/prompt", r);

  const auto abandon = [&] { remove_prompts(http, s.url, {pid}); };
  const auto fetch_history = [&]() -> json {
    const HttpResponse h = http.get(s.url + "/history/" + pid);
    if (!h.ok()) throw_status(s.url + "/history", h);
    json j = parse_server_json(h.body, s.url + "/history", kDocumentLimits);
    return j.contains(pid) ? j[pid] : json();
  };

  // 3. Completion: `executing` node=null on the WebSocket; /history polled as the fallback
  // when the socket is quiet or gone (it can stall while HTTP still works).
  const auto poll_every =
      std::clamp(milliseconds(static_cast<long long>(options_.request_timeout_s * 125)),
                 milliseconds(250), milliseconds(2000));
  auto next_poll = Clock::now() + poll_every;
  bool lost_checked = false;
  std::optional<Clock::time_point> history_first_seen;
  for (;;) {
    bool lost = false;
    {
      std::unique_lock lock(s.mutex);
      s.cv.wait_until(lock, stop, std::min(next_poll, deadline),
                      [&] { return tracked->done || (tracked->lost && !lost_checked); });
      if (stop.stop_requested()) throw Cancelled("stopping");
      if (tracked->done) break;
      lost = tracked->lost;
    }
    const auto now = Clock::now();
    if (now >= deadline) {
      abandon();
      std::lock_guard lock(stats_mutex_);
      ++stats_.timeouts;
      throw ServerError(fmt::format("{}: no result within {:.0f} s (comfy.request_timeout_s)",
                                    s.url, options_.request_timeout_s),
                        false);
    }
    if (!lost && now < next_poll) continue;
    next_poll = now + poll_every;
    json entry = fetch_history();
    if (!entry.is_null()) {
      // Finished by /history. The WebSocket's messages may still be on their way: give them one
      // poll interval before calling the socket stalled.
      if (!lost && !history_first_seen) {
        history_first_seen = now;
        continue;
      }
      std::lock_guard lock(s.mutex);
      if (!tracked->done) {
        tracked->done = true;
        tracked->history = std::move(entry);
        if (!lost) s.reconnect = true;  // a stalled socket: reconnect it
      }
      break;
    }
    if (lost && !lost_checked) {
      lost_checked = true;
      const HttpResponse q = http.get(s.url + "/queue");
      if (q.ok() && q.body.find(pid) == std::string::npos && fetch_history().is_null()) {
        std::lock_guard lock(stats_mutex_);
        ++stats_.lost;
        throw TransportError(
            fmt::format("{}: prompt {} is gone from the server (restarted?)", s.url, pid));
      }
    }
  }

  // 4. The outputs.
  json history;
  std::vector<std::pair<std::string, std::string>> frames;
  std::optional<std::string> error;
  bool socket_dropped = false;
  {
    std::lock_guard lock(s.mutex);
    socket_dropped = tracked->lost;
    history = std::move(tracked->history);
    frames = std::move(tracked->frames);
    error = tracked->error;
  }
  if (!error && !history.is_null()) {
    const std::string e = history_error(history);
    if (!e.empty()) error = e;
  }
  if (error) throw ServerError(*error, false);
  const std::string what = fmt::format("keyframe {} from {}", req.index, s.url);
  const OutputNode& out = workflow_.image_output();
  const auto view = [&](const json& file) {
    const std::string fname = file.value("filename", ""), fsub = file.value("subfolder", ""),
                      ftype = file.value("type", "output");
    if (!is_safe_name(fname) || !is_safe_subfolder(fsub) ||
        (ftype != "output" && ftype != "temp" && ftype != "input"))
      throw ServerError(fmt::format("{}: the server named an unsafe output '{}' '{}' '{}'", what,
                                    clip(fname, 80), clip(fsub, 80), clip(ftype, 20)),
                        false);
    const HttpResponse f = http.get(fmt::format("{}/view?filename={}&subfolder={}&type={}", s.url,
                                                url_escape(fname), url_escape(fsub), ftype));
    if (!f.ok()) throw_status(s.url + "/view", f);
    received += f.body.size();
    return f.body;
  };
  const auto output_files = [&](const OutputNode& node, const char* key) -> json {
    if (history.is_null()) history = fetch_history();
    const json outputs =
        history.is_object() ? history.value("outputs", json::object()) : json::object();
    if (!outputs.contains(node.id) || !outputs[node.id].contains(key) ||
        !outputs[node.id][key].is_array() || outputs[node.id][key].empty())
      throw ServerError(
          fmt::format("{}: node {} ({}) produced no {}", what, node.id, node.class_type, key),
          false);
    return outputs[node.id][key];
  };

  Keyframe k;
  k.index = req.index;
  k.origin = "comfy " + s.url;
  if (out.kind == OutputKind::WebSocketImage) {
    const auto frame = std::find_if(frames.rbegin(), frames.rend(),
                                    [&](const auto& f) { return f.first == out.id; });
    if (frame == frames.rend()) {
      // Sent while the socket was down (it has reconnected since), or the socket is stalled
      // (then it reconnects now). Either way the keyframe is requested again.
      if (!socket_dropped) s.reconnect = true;
      std::lock_guard lock(stats_mutex_);
      ++stats_.lost;
      throw ServerError(fmt::format("{}: the image of node {} ({}) never arrived on the "
                                    "WebSocket",
                                    what, out.id, out.class_type),
                        false);
    }
    received += frame->second.size();
    const std::string_view png = *binary_frame_image(frame->second);
    k.image = decode_keyframe_image({reinterpret_cast<const std::uint8_t*>(png.data()), png.size()},
                                    what, options_.image_limits);
    if (k.image.width == v.width && k.image.height == v.height)
      remember_png(k.image, std::make_shared<const std::string>(std::move(frame->second)), 8);
  } else {
    auto bytes = std::make_shared<const std::string>(view(output_files(out, "images").back()));
    k.image =
        decode_keyframe_image({reinterpret_cast<const std::uint8_t*>(bytes->data()), bytes->size()},
                              what, options_.image_limits);
    if (k.image.width == v.width && k.image.height == v.height)
      remember_png(k.image, std::move(bytes), 0);
  }
  if (const OutputNode* latent = workflow_.latent_output()) {
    const std::string bytes = view(output_files(*latent, "latents").back());
    k.latent = latent_from_safetensors(
        {reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size()}, what + " (latent)");
  }
  if (k.image.width != v.width || k.image.height != v.height)
    k.image = resize_cover(k.image, v.width, v.height);
  std::lock_guard lock(stats_mutex_);
  stats_.bytes_sent += sent;
  stats_.bytes_received += received;
  return k;
}

std::optional<std::string_view> ComfyKeyframeSource::recent_png(
    const Image& image, std::shared_ptr<const std::string>& hold) {
  std::lock_guard lock(png_mutex_);
  for (auto it = recent_pngs_.rbegin(); it != recent_pngs_.rend(); ++it) {
    if (it->image.width != image.width || it->image.height != image.height ||
        it->image.rgba != image.rgba)
      continue;
    hold = it->bytes;
    const std::string_view bytes = std::string_view(*hold).substr(it->offset);
    std::lock_guard stats_lock(stats_mutex_);
    ++stats_.uploads_reused;
    return bytes;
  }
  return std::nullopt;
}

void ComfyKeyframeSource::remember_png(const Image& image, std::shared_ptr<const std::string> bytes,
                                       std::size_t offset) {
  // PNG is lossless: the server decodes these bytes to exactly the pixels we compare against.
  // JPEG previews are not kept (another decoder may round differently).
  if (bytes->compare(offset, 4, "\x89PNG") != 0) return;
  constexpr std::size_t kKeep = 8;
  std::lock_guard lock(png_mutex_);
  recent_pngs_.push_back(RecentPng{image, std::move(bytes), offset});
  while (recent_pngs_.size() > std::min(kKeep, capacity_)) recent_pngs_.pop_front();
}

// ---- status and shutdown --------------------------------------------------------------------

ComfyStats ComfyKeyframeSource::stats() const {
  std::lock_guard lock(stats_mutex_);
  ComfyStats out = stats_;
  out.servers.clear();
  for (const auto& s : servers_) {
    out.servers.push_back(s->stats);
    out.servers.back().healthy = s->healthy;
  }
  return out;
}

WorkflowValues ComfyKeyframeSource::current_values() const {
  if (!options_.live_values) return options_.defaults;
  WorkflowValues v = options_.live_values();
  // The size is fixed for the run (the frame ring and the VAE plans are sized by it).
  v.width = options_.defaults.width;
  v.height = options_.defaults.height;
  return v;
}

pipeline::SourceHealth ComfyKeyframeSource::health() const {
  const ComfyStats s = stats();
  pipeline::SourceHealth h;
  h.errors = s.transport_errors + s.server_errors;
  h.last_error = s.last_error;
  h.counters = {{"keyframes", double(s.keyframes)},
                {"failed_attempts", double(s.failed_attempts)},
                {"transport_errors", double(s.transport_errors)},
                {"server_errors", double(s.server_errors)},
                {"timeouts", double(s.timeouts)},
                {"lost", double(s.lost)},
                {"uploads_reused", double(s.uploads_reused)},
                {"bytes_sent", double(s.bytes_sent)},
                {"bytes_received", double(s.bytes_received)},
                {"progress_value", double(s.progress_value)},
                {"progress_max", double(s.progress_max)}};
  h.servers = s.servers;
  return h;
}

void ComfyKeyframeSource::clean_up_server(Server& s) {
  std::vector<std::string> ours;
  {
    std::lock_guard lock(s.mutex);
    ours.assign(s.left_behind.begin(), s.left_behind.end());
    s.left_behind.clear();
  }
  if (ours.empty()) return;
  HttpClient http(
      {options_.connect_timeout_s, std::min(2.0, options_.request_timeout_s), 1u << 20});
  remove_prompts(http, s.url, ours);
  spdlog::info("comfy: removed {} prompt(s) of ours from {}", ours.size(), s.url);
}

void ComfyKeyframeSource::stop() {
  {
    std::lock_guard lock(jobs_mutex_);
    if (stopped_) return;
    stopped_ = true;
  }
  for (auto& s : servers_) {
    s->supervisor.request_stop();
    for (auto& lane : s->lanes) lane.request_stop();
  }
  // Join first: what the stopped lanes left behind is then known and final.
  for (auto& s : servers_) {
    for (auto& lane : s->lanes)
      if (lane.joinable()) lane.join();
    if (s->supervisor.joinable()) s->supervisor.join();
  }
  for (auto& s : servers_) clean_up_server(*s);
}

}  // namespace dw::comfy
