// A thread's sleep that a stop request ends at once (std::jthread workers that do something every
// so often: the disk watch, the status writer, a server's reconnect back-off).
#pragma once

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

}  // namespace dw
