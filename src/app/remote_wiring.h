// The app's web remote (remote/http_api.h) from remote.*: started before the pipeline so status
// can say where it listens, fed the pipeline's status once that runs.
//
//   auto remote = start_remote(*config.get(), editor, actions, hooks);  // sets remote_status
//   pipeline::Pipeline dream(config, ring, hooks);
//   auto remote_feed = remote->feed_status(dream);
//   ...
//   remote_feed.reset();  // waits for a status request under way; then dream may stop
//   dream.stop();
#pragma once

#include <memory>
#include <string>

#include "core/actions.h"
#include "core/config.h"
#include "core/listen_address.h"
#include "core/param_editor.h"
#include "pipeline/pipeline.h"

namespace dw {

namespace remote {
class HttpApi;
}

class RemoteControl {
 public:
  // While alive, the remote's status endpoints report `dream`; detaches (waiting for requests in
  // flight) when destroyed.
  class Feed {
   public:
    explicit Feed(remote::HttpApi* api) : api_(api) {}
    ~Feed();
    Feed(const Feed&) = delete;
    Feed& operator=(const Feed&) = delete;

   private:
    remote::HttpApi* api_;
  };

  RemoteControl(const Config& config, ParamEditor& editor, ActionTable& actions);
  ~RemoteControl();

  [[nodiscard]] std::unique_ptr<Feed> feed_status(const pipeline::Pipeline& dream);
  pipeline::RemoteStatus status() const;

 private:
  std::unique_ptr<remote::HttpApi> api_;
  std::string address_;         // remote.address and remote.port, for status while waiting
  int port_ = 0;                // to bind them
  AddressWatch address_watch_;  // whether remote.address is still the machine's, for status
  std::string state_ = "off";   // while there is no remote: "off" or "failed: <why>"
};

// Starts the remote when remote.enabled and points hooks.remote_status at it. A fixed port that
// cannot be bound yet (an address DHCP has not given yet, a port still held) is tried again, and
// status says why meanwhile; other failures are logged, and the picture runs on without a remote.
std::unique_ptr<RemoteControl> start_remote(const Config& config, ParamEditor& editor,
                                            ActionTable& actions, pipeline::PipelineHooks& hooks);

// remote.token_file, or remote_token beside the config file `config_path`.
std::string remote_token_path(const Config& config, const std::string& config_path);

}  // namespace dw
