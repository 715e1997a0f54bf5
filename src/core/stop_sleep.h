// A thread's sleep that a stop request ends at once (std::jthread workers that do something every
// so often: the disk watch, the status writer, a server's reconnect back-off), and a retry with a
// back-off built on it (a server binding its socket again).
#pragma once

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <stop_token>

namespace dw {

// Sleeps for `d` or until `stop` is requested; false when it was.
template <class Rep, class Period>
bool sleep_unless_stopped(std::stop_token stop, std::chrono::duration<Rep, Period> d) {
  std::mutex mutex;
  std::condition_variable_any wake;
  std::unique_lock lock(mutex);
  wake.wait_for(lock, stop, d, [] { return false; });
  return !stop.stop_requested();
}

// Calls `attempt` until it returns true, sleeping between tries: 50 ms after the first failure,
// doubling to at most 10 s (a socket that can be had again is had within 10 s, and one that cannot
// costs six tries a minute). True once `attempt` succeeded; false when `stop` was requested first.
template <class Attempt>
bool retry_unless_stopped(std::stop_token stop, Attempt attempt) {
  std::chrono::milliseconds wait{50};
  while (!attempt()) {
    if (!sleep_unless_stopped(stop, wait)) return false;
    wait = std::min<std::chrono::milliseconds>(wait * 2, std::chrono::seconds(10));
  }
  return true;
}

}  // namespace dw
