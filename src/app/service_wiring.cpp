#include "app/service_wiring.h"

#include <spdlog/spdlog.h>

#include <atomic>
#include <cstdlib>
#include <string>
#include <thread>

#include "app/service_log.h"

namespace dw::service {

pipeline::WorkerFaultHook test_fault_hook_from_env() {
  const char* value = std::getenv("DREAMWINDOW_TEST_WEDGE");
  if (value == nullptr || *value == '\0') return {};
  const std::string spec = value;
  const std::size_t colon = spec.find(':');
  const std::string worker = spec.substr(0, colon);
  const long long at = colon == std::string::npos ? 1 : std::atoll(spec.c_str() + colon + 1);
  spdlog::warn("TEST ONLY: DREAMWINDOW_TEST_WEDGE: worker '{}' blocks for good at step {}", worker,
               at);
  auto calls = std::make_shared<std::atomic<long long>>(0);
  return [worker, at, calls](std::string_view name) {
    if (name != worker || ++*calls < at) return;
    spdlog::warn("TEST ONLY: worker '{}' is wedged now", worker);
    for (;;) std::this_thread::sleep_for(std::chrono::seconds(1));
  };
}

ServiceSide::ServiceSide(const ServiceConfig& config) : log_file_(install_logger(config)) {}

ServiceSide::~ServiceSide() {
  stop_notifier();
}

void ServiceSide::hook_into(pipeline::PipelineHooks& hooks) {
  hooks.worker_fault = test_fault_hook_from_env();
  hooks.resume = true;
  hooks.service_status = [this] { return status(); };
}

ServiceSide::NotifierGuard ServiceSide::start_notifier(const pipeline::Pipeline& dream,
                                                       const Commands& commands,
                                                       const ConfigStore& config) {
  NotifierParts parts{[&dream] { return dream.status(); }, &commands,
                      LiveSection<ServiceConfig>(config, &Config::service)};
  auto notifier = std::make_unique<ServiceNotifier>(std::move(parts));
  std::lock_guard lock(mutex_);
  notifier_ = std::move(notifier);
  return NotifierGuard{this};
}

void ServiceSide::stop_notifier() {
  ServiceNotifier* notifier = nullptr;
  {
    std::lock_guard lock(mutex_);
    notifier = notifier_.get();
  }
  if (notifier) notifier->stop();
}

pipeline::ServiceStatus ServiceSide::status() const {
  pipeline::ServiceStatus s;
  s.log_file = log_file_;
  std::lock_guard lock(mutex_);
  if (!notifier_) return s;
  const NotifierReport r = notifier_->report();
  s.watchdog = r.under_systemd ? r.watchdog : "off (not started by systemd)";
  s.watchdog_s = r.watchdog_s;
  s.ready_at_s = r.ready_at_s;
  s.watchdog_pings = r.pings;
  return s;
}

}  // namespace dw::service
