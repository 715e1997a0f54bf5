#include "comfy/job_queue.h"

#include <algorithm>
#include <cmath>
#include <random>

namespace dw::comfy {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

milliseconds Backoff::after(int attempt) const {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  const double d = std::min(base_s * std::pow(2.0, std::min(attempt - 1, 30)), max_s);
  const double s = d * std::uniform_real_distribution<double>(0.5, 1.0)(rng);
  return milliseconds(static_cast<long long>(s * 1000.0));
}

JobQueue::JobQueue(std::size_t capacity, Backoff backoff)
    : capacity_(capacity), backoff_(backoff), results_(capacity) {}

bool JobQueue::submit(pipeline::KeyframeRequest request) {
  std::lock_guard lock(mutex_);
  if (closed_ || live_.size() >= capacity_ || live_.count(request.index)) return false;
  auto job = std::make_shared<Job>();
  job->request = std::move(request);
  live_[job->request.index] = job;
  enqueue_locked(std::move(job));
  ++pending_;
  return true;
}

void JobQueue::enqueue_locked(std::shared_ptr<Job> job) {
  const auto at =
      std::upper_bound(queue_.begin(), queue_.end(), job->request.index,
                       [](std::uint64_t k, const auto& j) { return k < j->request.index; });
  queue_.insert(at, std::move(job));
  cv_.notify_all();
}

std::shared_ptr<Job> JobQueue::take(std::stop_token stop, milliseconds max_wait) {
  const auto until = Clock::now() + max_wait;
  std::unique_lock lock(mutex_);
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
    cv_.wait_until(lock, stop, wake, [] { return false; });
    if (stop.stop_requested()) return nullptr;
  }
}

void JobQueue::retry_later(std::shared_ptr<Job> job) {
  std::lock_guard lock(mutex_);
  if (job->cancelled) return;
  if (job->released) return drop_locked(job);
  job->accepted = false;
  ++job->attempts;
  job->not_before = Clock::now() + backoff_.after(job->attempts);
  enqueue_locked(std::move(job));
}

void JobQueue::give_back(std::shared_ptr<Job> job) {
  std::lock_guard lock(mutex_);
  if (job->cancelled) return;
  if (job->released) return drop_locked(job);
  job->accepted = false;
  enqueue_locked(std::move(job));
}

bool JobQueue::deliver(const std::shared_ptr<Job>& job, pipeline::Keyframe keyframe,
                       std::stop_token stop) {
  {
    std::lock_guard lock(mutex_);
    if (job->cancelled) return false;
    live_.erase(job->request.index);
  }
  // Fails only when stopping: the keyframe then goes nowhere, like the source itself.
  results_.push(std::move(keyframe), WhenFull::Block, stop);
  return true;
}

void JobQueue::cancel(std::uint64_t index) {
  std::lock_guard lock(mutex_);
  const auto it = live_.find(index);
  if (it == live_.end()) return;
  drop_locked(it->second);
}

void JobQueue::drop_locked(const std::shared_ptr<Job>& job) {
  job->cancelled = true;  // a lane running it drops its prompt and the result
  const std::uint64_t index = job->request.index;
  std::erase_if(queue_, [&](const auto& j) { return j == job; });
  if (const auto it = live_.find(index); it != live_.end() && it->second == job) {
    live_.erase(it);
    --pending_;
  }
}

bool JobQueue::release(std::uint64_t index) {
  std::lock_guard lock(mutex_);
  const auto it = live_.find(index);
  if (it == live_.end()) return false;
  const auto job = it->second;
  // Read under the lock, but set by the lane without it: should the server take the prompt just
  // after this, the lane sees the cancel and removes it from the server again.
  const bool waiting = std::find(queue_.begin(), queue_.end(), job) != queue_.end();
  if (waiting || !job->accepted) {
    drop_locked(job);
    return false;
  }
  job->released = true;
  return true;
}

std::optional<pipeline::Keyframe> JobQueue::next(std::stop_token stop, milliseconds timeout) {
  auto k = results_.pop(stop, timeout);
  if (k) --pending_;
  return k;
}

bool JobQueue::close() {
  std::lock_guard lock(mutex_);
  if (closed_) return false;
  closed_ = true;
  return true;
}

}  // namespace dw::comfy
