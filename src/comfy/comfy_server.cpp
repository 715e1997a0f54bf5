#include "comfy/comfy_server.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>

#include "comfy/http.h"
#include "comfy/job_queue.h"
#include "comfy/json_limits.h"
#include "comfy/protocol.h"
#include "comfy/websocket.h"
#include "core/stop_sleep.h"
#include "core/text.h"

namespace dw::comfy {

using nlohmann::json;
using std::chrono::milliseconds;

namespace {

std::string text_of(const json& j) {
  return j.is_string() ? j.get<std::string>() : (j.is_null() ? "" : j.dump());
}

}  // namespace

void StatsBoard::add(std::uint64_t ComfyStats::*counter, std::uint64_t n) {
  std::lock_guard lock(mutex);
  stats.*counter += n;
}

void StatsBoard::set_error(const std::string& message, std::uint64_t ComfyStats::*counter) {
  std::lock_guard lock(mutex);
  ++(stats.*counter);
  stats.last_error = message;
}

std::vector<QueuePlace> queue_places(HttpClient& http, const std::string& url,
                                     const std::vector<std::string>& ids) {
  const std::string what = url + "/queue";
  QueueScan scan(ids);
  const HttpResponse q = http.get_streamed(
      what, [&](std::string_view piece) { scan.feed(piece); }, http.options().max_response_bytes);
  if (!q.ok())
    throw ServerError(
        fmt::format("{} answered HTTP {}: {}", what, q.status, printable_text(q.body, 160)), false);
  std::vector<QueuePlace> places;
  for (std::size_t i = 0; i < ids.size(); ++i)
    places.push_back(q.truncated ? scan.place(i, what) : queue_place(q.body, ids[i], what));
  return places;
}

bool remove_prompts(HttpClient& http, const std::string& url, const std::vector<std::string>& ids) {
  try {
    if (!http.post_json(url + "/queue", json{{"delete", ids}}.dump()).ok()) return false;
    const std::vector<QueuePlace> places = queue_places(http, url, ids);
    for (std::size_t i = 0; i < ids.size(); ++i)
      if (places[i] == QueuePlace::Running)
        http.post_json(url + "/interrupt", json{{"prompt_id", ids[i]}}.dump());
    return true;
  } catch (const std::exception& e) {
    spdlog::debug("comfy: removing {} prompt(s) from {}: {}", ids.size(), url, e.what());
    return false;
  }
}

ComfyServer::ComfyServer(std::string url_in, SourceContext context)
    : url(std::move(url_in)), client_id(new_uuid()), ctx_(std::move(context)) {
  line_.url = url;
  for (const auto& cls : ctx_.workflow.classes())
    has_sampler_ = has_sampler_ || cls.find("Sampler") != std::string::npos;
}

ComfyServer::~ComfyServer() {
  request_stop();
  join();
}

void ComfyServer::start() {
  supervisor_ = std::jthread([this](std::stop_token st) { supervise(st); });
}

void ComfyServer::request_stop() {
  supervisor_.request_stop();
}

void ComfyServer::join() {
  if (supervisor_.joinable()) supervisor_.join();
}

// ---- health --------------------------------------------------------------------------------

milliseconds ComfyServer::stall_limit() const {
  const double s = ctx_.options.stall_timeout_s * (delivered_since_up_ ? 1.0 : 2.0);
  return milliseconds(static_cast<long long>(s * 1000.0));
}

bool ComfyServer::usable() const {
  // While the socket is being replaced, a prompt's messages (its image) would go nowhere.
  if (!healthy_ || reconnect_) return false;
  std::lock_guard lock(mutex);
  return !degraded_locked();
}

bool ComfyServer::degraded_locked() const {
  if (tracked_.empty()) return false;
  // A slow server whose prompt reports progress is working, not stalled: judged by its newest
  // sign of life as a running prompt is (prompt_run.cpp), or auto would fail over and interrupt
  // every prompt of a server slower than the stall timeout, and never show its pictures.
  Clock::time_point alive = last_delivery_;
  for (const auto& [id, t] : tracked_) alive = std::max(alive, t->last_life);
  return Clock::now() - alive > stall_limit();
}

void ComfyServer::delivered() {
  std::lock_guard lock(mutex);
  ++line_.keyframes;
  line_.last_error.clear();  // delivering again: the old error no longer describes it
  delivered_since_up_ = true;
  last_delivery_ = Clock::now();
}

std::shared_ptr<Tracked> ComfyServer::track(const std::string& prompt_id) {
  auto t = std::make_shared<Tracked>();
  t->sent = Clock::now();
  std::lock_guard lock(mutex);
  // The delivery clock runs only while ours wait: an idle server is not late.
  if (tracked_.empty()) last_delivery_ = std::max(last_delivery_, Clock::now());
  tracked_[prompt_id] = t;
  return t;
}

void ComfyServer::mark_posted(Tracked& t) {
  std::lock_guard lock(mutex);
  t.posted = true;
  Clock::rep none = 0;  // the oldest one the socket has not heard of yet is the one to go by
  unheard_post_.compare_exchange_strong(none, t.sent.time_since_epoch().count());
}

void ComfyServer::untrack(const std::string& prompt_id, bool left_behind) {
  std::lock_guard lock(mutex);
  tracked_.erase(prompt_id);
  if (!left_behind) return;
  left_behind_.insert(prompt_id);
  has_left_behind_ = true;
}

void ComfyServer::remove_left_behind(std::stop_token stop, double timeout_s, const char* why) {
  std::vector<std::string> ours;
  {
    std::lock_guard lock(mutex);
    ours.assign(left_behind_.begin(), left_behind_.end());
    left_behind_.clear();
    has_left_behind_ = false;
  }
  if (ours.empty()) return;
  HttpClient http({ctx_.options.connect_timeout_s, timeout_s, 1u << 20});
  http.set_stop_token(stop);
  const bool removed = remove_prompts(http, url, ours);
  if (stop.stop_requested()) {  // cut short: clean_up() tries again after the join
    std::lock_guard lock(mutex);
    left_behind_.insert(ours.begin(), ours.end());
    return;
  }
  if (!removed) {
    // Tried again at the next socket poll, a few times (a server busy for a moment): each of
    // these would cost the server a keyframe's time.
    constexpr int kAttempts = 5;
    std::lock_guard lock(mutex);
    for (const std::string& id : ours)
      if (++removal_attempts_[id] < kAttempts)
        left_behind_.insert(id);
      else
        removal_attempts_.erase(id);  // given up: the server's queue keeps it
    has_left_behind_ = !left_behind_.empty();
    return;
  }
  {
    std::lock_guard lock(mutex);
    for (const std::string& id : ours) removal_attempts_.erase(id);
  }
  spdlog::info("comfy: removed {} prompt(s) of ours from {} ({})", ours.size(), url, why);
}

void ComfyServer::revalidate() {
  validated_ = false;
  reconnect_ = true;
  set_healthy(false);
}

void ComfyServer::set_healthy(bool healthy, bool quiet) {
  if (healthy_.exchange(healthy) == healthy) return;
  if (healthy) {
    std::lock_guard lock(mutex);
    line_.last_error.clear();  // recovered: the old error no longer describes it
    delivered_since_up_ = false;
  }
  if (healthy)
    spdlog::info("comfy: {} is {}", url, was_up_ ? "back" : "up");
  else if (!quiet)
    spdlog::warn("comfy: {} is unavailable; its requests go to other servers or wait", url);
  if (healthy) was_up_ = true;
  cv.notify_all();
}

void ComfyServer::record_error(const std::string& message, std::uint64_t ComfyStats::*counter) {
  ctx_.board.set_error(message, counter);
  std::lock_guard lock(mutex);
  ++line_.errors;
  line_.last_error = message;
}

pipeline::ServerHealth ComfyServer::line() const {
  std::lock_guard lock(mutex);
  pipeline::ServerHealth h = line_;
  h.healthy = healthy_;
  h.degraded = healthy_ && degraded_locked();
  h.queue_remaining = queue_remaining_;
  for (const auto& [id, t] : tracked_)
    if (t->posted) ++(t->started ? h.ours_running : h.ours_waiting);
  return h;
}

std::pair<int, int> ComfyServer::progress() const {
  std::lock_guard lock(mutex);
  return {progress_value_, progress_max_};
}

// ---- the supervisor: reachability, validation, the WebSocket ---------------------------------

void ComfyServer::mark_all_lost() {
  std::lock_guard lock(mutex);
  for (auto& [id, t] : tracked_) t->lost = t->dropped = true;
  ws_prompt_.clear();
  progress_value_ = progress_max_ = 0;
  cv.notify_all();
}

void ComfyServer::validate(HttpClient& http) {
  json info = json::object();
  for (const std::string& cls : ctx_.workflow.classes()) {
    const HttpResponse ri = http.get(url + "/object_info/" + url_escape(cls));
    if (ri.status == 404) continue;  // reported as "not installed" below
    if (!ri.ok())
      throw ServerError(fmt::format("{}/object_info/{} answered HTTP {}", url, cls, ri.status),
                        false);
    json one = parse_server_json(ri.body, url + "/object_info/" + cls, kDocumentLimits);
    if (one.is_object()) info.update(one);
  }
  WorkflowValues sample = ctx_.values();
  sample.positive = sample.negative = "probe";
  std::vector<std::string> warnings;
  const auto problems = ctx_.workflow.check(info, sample, &warnings);
  for (const auto& w : warnings) spdlog::warn("comfy: workflow '{}': {}", ctx_.workflow.what(), w);
  if (!problems.empty())
    throw ServerError(fmt::format("workflow '{}' does not fit the server {}: {}",
                                  ctx_.workflow.what(), url, fmt::join(problems, "; ")),
                      true);
  auto offered = ctx_.workflow.offered(info);
  {
    std::lock_guard lock(mutex);
    offered_ = std::move(offered);
  }
  validated_ = true;
}

std::map<std::string, std::vector<std::string>> ComfyServer::offered() const {
  std::lock_guard lock(mutex);
  return offered_;
}

// Holds the socket until it drops, a lane asks for a reconnect, or stop. A socket that drops is
// reconnected once at once: only when that fails is the server unavailable (its prompts covered).
void ComfyServer::hold_socket(std::stop_token stop) {
  const auto& o = ctx_.options;
  for (int attempt = 0; attempt < 2 && !stop.stop_requested(); ++attempt) {
    WebSocket ws(url, "/ws?clientId=" + client_id, o.connect_timeout_s, o.max_message_bytes, stop);
    if (attempt > 0) mark_all_lost();  // messages may have been missed: lanes check at once
    reconnect_ = false;
    set_healthy(true);
    try {
      // A server that is quiet (idle, or busy sampling with nothing to report) is pinged; one
      // that answers nothing, not even a pong, does not run. Its prompts would otherwise wait for
      // the request timeout one by one while it still counted as healthy, never failed over.
      const auto silence_limit = milliseconds(static_cast<long long>(o.silent_socket_s * 1000));
      const auto ping_after = std::min<milliseconds>(std::chrono::seconds(5), silence_limit / 4);
      auto pinged = Clock::now();
      unheard_post_ = 0;  // a new socket: what the old one did not hear says nothing of it
      while (!stop.stop_requested() && !reconnect_) {
        if (auto m = ws.receive(milliseconds(200))) on_message(*m);
        if (has_left_behind_) remove_left_behind(stop, 2.0, "sent, then given up on");
        const auto now = Clock::now();
        if (orphaned(now)) {  // supervise() connects again; lanes check their prompts at once
          const std::string why = fmt::format(
              "{}: the WebSocket heard nothing of a prompt the server took over {:.0f} s ago "
              "(ComfyUI no longer sends to it); reconnecting",
              url, std::chrono::duration<double>(kUnheardAfterPost).count());
          record_error(why, &ComfyStats::transport_errors);
          spdlog::warn("comfy: {}", why);
          return;
        }
        if (now - ws.heard() > silence_limit)
          throw TransportError(fmt::format(
              "{}: the server answered nothing on its WebSocket for {:.0f} s, pings included: it "
              "does not respond",
              url, std::chrono::duration<double>(now - ws.heard()).count()));
        if (now - ws.heard() > ping_after && now - pinged > ping_after) {
          ws.ping();
          pinged = now;
        }
      }
      return;
    } catch (const TransportError& e) {
      record_error(e.what(), &ComfyStats::transport_errors);
      spdlog::warn("comfy: {}: the WebSocket dropped ({}); reconnecting", url, e.what());
    }
  }
}

// ComfyUI keeps one socket per client id and forgets it when any socket with that id ends: an
// older connection of ours whose end it notices late (after a network outage) takes the current
// one's registration with it. That socket stays open and answers pings, but nothing is sent to it
// again: every prompt would run unseen, and a long one would be interrupted as stalled, retried,
// and interrupted again for good. Each queue change is told to every socket, so a prompt the
// server took that the socket heard nothing of since is the sign; connecting again registers it.
bool ComfyServer::orphaned(Clock::time_point now) {
  Clock::rep posted = unheard_post_.load();
  if (posted == 0) return false;
  if (heard_.load() >= posted) {  // heard of since (or the server spoke after it took ours)
    unheard_post_.compare_exchange_strong(posted, 0);
    return false;
  }
  return now - Clock::time_point(Clock::duration(posted)) > kUnheardAfterPost;
}

void ComfyServer::supervise(std::stop_token stop) {
  const auto& o = ctx_.options;
  HttpClient http({o.connect_timeout_s, std::max(o.connect_timeout_s, 10.0), o.max_message_bytes});
  http.set_stop_token(stop);
  int failures = 0;
  while (!stop.stop_requested()) {
    std::string problem;
    try {
      const HttpResponse r = http.get(url + "/system_stats");
      if (!r.ok())
        throw ServerError(fmt::format("{}/system_stats answered HTTP {}", url, r.status), false);
      if (!validated_) validate(http);
      last_logged_.clear();
      const auto connected = Clock::now();
      hold_socket(stop);
      if (stop.stop_requested()) break;
      // A socket that held for a while was a healthy server that went away: retry at once. One
      // that keeps dropping soon after connecting (a server sending what we refuse) backs off,
      // unhealthy meanwhile, so `auto` covers for it instead of following its flapping.
      if (Clock::now() - connected > std::chrono::seconds(30)) failures = 0;
      problem = "reconnecting the WebSocket";
    } catch (const Cancelled&) {
      break;
    } catch (const ServerError& e) {
      problem = e.what();
      record_error(problem, &ComfyStats::server_errors);
    } catch (const std::exception& e) {
      problem = e.what();
      record_error(problem, &ComfyStats::transport_errors);
    }
    set_healthy(false);
    mark_all_lost();
    if (problem != last_logged_) {
      spdlog::warn("comfy: {}", problem);
      last_logged_ = problem;
    }
    ++failures;
    sleep_unless_stopped(stop, Backoff{o.retry_base_s, o.retry_max_s}.after(failures));
  }
  set_healthy(false, /*quiet=*/true);
  mark_all_lost();
}

void ComfyServer::on_message(WsMessage& m) {
  heard_ = Clock::now().time_since_epoch().count();
  if (m.binary) {
    if (!binary_frame_image(m.payload)) return;
    std::lock_guard lock(mutex);
    const auto it = tracked_.find(ws_prompt_);
    if (it == tracked_.end()) return;
    keep_frame(it->second->frames, ws_node_, std::move(m.payload), ctx_.options.max_message_bytes);
    it->second->last_life = Clock::now();
    return;
  }
  std::string why;
  const auto parsed = parse_limited_json(m.payload, kWsMessageLimits, &why);
  if (!parsed) throw TransportError(fmt::format("{}/ws: a message {}", url, why));
  const json& j = *parsed;
  if (!j.is_object() || !j.contains("type") || !j["type"].is_string() || !j.contains("data") ||
      !j["data"].is_object())
    return;
  on_event(j["type"].get<std::string>(), j["data"]);
}

void ComfyServer::on_event(const std::string& type, const json& data) {
  const std::string pid = data.contains("prompt_id") ? text_of(data["prompt_id"]) : "";
  std::lock_guard lock(mutex);
  if (type == "status") {
    const json& st = data.value("status", json::object());
    if (st.is_object() && st.contains("exec_info") && st["exec_info"].is_object())
      queue_remaining_ = st["exec_info"].value("queue_remaining", queue_remaining_);
    return;
  }
  const auto it = tracked_.find(pid);
  Tracked* t = it == tracked_.end() ? nullptr : it->second.get();
  if (type == "executing") {
    const json& node = data.contains("node") ? data["node"] : json();
    if (node.is_null()) {
      if (t) t->done = true;
      if (pid == ws_prompt_) ws_prompt_.clear();
      if (t) progress_value_ = progress_max_ = 0;
      cv.notify_all();
    } else {
      ws_prompt_ = pid;
      ws_node_ = text_of(node);
      if (t) t->node = ws_node_;
    }
  } else if (type == "progress" && t) {
    const std::string node = data.contains("node") ? text_of(data["node"]) : ws_node_;
    // SaveImageWebsocket's own progress bar must not overwrite the sampler's.
    const bool sampling = has_sampler_ ? ctx_.workflow.is_sampling_node(node)
                                       : node != ctx_.workflow.image_output().id;
    if (sampling) {
      progress_value_ = data.value("value", 0);
      progress_max_ = data.value("max", 0);
    }
  } else if (type == "execution_error" && t) {
    t->error = describe_execution_error(data);
  } else if (type == "execution_interrupted" && t) {
    t->error = describe_interrupted(data);
  }
  if (t && (type == "execution_start" || type == "execution_cached" || type == "executing" ||
            type == "progress" || type == "progress_state" || type == "executed")) {
    t->started = true;  // a sign of life: the stall clock starts again
    t->last_life = Clock::now();
  }
}

void ComfyServer::clean_up() {
  remove_left_behind(std::stop_token{}, 2.0, "left by the stopped lanes");
}

}  // namespace dw::comfy
