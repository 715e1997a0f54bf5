// The control helper's part of the app, created once by application.cpp: the control actions
// (actions_wiring.h), SIGHUP reload (sighup_reload.h) and the OSC server (remote/osc_server.h),
// and what they report for status (where OSC listens, restart settings pending, the last reload).
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>

#include "core/actions.h"
#include "core/commands.h"
#include "core/config.h"
#include "core/param_editor.h"
#include "pipeline/status.h"

namespace dw {

class SighupReload;
namespace remote {
class OscDispatcher;
class OscServer;
}  // namespace remote

class ControlWiring {
 public:
  ControlWiring(const Config& config, ActionTable& actions, Commands& commands,
                ParamEditor& editor);
  ~ControlWiring();
  ControlWiring(const ControlWiring&) = delete;
  ControlWiring& operator=(const ControlWiring&) = delete;

  // For PipelineHooks::control_status (any thread).
  pipeline::ControlStatus status() const;
  // The OSC server's port (0 while it does not listen).
  std::uint16_t osc_port() const;

 private:
  ParamEditor& editor_;
  mutable std::mutex mutex_;
  std::string last_reload_;  // the outcome of the last reload_config (action or SIGHUP)
  std::string osc_ = "off";  // while there is no OSC server: "off", or "off: <why>"
  std::unique_ptr<SighupReload> sighup_;
  std::unique_ptr<remote::OscDispatcher> osc_dispatcher_;
  std::unique_ptr<remote::OscServer> osc_server_;
};

}  // namespace dw
