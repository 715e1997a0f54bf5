#include "app/service_wiring.h"

#include <spdlog/spdlog.h>

#include <atomic>
#include <cstdlib>
#include <string>
#include <thread>

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

std::unique_ptr<ServiceNotifier> start_notifier(const pipeline::Pipeline& dream,
                                                const Commands& commands,
                                                const ConfigStore& config) {
  NotifierParts parts{[&dream] { return dream.status(); }, &commands,
                      LiveSection<ServiceConfig>(config, &Config::service)};
  return std::make_unique<ServiceNotifier>(std::move(parts));
}

}  // namespace dw::service
