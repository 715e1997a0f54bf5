// The requests of the ComfyUI source between submit() and next(): a queue ordered by keyframe
// index that the lanes of every server take from, retries with exponential backoff and jitter, and
// the finished keyframes. A request is never dropped: a failed one goes back under the same index
// and input until it is delivered or cancelled (or, once released, fails: not run again).
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <stop_token>

#include "core/bounded_queue.h"
#include "pipeline/keyframe_source.h"

namespace dw::comfy {

struct Job {
  pipeline::KeyframeRequest request;
  int attempts = 0;
  std::chrono::steady_clock::time_point not_before{};
  std::atomic<bool> cancelled{false};  // a lane running it abandons its prompt
  // The server has taken its prompt (POST /prompt answered): it is queued or running there. Set
  // by the lane running it; cleared when the job goes back to the queue.
  std::atomic<bool> accepted{false};
  bool released = false;  // a lane running it finishes, but it is not run again
};

struct Backoff {
  double base_s = 0.25;
  double max_s = 30.0;
  // A wait in [d/2, d] with d = base * 2^(attempt-1) capped at max: clients of a restarted server
  // do not all return at once.
  std::chrono::milliseconds after(int attempt) const;
};

class JobQueue {
 public:
  JobQueue(std::size_t capacity, Backoff backoff);

  // False when stopped, full, or the index is already live.
  bool submit(pipeline::KeyframeRequest request);
  // The lowest due index, waiting up to max_wait; nullptr on timeout or stop.
  std::shared_ptr<Job> take(std::stop_token stop, std::chrono::milliseconds max_wait);
  // Back in the queue after a backoff (nothing when cancelled meanwhile).
  void retry_later(std::shared_ptr<Job> job);
  // Puts the job back at once (a lane that stopped or whose server became unusable before sending).
  void give_back(std::shared_ptr<Job> job);
  // Hands the keyframe to next(); false when the job was cancelled (the keyframe is dropped).
  bool deliver(const std::shared_ptr<Job>& job, pipeline::Keyframe keyframe, std::stop_token stop);
  void cancel(std::uint64_t index);
  // The keyframe is no longer wanted, but work the server has taken may finish. A job the server
  // has accepted is left to finish and deliver: true (should it fail, it is dropped instead of
  // retried). Any other (waiting for a lane or a retry, or a lane still uploading or posting it:
  // nothing the server holds) is cancelled: false.
  bool release(std::uint64_t index);
  std::optional<pipeline::Keyframe> next(std::stop_token stop, std::chrono::milliseconds timeout);
  std::size_t pending() const { return pending_.load(); }
  // Refuses submissions from now on; returns false when it already was.
  bool close();

 private:
  void enqueue_locked(std::shared_ptr<Job> job);
  // Forgets a live job: it is not delivered, and a lane running it abandons it.
  void drop_locked(const std::shared_ptr<Job>& job);

  const std::size_t capacity_;
  const Backoff backoff_;
  mutable std::mutex mutex_;
  std::condition_variable_any cv_;
  std::deque<std::shared_ptr<Job>> queue_;              // by index: waiting for a lane
  std::map<std::uint64_t, std::shared_ptr<Job>> live_;  // submitted, not yet delivered
  bool closed_ = false;
  BoundedQueue<pipeline::Keyframe> results_;
  std::atomic<std::size_t> pending_{0};
};

}  // namespace dw::comfy
