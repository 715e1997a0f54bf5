// SIGHUP reloads the config file. The signal handler only sets a flag and writes a byte to a pipe
// (both async-signal-safe); a worker thread wakes on the pipe and calls `on_hup` there, so the
// reload (file I/O, the ParamEditor's lock, logging) never runs inside the handler. One instance
// at a time; the previous SIGHUP disposition is restored when it goes.
#pragma once

#include <functional>
#include <thread>

namespace dw {

class SighupReload {
 public:
  explicit SighupReload(std::function<void()> on_hup);
  ~SighupReload();
  SighupReload(const SighupReload&) = delete;
  SighupReload& operator=(const SighupReload&) = delete;

 private:
  void run(std::stop_token stop);

  std::function<void()> on_hup_;
  std::jthread thread_;
};

}  // namespace dw
