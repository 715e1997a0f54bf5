// The program as a systemd service (Type=notify): one thread that tells systemd how it is doing
// through sd_notify (libsystemd).
//  - READY=1 once the first frame has been presented;
//  - WATCHDOG=1 every half of WATCHDOG_USEC (systemd's WatchdogSec), only while the watchdog's
//    judgement (service_watchdog.h) says the render loop presents and the pipeline makes
//    progress: a wedged worker or a stuck render loop stops the pings and systemd restarts us;
//  - STATUS=<one line> every few seconds and whenever the verdict changes;
//  - STOPPING=1 at stop().
// Without NOTIFY_SOCKET (not started by systemd) nothing is sent and no thread runs.
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <string>
#include <thread>

#include "app/service_watchdog.h"
#include "core/commands.h"
#include "core/config_store.h"
#include "pipeline/status.h"

namespace dw::service {

// What status.json and the overlay show about the service side.
struct NotifierReport {
  bool under_systemd = false;    // NOTIFY_SOCKET was set
  double watchdog_s = 0;         // systemd's watchdog interval; 0: no watchdog
  std::string watchdog = "off";  // "off", "waiting for the first frame", "ok", "stalled: ..."
  double ready_at_s = -1;        // seconds after start when READY=1 was sent; -1: not yet
  std::uint64_t pings = 0;       // WATCHDOG=1 sent
};

struct NotifierParts {
  std::function<pipeline::StatusSnapshot()> status;  // the pipeline's snapshot
  const Commands* commands = nullptr;                // generation paused (may be null)
  LiveSection<ServiceConfig> config;                 // stall_s (live)
};

class ServiceNotifier {
 public:
  explicit ServiceNotifier(NotifierParts parts);
  ~ServiceNotifier();
  ServiceNotifier(const ServiceNotifier&) = delete;
  ServiceNotifier& operator=(const ServiceNotifier&) = delete;

  // Sends STOPPING=1 and ends the thread; before the pipeline stops (the thread reads it).
  void stop();
  NotifierReport report() const;

 private:
  void run(std::stop_token stop);
  bool wait(std::stop_token& stop, std::chrono::milliseconds period);
  void send(const std::string& message);
  void wait_for_first_frame(std::stop_token& stop);
  void judge_and_ping(WatchdogJudge& judge);

  NotifierParts parts_;
  Clock::time_point started_ = Clock::now();
  Clock::duration ping_every_{};  // half the watchdog interval; zero: no watchdog
  Clock::time_point last_ping_{};
  Clock::time_point last_status_{};
  bool last_healthy_ = true;
  mutable std::mutex mutex_;
  std::condition_variable_any wake_;
  NotifierReport report_;
  bool stopped_ = false;
  std::jthread thread_;
};

}  // namespace dw::service
