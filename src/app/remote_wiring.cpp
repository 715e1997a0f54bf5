#include "app/remote_wiring.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string_view>

#include "core/paths.h"
#include "pipeline/metrics_table.h"
#include "remote/http_api.h"
#include "remote/remote_token.h"

namespace dw {
namespace {

constexpr std::string_view kMissingPage =
    "<!doctype html><meta charset=utf-8><title>dreamwindow</title><p>The web remote's page "
    "(assets/remote/index.html) was not found; the API at /api/params, /api/actions and "
    "/api/status works.";

std::string load_page() {
  if (const auto path = find_data_path("assets/remote/index.html")) {
    std::ifstream in(*path, std::ios::binary);
    std::stringstream text;
    text << in.rdbuf();
    if (in && !text.str().empty()) return text.str();
  }
  spdlog::warn("remote: assets/remote/index.html not found; serving the API only");
  return std::string(kMissingPage);
}

remote::HttpApiOptions options_from(const Config& config, const std::string& config_path) {
  const RemoteConfig& r = config.remote;
  remote::HttpApiOptions o;
  o.address = r.address;
  o.port = static_cast<std::uint16_t>(r.port);
  o.max_clients = static_cast<std::size_t>(r.max_clients);
  if (r.require_token || !remote::loopback_address(r.address))
    o.token = remote::load_or_create_token(remote_token_path(config, config_path));
  o.page = load_page();
  return o;
}

}  // namespace

std::string remote_token_path(const Config& config, const std::string& config_path) {
  if (!config.remote.token_file.empty()) return config.remote.token_file;
  const std::string file = config_path.empty() ? default_config_path() : config_path;
  return (std::filesystem::path(file).parent_path() / "remote_token").string();
}

RemoteControl::RemoteControl(const Config& config, ParamEditor& editor, ActionTable& actions)
    : address_(config.remote.address),
      port_(config.remote.port),
      address_watch_(config.remote.address) {
  if (!config.remote.enabled) return;
  try {
    remote::HttpApiOptions options = options_from(config, editor.save_path());
    const std::string how =
        options.token.empty()
            ? "loopback only, no token"
            : fmt::format("token required, in {}", remote_token_path(config, editor.save_path()));
    // Logged once it listens: at once, or when a port that could not be had at start is bound.
    options.on_listening = [how](const std::string& url, std::string_view retried) {
      spdlog::info("remote: listening on {}{} ({})", url, retried, how);
    };
    api_ = std::make_unique<remote::HttpApi>(std::move(options), editor, actions);
  } catch (const std::exception& e) {
    // The picture matters more than the remote: run on without it, and say so in status.
    state_ = fmt::format("failed: {}", e.what());
    spdlog::warn("remote: {}; the web remote is off", e.what());
  }
}

RemoteControl::~RemoteControl() = default;

std::unique_ptr<RemoteControl::Feed> RemoteControl::feed_status(const pipeline::Pipeline& dream) {
  if (api_)
    api_->attach_status({[&dream] { return pipeline::status_to_json(dream.status()); },
                         [&dream] { return pipeline::status_to_prometheus(dream.status()); }});
  return std::make_unique<Feed>(api_.get());
}

RemoteControl::Feed::~Feed() {
  if (api_) api_->detach_status();
}

pipeline::RemoteStatus RemoteControl::status() const {
  pipeline::RemoteStatus s;
  s.state = state_;
  if (api_) {
    const std::string why = api_->waiting_to_bind();
    if (!why.empty())
      s.state =
          fmt::format("waiting to bind to remote.address = {}, remote.port = {}: {}; retrying",
                      address_, port_, why);
    else if (!api_->listening())
      s.state = "not listening: starting again";
    else if (address_watch_.gone())
      s.state = fmt::format(
          "unreachable: bound to remote.address = {}, which this machine no longer has; the "
          "remote answers again once the address returns",
          address_);
    else
      s.state = "listening";
    if (why.empty()) s.url = api_->url();
    s.token_required = api_->token_required();
    s.requests = api_->requests();
    s.relistens = api_->relistens();
  }
  return s;
}

std::unique_ptr<RemoteControl> start_remote(const Config& config, ParamEditor& editor,
                                            ActionTable& actions, pipeline::PipelineHooks& hooks) {
  auto remote = std::make_unique<RemoteControl>(config, editor, actions);
  hooks.remote_status = [r = remote.get()] { return r->status(); };
  return remote;
}

}  // namespace dw
