#include "comfy/prompt_run.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>

#include "comfy/http.h"
#include "comfy/json_limits.h"
#include "comfy/png_codec.h"
#include "comfy/protocol.h"
#include "core/text.h"

namespace dw::comfy {

using nlohmann::json;
using pipeline::Keyframe;
using std::chrono::milliseconds;

namespace {

// The server's text as printable UTF-8 of at most `n` bytes (escapes, no broken characters).
std::string clip(std::string_view s, std::size_t n = 200) {
  return printable_text(s, n);
}

json parse_json(const std::string& body, const std::string& what,
                const JsonLimits& limits = kAnswerLimits) {
  return parse_server_json(body, what, limits);
}

// Any status but 2xx: the server's words, for the log and the status.
[[noreturn]] void throw_status(const std::string& what, const HttpResponse& r) {
  throw ServerError(fmt::format("{} answered HTTP {}: {}", what, r.status, clip(r.body, 160)),
                    false);
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

// Where the prompt is in the server's queue.
QueuePlace place_in_queue(const PromptRun& r, const std::string& pid) {
  return queue_places(r.http, r.server.url, {pid}).front();
}

json fetch_history(const PromptRun& r, const std::string& pid) {
  const HttpResponse h = r.http.get(r.server.url + "/history/" + pid);
  if (!h.ok()) throw_status(r.server.url + "/history", h);
  json j = parse_json(h.body, r.server.url + "/history", kDocumentLimits);
  return j.is_object() && j.contains(pid) ? j[pid] : json();
}

// Takes our finished prompt out of the server's history (best effort): ComfyUI keeps 10,000
// entries, each with its whole graph, and at a keyframe a second ours would push every other
// user's out of a shared server's history within hours.
void forget_history(const PromptRun& r, const std::string& pid) {
  try {
    const HttpResponse h =
        r.http.post_json(r.server.url + "/history", json{{"delete", {pid}}}.dump());
    if (!h.ok())
      spdlog::debug("comfy: {}/history: deleting {}: HTTP {}", r.server.url, pid, h.status);
  } catch (const std::exception& e) {
    spdlog::debug("comfy: {}/history: deleting {}: {}", r.server.url, pid, e.what());
  }
}

// 1. The input image, under this lane's name; the server's answer names the file to use. A
// keyframe fed back goes as the bytes it arrived as; anything else is encoded.
std::string upload_input(const PromptRun& r, const Image& input, std::uint64_t& sent) {
  std::shared_ptr<const std::string> held;
  std::string encoded;
  std::string_view upload = r.pngs.find(input, held).value_or(std::string_view());
  if (upload.empty()) {
    encoded = encode_upload_png(input);
    upload = encoded;
  } else {
    r.ctx.board.add(&ComfyStats::uploads_reused);
  }
  sent += upload.size();
  const std::string where = r.server.url + "/upload/image";
  const HttpResponse resp = r.http.post_form(where, {{"image", upload, r.upload_name, "image/png"},
                                                     {"overwrite", "true", "", ""},
                                                     {"type", "input", "", ""},
                                                     {"subfolder", "", "", ""}});
  if (!resp.ok()) throw_status(where, resp);
  const json up = parse_json(resp.body, where);
  const std::string name = up.value("name", ""), sub = up.value("subfolder", "");
  if (!is_safe_name(name) || !is_safe_subfolder(sub))
    throw ServerError(fmt::format("{} answered an unsafe file name '{}' in '{}'", where,
                                  clip(name, 80), clip(sub, 80)),
                      false);
  return sub.empty() ? name : sub + "/" + name;
}

// The stalled prompt is interrupted and removed; its retry waits until it has left the server,
// so that a request is never queued behind itself.
[[noreturn]] void give_up_stalled(const PromptRun& r, const std::string& pid, Tracked& t,
                                  const std::string& node, std::stop_token stop) {
  remove_prompts(r.http, r.server.url, {pid});
  r.ctx.board.add(&ComfyStats::stalls);
  const auto until = Clock::now() + std::max(r.server.stall_limit(), milliseconds(5000));
  while (Clock::now() < until && !stop.stop_requested()) {
    {
      std::unique_lock lock(r.server.mutex);
      if (r.server.cv.wait_for(lock, stop, milliseconds(500), [&] { return t.done; })) break;
    }
    try {
      if (place_in_queue(r, pid) == QueuePlace::Absent) break;
    } catch (const std::exception&) {
      break;  // unreachable: nothing of ours runs there any more
    }
  }
  throw ServerError(fmt::format("{}: prompt stalled: no sign of life for {:.0f} s{} "
                                "(comfy.stall_timeout_s); interrupted",
                                r.server.url, r.server.stall_limit().count() / 1000.0,
                                node.empty() ? "" : " at node " + node),
                    false);
}

// When /history first showed our prompt finished while the WebSocket had not said so yet.
struct FinishedOnServer {
  std::optional<Clock::time_point> seen;
  milliseconds poll_every;
};

// Asks the server where the prompt is, each poll interval or when the socket dropped: /history
// (ours alone) each time, /queue (everyone's, megabytes on a shared server with a batch queued)
// when `ask_queue`. Finished (by /history) -> t.done; running -> t.started; gone ->
// TransportError.
void check_on_server(const PromptRun& r, const std::string& pid, Tracked& t, bool lost,
                     bool ask_queue, FinishedOnServer& finished) {
  json entry = fetch_history(r, pid);
  if (entry.is_null()) {
    if (!ask_queue) return;
    const QueuePlace place = place_in_queue(r, pid);
    if (place == QueuePlace::Running) {
      std::lock_guard lock(r.server.mutex);
      if (!t.started) t.started = true, t.last_life = Clock::now();
    }
    if (place != QueuePlace::Absent) return;
    entry = fetch_history(r, pid);  // it may have finished between the two questions
    if (entry.is_null()) {
      r.ctx.board.add(&ComfyStats::lost);
      throw TransportError(
          fmt::format("{}: prompt {} is gone from the server (restarted?)", r.server.url, pid));
    }
  }
  // Finished by /history. The WebSocket's messages (the image among them) may still be on their
  // way: the server sends them in order, so a socket that keeps bringing messages is behind, not
  // stalled (a backlog of previews, a flood of text), and is waited for: up to the stall limit,
  // at most kBehindAtMost. A socket that brought nothing for a poll interval is stalled.
  if (!lost) {
    constexpr milliseconds kBehindAtMost{30000};
    const auto now = Clock::now();
    if (!finished.seen) {  // one poll interval in any case
      finished.seen = now;
      return;
    }
    const bool talking = now - r.server.socket_heard() < finished.poll_every;
    if (talking && now - *finished.seen < std::min(r.server.stall_limit(), kBehindAtMost)) return;
  }
  std::lock_guard lock(r.server.mutex);
  if (t.done) return;
  t.done = true;
  t.history = std::move(entry);
  if (!lost) r.server.reconnect();  // a stalled socket, or one too far behind: reconnect it
}

// 3. Until the prompt is done: `executing` node=null on the WebSocket, /history polled each poll
// interval and when the socket drops (it can stall while HTTP still works). Waiting in the
// server's queue never times out; a running prompt with no sign of life for the stall limit is
// interrupted; one /history shows finished waits for the socket (check_on_server).
void wait_for_result(const PromptRun& r, const Job& job, const std::string& pid, Tracked& t,
                     std::stop_token stop) {
  const auto poll_every =
      std::clamp(milliseconds(static_cast<long long>(r.ctx.options.stall_timeout_s * 125)),
                 milliseconds(200), milliseconds(1000));
  // Where it is in the queue only tells whether it still is there (a restart that lost it drops
  // the socket too, and that is asked at once) and whether it runs (the socket says so first).
  constexpr milliseconds kQueueEvery{5000};
  auto next_poll = Clock::now() + poll_every;
  auto next_queue = Clock::now() + kQueueEvery;
  FinishedOnServer finished{std::nullopt, poll_every};
  for (;;) {
    bool lost = false, started = false;
    Clock::time_point life;
    std::string node;
    {
      std::unique_lock lock(r.server.mutex);
      r.server.cv.wait_until(lock, stop, next_poll, [&] { return t.done || t.lost; });
      if (stop.stop_requested()) throw Cancelled("stopping");
      if (t.done) return;
      lost = std::exchange(t.lost, false);
      started = t.started, life = t.last_life, node = t.node;
    }
    if (job.cancelled) {
      remove_prompts(r.http, r.server.url, {pid});
      throw JobCancelled("cancelled");
    }
    const auto now = Clock::now();
    // Finished on the server, it is not stalled: the socket's rule above decides.
    if (started && !finished.seen && now - life > r.server.stall_limit())
      give_up_stalled(r, pid, t, node, stop);
    if (!lost && now < next_poll) continue;
    next_poll = now + poll_every;
    const bool ask_queue = lost || now >= next_queue;
    if (ask_queue) next_queue = now + kQueueEvery;
    check_on_server(r, pid, t, lost, ask_queue, finished);
  }
}

struct Outputs {
  json history;
  std::vector<std::pair<std::string, std::string>> frames;
  bool socket_dropped = false;
};

Outputs take_outputs(const PromptRun& r, Tracked& t) {
  Outputs o;
  std::optional<std::string> error;
  {
    std::lock_guard lock(r.server.mutex);
    o.history = std::move(t.history);
    o.frames = std::move(t.frames);
    o.socket_dropped = t.dropped;
    error = t.error;
  }
  if (!error && !o.history.is_null()) {
    const std::string e = history_error(o.history);
    if (!e.empty()) error = e;
  }
  if (error) throw ServerError(*error, false);
  return o;
}

// 4. The outputs: the image (a binary frame, or a file by /view) and the latent when saved.
class OutputReader {
 public:
  OutputReader(const PromptRun& r, const std::string& pid, Outputs o, std::string what)
      : r_(r), pid_(pid), o_(std::move(o)), what_(std::move(what)) {}

  std::uint64_t received = 0;

  std::shared_ptr<const std::string> file(const OutputNode& node, const char* key) {
    return std::make_shared<const std::string>(view(files(node, key).back()));
  }

  // The whole binary message of the image node's last frame (the PNG starts at byte 8).
  std::shared_ptr<const std::string> frame(const OutputNode& node) {
    const auto f = std::find_if(o_.frames.rbegin(), o_.frames.rend(),
                                [&](const auto& fr) { return fr.first == node.id; });
    if (f == o_.frames.rend()) {
      // Sent while the socket was down (it has reconnected since), or the socket is stalled (then
      // it reconnects now). Either way the keyframe is requested again.
      if (!o_.socket_dropped) r_.server.reconnect();
      r_.ctx.board.add(&ComfyStats::lost);
      throw ServerError(fmt::format("{}: the image of node {} ({}) never arrived on the WebSocket",
                                    what_, node.id, node.class_type),
                        false);
    }
    received += f->second.size();
    return std::make_shared<const std::string>(std::move(f->second));
  }

 private:
  json files(const OutputNode& node, const char* key) {
    if (o_.history.is_null()) o_.history = fetch_history(r_, pid_);
    const json outputs =
        o_.history.is_object() ? o_.history.value("outputs", json::object()) : json::object();
    if (!outputs.contains(node.id) || !outputs[node.id].contains(key) ||
        !outputs[node.id][key].is_array() || outputs[node.id][key].empty())
      throw ServerError(
          fmt::format("{}: node {} ({}) produced no {}", what_, node.id, node.class_type, key),
          false);
    return outputs[node.id][key];
  }

  std::string view(const json& file) {
    const std::string name = file.value("filename", ""), sub = file.value("subfolder", ""),
                      type = file.value("type", "output");
    if (!is_safe_name(name) || !is_safe_subfolder(sub) ||
        (type != "output" && type != "temp" && type != "input"))
      throw ServerError(fmt::format("{}: the server named an unsafe output '{}' '{}' '{}'", what_,
                                    clip(name, 80), clip(sub, 80), clip(type, 20)),
                        false);
    const HttpResponse f =
        r_.http.get(fmt::format("{}/view?filename={}&subfolder={}&type={}", r_.server.url,
                                url_escape(name), url_escape(sub), type));
    if (!f.ok()) throw_status(r_.server.url + "/view", f);
    received += f.body.size();
    return f.body;
  }

  const PromptRun& r_;
  const std::string& pid_;
  Outputs o_;
  std::string what_;
};

Image decode(const std::string& bytes, std::size_t offset, const std::string& what,
             const ImageLimits& limits) {
  const std::string_view png = std::string_view(bytes).substr(offset);
  return decode_keyframe_image({reinterpret_cast<const std::uint8_t*>(png.data()), png.size()},
                               what, limits);
}

Keyframe read_keyframe(const PromptRun& r, const pipeline::KeyframeRequest& req,
                       const std::string& pid, Tracked& t, const WorkflowValues& v) {
  const std::string what = fmt::format("keyframe {} from {}", req.index, r.server.url);
  OutputReader reader(r, pid, take_outputs(r, t), what);
  const OutputNode& out = r.ctx.workflow.image_output();
  const bool frame = out.kind == OutputKind::WebSocketImage;
  const auto bytes = frame ? reader.frame(out) : reader.file(out, "images");
  const std::size_t offset = frame ? 8 : 0;
  Keyframe k;
  k.index = req.index;
  k.origin = "comfy " + r.server.url;
  k.image = decode(*bytes, offset, what, r.ctx.options.image_limits);
  if (k.image.width == v.width && k.image.height == v.height)
    r.pngs.remember(k.image, bytes, offset);
  if (const OutputNode* latent = r.ctx.workflow.latent_output()) {
    const auto lat = reader.file(*latent, "latents");
    k.latent = latent_from_safetensors(
        {reinterpret_cast<const std::uint8_t*>(lat->data()), lat->size()}, what + " (latent)");
  }
  if (k.image.width != v.width || k.image.height != v.height) {
    // The workflow scaled on its own: the image is fitted to the size asked for, and a latent of
    // the server's size would no longer match it (the pair is made from the image instead).
    k.image = resize_cover(k.image, v.width, v.height);
    k.latent.reset();
  }
  r.ctx.board.add(&ComfyStats::bytes_received, reader.received);
  return k;
}

}  // namespace

std::optional<std::string_view> RecentPngs::find(const Image& image,
                                                 std::shared_ptr<const std::string>& hold) {
  std::lock_guard lock(mutex_);
  for (auto it = entries_.rbegin(); it != entries_.rend(); ++it) {
    if (it->image.width != image.width || it->image.height != image.height ||
        it->image.rgba != image.rgba)
      continue;
    hold = it->bytes;
    return std::string_view(*hold).substr(it->offset);
  }
  return std::nullopt;
}

void RecentPngs::remember(const Image& image, std::shared_ptr<const std::string> bytes,
                          std::size_t offset) {
  // JPEG previews are not kept (another decoder may round differently).
  if (bytes->compare(offset, 4, "\x89PNG") != 0) return;
  std::lock_guard lock(mutex_);
  entries_.push_back(Entry{image, std::move(bytes), offset});
  while (entries_.size() > keep_) entries_.pop_front();
}

Keyframe run_prompt(const PromptRun& r, Job& job, std::stop_token stop) {
  const pipeline::KeyframeRequest& req = job.request;
  // Until the server holds the prompt, a cancel aborts the upload or POST at once: a hung POST
  // would otherwise keep this lane until comfy.request_timeout_s.
  struct Abandonable {
    HttpClient& http;
    explicit Abandonable(HttpClient& h, const std::atomic<bool>& flag) : http(h) {
      http.set_abandon_flag(&flag);
    }
    ~Abandonable() { http.set_abandon_flag(nullptr); }
    Abandonable(const Abandonable&) = delete;
    Abandonable& operator=(const Abandonable&) = delete;
  };
  std::optional<Abandonable> sending(std::in_place, r.http, job.cancelled);
  std::uint64_t sent = 0;
  WorkflowValues v = r.ctx.values();
  v.image = upload_input(r, req.input, sent);
  v.positive = req.prompt.positive;
  v.negative = req.prompt.negative;
  v.seed = req.seed;

  // 2. The prompt, under our own id, registered before it can start.
  const std::string pid = new_uuid();
  const std::string body = json{
      {"prompt", r.ctx.workflow.fill(v)},
      {"client_id", r.server.client_id},
      {"prompt_id", pid}}.dump();
  sent += body.size();
  r.ctx.board.add(&ComfyStats::bytes_sent, sent);
  const auto tracked = r.server.track(pid);
  // Left behind on the server (ComfyServer takes it off) unless it is known not to be there: a
  // prompt of a stopped lane; one whose POST went out but no answer came back (abandoned, timed
  // out, the connection lost) or a proxy's error came after the server queued it; one accepted and
  // then given up on (its /history poll failed in a network blip, a limit refused an answer).
  // The server would otherwise spend a keyframe's time on each, ahead of the retry.
  struct Untrack {
    ComfyServer& s;
    const std::string& pid;
    std::stop_token stop;
    bool maybe_on_server = true;
    ~Untrack() { s.untrack(pid, maybe_on_server || stop.stop_requested()); }
  } untrack{r.server, pid, stop};
  const HttpResponse resp = r.http.post_json(r.server.url + "/prompt", body);
  if (resp.status == 400) {
    untrack.maybe_on_server = false;  // refused: never queued
    throw ServerError(describe_prompt_answer(resp.body), true);
  }
  if (!resp.ok()) throw_status(r.server.url + "/prompt", resp);
  sending.reset();  // from here a cancel removes the prompt from the server (wait_for_result)
  job.accepted = true;
  r.server.mark_posted(*tracked);  // after `accepted`: status counts it as ours only then

  wait_for_result(r, job, pid, *tracked, stop);
  untrack.maybe_on_server = false;  // finished there
  // Its history entry goes whether its outputs are of use or not: a server that fails every
  // prompt (out of memory, a broken node; or its image lost) would otherwise keep one entry, with
  // the whole graph, per retry, and push every other user's out of its history within days.
  struct Forget {
    const PromptRun& r;
    const std::string& pid;
    ~Forget() { forget_history(r, pid); }
  } forget{r, pid};
  return read_keyframe(r, req, pid, *tracked, v);
}

}  // namespace dw::comfy
