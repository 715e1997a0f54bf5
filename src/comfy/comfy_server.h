// One ComfyUI server as the source supervises it: reachable (/system_stats), workflow validated
// (/object_info), WebSocket held and turned into per-prompt state, and "delivering" (a server that
// delivered nothing, and whose prompts showed no sign of life, for a stall timeout while our
// prompts waited is degraded: auto covers for it).
// The lanes that run prompts on it (comfy_source.cpp, prompt_run.cpp) read that state here.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "comfy/comfy_source.h"
#include "comfy/protocol.h"

namespace dw::comfy {

class HttpClient;
struct WsMessage;
using Clock = std::chrono::steady_clock;

// The source's counters, shared by its threads (StatsBoard::mutex is a leaf: see the lock order in
// comfy_source.h).
struct StatsBoard {
  mutable std::mutex mutex;
  ComfyStats stats;
  void add(std::uint64_t ComfyStats::*counter, std::uint64_t n = 1);
  void set_error(const std::string& message, std::uint64_t ComfyStats::*counter);
};

// What every server and lane of one source shares (read-only but for the board).
struct SourceContext {
  const ComfySourceOptions& options;
  const Workflow& workflow;
  StatsBoard& board;
  std::function<WorkflowValues()> values;  // the sampler settings in effect now
};

// One prompt we queued, as the WebSocket and /history report it (guarded by ComfyServer::mutex).
struct Tracked {
  bool posted = false;       // POST /prompt answered: the server holds it (ServerHealth counts it)
  bool started = false;      // execution_start / executing / progress seen, or /queue says running
  bool done = false;         // `executing` node=null, or /history has the entry
  bool lost = false;         // the WebSocket dropped while the prompt was out: check at once
  bool dropped = false;      // it ever did (binary frames may then be missing)
  Clock::time_point sent{};  // just before its POST /prompt went out
  Clock::time_point last_life{};  // the newest sign that it runs (a node started, a step done)
  std::string node;               // the node executing now
  std::optional<std::string> error;
  std::vector<std::pair<std::string, std::string>> frames;  // (node id, whole binary message)
  nlohmann::json history;  // the /history entry when completion was seen there
};

class ComfyServer {
 public:
  ComfyServer(std::string url, SourceContext context);
  ~ComfyServer();
  void start();
  void request_stop();
  void join();
  // Removes the prompts left behind that the supervisor has not removed yet (after join()).
  void clean_up();

  const std::string url;
  const std::string client_id;

  bool healthy() const { return healthy_.load(); }
  bool came_up() const { return was_up_.load(); }  // healthy at least once
  // Healthy, not degraded, and its socket not being replaced: lanes give it new prompts.
  bool usable() const;
  // The stall timeout in force: twice comfy.stall_timeout_s until the server delivered once since
  // it came up (its first prompt loads the model, silently, for up to minutes on a slow machine).
  std::chrono::milliseconds stall_limit() const;

  // Registered before POST /prompt so that no message about it can be missed.
  std::shared_ptr<Tracked> track(const std::string& prompt_id);
  void mark_posted(Tracked& t);
  // A prompt left behind may be queued or running on the server with nobody waiting for it: the
  // supervisor removes it (within a socket poll, 200 ms, while the server is up; else clean_up()).
  void untrack(const std::string& prompt_id, bool left_behind);
  void delivered();  // a keyframe came from this server: it is delivering
  // Drops the socket and validates the workflow again before the next prompt.
  void revalidate();
  // Replaces the socket (not usable until the new one is up).
  void reconnect() { reconnect_ = true; }
  void set_healthy(bool healthy, bool quiet = false);
  void record_error(const std::string& message, std::uint64_t ComfyStats::*counter);
  pipeline::ServerHealth line() const;
  std::pair<int, int> progress() const;  // the sampling node's progress of our running prompt
  // When the WebSocket last brought a message (any: ours, another prompt's, a status); the epoch
  // before the first.
  Clock::time_point socket_heard() const {
    return Clock::time_point(Clock::duration(heard_.load()));
  }
  // The server's choices for checkpoint, sampler and scheduler (Workflow::offered) as of the last
  // validation; empty before it.
  std::map<std::string, std::vector<std::string>> offered() const;

  mutable std::mutex mutex;  // guards the members below and every Tracked
  std::condition_variable_any cv;

 private:
  // Our prompts wait, and neither a delivery nor a sign of life of one came for stall_limit().
  bool degraded_locked() const;
  void supervise(std::stop_token stop);
  void validate(HttpClient& http);
  void hold_socket(std::stop_token stop);
  // Whether the server stopped sending to our socket (see unheard_post_).
  bool orphaned(Clock::time_point now);
  static constexpr std::chrono::seconds kUnheardAfterPost{10};
  void on_message(WsMessage& message);
  void on_event(const std::string& type, const nlohmann::json& data);
  void mark_all_lost();
  // Takes the prompts left behind off the server (best effort, each request at most timeout_s).
  void remove_left_behind(std::stop_token stop, double timeout_s, const char* why);

  SourceContext ctx_;
  std::atomic<bool> healthy_{false};
  std::atomic<bool> validated_{false};
  std::map<std::string, std::vector<std::string>> offered_;  // guarded by `mutex`
  std::atomic<bool> reconnect_{false};
  std::map<std::string, std::shared_ptr<Tracked>> tracked_;  // by prompt id
  std::set<std::string> left_behind_;                        // see untrack()
  std::map<std::string, int> removal_attempts_;              // of left-behind prompts that failed
  std::atomic<bool> has_left_behind_{false};
  std::string ws_prompt_, ws_node_;  // the prompt and node executing now (any client's)
  bool has_sampler_ = false;         // the workflow has a node whose `progress` is sampling
  int progress_value_ = 0, progress_max_ = 0;
  int queue_remaining_ = 0;
  std::atomic<bool> delivered_since_up_{false};  // read by stall_limit() without the lock
  std::atomic<Clock::rep> heard_{0};             // socket_heard(), without the lock
  // When the oldest prompt of ours the server took since the socket last brought a message was
  // sent (0: none such). ComfyUI tells every socket of each queue change: one told nothing of ours
  // for kUnheardAfterPost is no longer the server's (see hold_socket).
  std::atomic<Clock::rep> unheard_post_{0};
  Clock::time_point last_delivery_{};  // or when ours started waiting, whichever is later
  pipeline::ServerHealth line_;
  std::string last_logged_;          // supervisor thread only
  std::atomic<bool> was_up_{false};  // "is back" only after it was up once
  std::jthread supervisor_;
};

// Deletes our prompts from the server's queue and interrupts the running one if it is ours (an
// older server ignores the prompt id of /interrupt and would stop anyone's). Best effort: false
// when the server did not answer the delete and the queue read.
bool remove_prompts(HttpClient& http, const std::string& url, const std::vector<std::string>& ids);

// Where each of `ids` is in the server's queue (GET /queue). An answer within `http`'s cap is
// judged by queue_place; a longer one (a shared server's batch) is searched as it arrives
// (QueueScan), never held whole. Throws ServerError (an HTTP error, no queue), TransportError.
std::vector<QueuePlace> queue_places(HttpClient& http, const std::string& url,
                                     const std::vector<std::string>& ids);

}  // namespace dw::comfy
