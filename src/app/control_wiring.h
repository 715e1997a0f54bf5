// The control helper's part of the app, created once by application.cpp: the control actions
// (actions_wiring.h), SIGHUP reload (sighup_reload.h) and the OSC server (remote/osc_server.h),
// and what they report for status (where OSC listens, restart settings pending, the last reload).
#pragma once

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

class ControlWiring {
 public:
  ControlWiring(const Config& config, ActionTable& actions, Commands& commands,
                ParamEditor& editor);
  ~ControlWiring();
  ControlWiring(const ControlWiring&) = delete;
  ControlWiring& operator=(const ControlWiring&) = delete;

  // For PipelineHooks::control_status (any thread).
  pipeline::ControlStatus status() const;

 private:
  ParamEditor& editor_;
  mutable std::mutex mutex_;
  std::string last_reload_;  // the outcome of the last reload_config (action or SIGHUP)
  std::string osc_ = "off";
  std::unique_ptr<SighupReload> sighup_;
};

}  // namespace dw
