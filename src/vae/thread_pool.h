// A small fixed-size thread pool for the CPU backend: parallel_for over independent tasks, with the
// calling thread taking part. Each task writes its own part of the output, so results never depend
// on how many threads there are or which one ran what.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <exception>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace dw::vae {

class ThreadPool {
 public:
  // `threads` counts the caller; 0 means one per hardware thread.
  explicit ThreadPool(int threads);
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  int size() const { return static_cast<int>(workers_.size()) + 1; }

  // Runs task(index, worker) for every index in [0, count), worker in [0, size()), and returns
  // when all have finished. The first exception a task throws is rethrown here (the remaining
  // tasks are skipped). Not re-entrant: a task must not call parallel_for on the same pool.
  void parallel_for(std::size_t count, const std::function<void(std::size_t, int)>& task);

 private:
  void worker_loop(int worker);
  void run_tasks(int worker);

  std::vector<std::thread> workers_;
  std::mutex mutex_;
  std::condition_variable wake_;
  std::condition_variable done_;
  bool stopping_ = false;
  std::size_t generation_ = 0;
  // The job in flight (guarded by mutex_ except `next_`, which workers claim indices from).
  const std::function<void(std::size_t, int)>* task_ = nullptr;
  std::size_t count_ = 0;
  std::size_t next_ = 0;
  std::size_t finished_ = 0;
  int active_workers_ = 0;
  std::exception_ptr error_;
};

}  // namespace dw::vae
