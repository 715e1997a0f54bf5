// The service side's wiring into the application (application.cpp makes one ServiceSide): the
// logger (journald-friendly stderr, the log file), the systemd notifier and watchdog, resume, the
// service rows of status, and a test-only fault switch.
#pragma once

#include <memory>
#include <mutex>
#include <string>

#include "app/service_notify.h"
#include "core/commands.h"
#include "core/config_store.h"
#include "pipeline/pipeline.h"

namespace dw::service {

// TEST ONLY: DREAMWINDOW_TEST_WEDGE=<worker>:<n> makes that pipeline worker (orchestrator,
// interpolation, cache) block for good before its n-th step, as a deadlock would; the watchdog
// test uses it to see the pings stop. Unset (always, outside tests): no hook.
pipeline::WorkerFaultHook test_fault_hook_from_env();

class ServiceSide {
 public:
  // Installs the logger: first, before anything logs.
  explicit ServiceSide(const ServiceConfig& config);
  ~ServiceSide();
  // The pipeline's service hooks: status rows, resume on, the test fault switch.
  void hook_into(pipeline::PipelineHooks& hooks);
  // Stops the notifier when it goes (also on an exception), so it never reads a pipeline that is
  // gone: keep it after the pipeline.
  struct NotifierGuard {
    ServiceSide* side;
    ~NotifierGuard() { side->stop_notifier(); }
  };
  // The notifier for the running pipeline (nothing without NOTIFY_SOCKET).
  [[nodiscard]] NotifierGuard start_notifier(const pipeline::Pipeline& dream,
                                             const Commands& commands, const ConfigStore& config);
  // STOPPING=1; before the pipeline the notifier reads stops. Once; later calls do nothing.
  void stop_notifier();

 private:
  pipeline::ServiceStatus status() const;

  std::string log_file_;
  mutable std::mutex mutex_;
  std::unique_ptr<ServiceNotifier> notifier_;
};

}  // namespace dw::service
