#include "app/control_wiring.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "app/actions_wiring.h"
#include "app/sighup_reload.h"
#include "remote/osc_server.h"

namespace dw {

ControlWiring::ControlWiring(const Config& config, ActionTable& actions, Commands& commands,
                             ParamEditor& editor)
    : editor_(editor) {
  register_control_actions(actions, commands, editor, [this](const ActionResult& r) {
    std::lock_guard lock(mutex_);
    last_reload_ = (r.ok ? "ok: " : "error: ") + r.message;
  });
  sighup_ = std::make_unique<SighupReload>([&actions] { actions.run("reload_config"); });
  if (!config.osc.enabled) return;
  // OSC that cannot bind yet (an address DHCP has not given yet, a port in use) keeps trying on
  // its thread and says why in status; a bad address is logged and shown in status. The picture
  // goes on either way.
  osc_dispatcher_ = std::make_unique<remote::OscDispatcher>(editor, actions);
  try {
    osc_server_ = std::make_unique<remote::OscServer>(config.osc, *osc_dispatcher_);
  } catch (const std::exception& e) {
    spdlog::error("{}", e.what());
    osc_ = fmt::format("off: {}", e.what());
  }
}

ControlWiring::~ControlWiring() = default;

std::uint16_t ControlWiring::osc_port() const {
  return osc_server_ ? osc_server_->port() : 0;
}

pipeline::ControlStatus ControlWiring::status() const {
  pipeline::ControlStatus s;
  s.pending_restart = fmt::format("{}", fmt::join(editor_.pending_restart(), ", "));
  s.config_version = editor_.version();
  s.osc = osc_server_ ? osc_server_->state() : osc_;
  std::lock_guard lock(mutex_);
  s.last_reload = last_reload_;
  return s;
}

}  // namespace dw
