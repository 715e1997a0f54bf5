#include "app/control_wiring.h"

#include <fmt/format.h>

#include "app/actions_wiring.h"
#include "app/sighup_reload.h"

namespace dw {

ControlWiring::ControlWiring(const Config& /*config*/, ActionTable& actions, Commands& commands,
                             ParamEditor& editor)
    : editor_(editor) {
  register_control_actions(actions, commands, editor, [this](const ActionResult& r) {
    std::lock_guard lock(mutex_);
    last_reload_ = (r.ok ? "ok: " : "error: ") + r.message;
  });
  sighup_ = std::make_unique<SighupReload>([&actions] { actions.run("reload_config"); });
}

ControlWiring::~ControlWiring() = default;

pipeline::ControlStatus ControlWiring::status() const {
  pipeline::ControlStatus s;
  s.pending_restart = fmt::format("{}", fmt::join(editor_.pending_restart(), ", "));
  std::lock_guard lock(mutex_);
  s.osc = osc_;
  s.last_reload = last_reload_;
  return s;
}

}  // namespace dw
