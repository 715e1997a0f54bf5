// The service side's wiring into the application (application.cpp calls these): the systemd
// notifier, and a test-only fault switch.
#pragma once

#include <memory>

#include "app/service_notify.h"
#include "core/commands.h"
#include "core/config_store.h"
#include "pipeline/pipeline.h"

namespace dw::service {

// TEST ONLY: DREAMWINDOW_TEST_WEDGE=<worker>:<n> makes that pipeline worker (orchestrator,
// interpolation, cache) block for good before its n-th step, as a deadlock would; the watchdog
// test uses it to see the pings stop. Unset (always, outside tests): no hook.
pipeline::WorkerFaultHook test_fault_hook_from_env();

// The notifier for the running pipeline (does nothing without NOTIFY_SOCKET).
std::unique_ptr<ServiceNotifier> start_notifier(const pipeline::Pipeline& dream,
                                                const Commands& commands,
                                                const ConfigStore& config);

}  // namespace dw::service
