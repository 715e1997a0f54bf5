#include "app/service_notify.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <systemd/sd-daemon.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>

namespace dw::service {
namespace {

constexpr auto kFirstFramePoll = std::chrono::milliseconds(100);
constexpr auto kMaxSample = std::chrono::seconds(1);
constexpr auto kStatusEvery = std::chrono::seconds(4);

Clock::duration seconds_to_duration(double s) {
  return std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(s));
}

}  // namespace

ServiceNotifier::ServiceNotifier(NotifierParts parts) : parts_(std::move(parts)) {
  const char* socket = std::getenv("NOTIFY_SOCKET");
  if (socket == nullptr || *socket == '\0') return;
  std::uint64_t usec = 0;
  if (sd_watchdog_enabled(0, &usec) > 0 && usec > 0)
    ping_every_ = std::chrono::microseconds(usec / 2);
  report_.under_systemd = true;
  report_.watchdog_s =
      ping_every_.count() ? 2 * std::chrono::duration<double>(ping_every_).count() : 0.0;
  report_.watchdog = "waiting for the first frame";
  spdlog::info("service: systemd notification socket set; watchdog {}",
               ping_every_.count() ? fmt::format("every {:.1f} s", report_.watchdog_s) : "off");
  thread_ = std::jthread([this](std::stop_token stop) { run(stop); });
}

ServiceNotifier::~ServiceNotifier() {
  stop();
}

void ServiceNotifier::stop() {
  if (!thread_.joinable()) return;
  thread_.request_stop();
  thread_.join();
  send("STOPPING=1\nSTATUS=stopping");
}

NotifierReport ServiceNotifier::report() const {
  std::lock_guard lock(mutex_);
  return report_;
}

void ServiceNotifier::send(const std::string& message) {
  const int r = sd_notify(0, message.c_str());
  if (r < 0) spdlog::warn("service: sd_notify failed: {}", std::strerror(-r));
}

bool ServiceNotifier::wait(std::stop_token& stop, std::chrono::milliseconds period) {
  std::unique_lock lock(mutex_);
  wake_.wait_for(lock, stop, period, [] { return false; });
  return !stop.stop_requested();
}

void ServiceNotifier::wait_for_first_frame(std::stop_token& stop) {
  while (wait(stop, kFirstFramePoll))
    if (parts_.status().display.frames_presented > 0) {
      send("READY=1\nSTATUS=first frame shown");
      std::lock_guard lock(mutex_);
      report_.ready_at_s = std::chrono::duration<double>(Clock::now() - started_).count();
      report_.watchdog = ping_every_.count() ? "ok" : "off (no WatchdogSec)";
      return;
    }
}

void ServiceNotifier::judge_and_ping(WatchdogJudge& judge) {
  const auto cfg = parts_.config.get();
  judge.set_window(seconds_to_duration(cfg->stall_s));
  const bool paused = parts_.commands != nullptr && parts_.commands->generation_paused();
  const pipeline::StatusSnapshot snapshot = parts_.status();
  const Clock::time_point now = Clock::now();
  const WatchdogVerdict verdict = judge.observe(now, sample_from(snapshot, paused));
  std::string message;
  if (verdict.healthy && ping_every_.count() && now - last_ping_ >= ping_every_) {
    message = "WATCHDOG=1";
    last_ping_ = now;
  }
  if (verdict.healthy != last_healthy_) {
    if (verdict.healthy)
      spdlog::info("service: the watchdog is satisfied again; pings resume");
    else
      spdlog::error("service: {}; watchdog pings stop, so systemd restarts dreamwindow",
                    verdict.reason);
  }
  if (verdict.healthy != last_healthy_ || now - last_status_ >= kStatusEvery) {
    message += (message.empty() ? "" : "\n") + ("STATUS=" + status_line(snapshot, verdict, paused));
    last_status_ = now;
  }
  last_healthy_ = verdict.healthy;
  if (!message.empty()) send(message);
  std::lock_guard lock(mutex_);
  if (ping_every_.count()) report_.watchdog = verdict.healthy ? "ok" : "stalled: " + verdict.reason;
  report_.pings += message.starts_with("WATCHDOG=1");
}

void ServiceNotifier::run(std::stop_token stop) {
  wait_for_first_frame(stop);
  WatchdogJudge judge(seconds_to_duration(parts_.config.get()->stall_s));
  const auto sample_every = std::chrono::duration_cast<std::chrono::milliseconds>(
      ping_every_.count() ? std::min<Clock::duration>(ping_every_, kMaxSample) : kMaxSample);
  while (!stop.stop_requested()) {
    judge_and_ping(judge);
    if (!wait(stop, sample_every)) break;
  }
}

}  // namespace dw::service
