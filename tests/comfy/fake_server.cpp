#include "fake_server.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <stdexcept>
#include <string>
#include <thread>

#include "comfy/http.h"

extern char** environ;

namespace dw::test {
namespace {

using Clock = std::chrono::steady_clock;

comfy::HttpClient control_client() {
  return comfy::HttpClient({1.0, 5.0, 16u << 20});
}

}  // namespace

FakeComfy::FakeComfy(std::chrono::milliseconds ready_within) {
  int out[2];
  if (pipe2(out, O_CLOEXEC) != 0) throw std::runtime_error("pipe failed");
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, out[1], STDOUT_FILENO);
  std::string python = DW_TEST_PYTHON, script = DW_FAKE_COMFY_SCRIPT;
  std::string a0 = python, a1 = script, a2 = "--port", a3 = "0";
  char* argv[] = {a0.data(), a1.data(), a2.data(), a3.data(), nullptr};
  const int rc = posix_spawn(&pid_, python.c_str(), &actions, nullptr, argv, environ);
  posix_spawn_file_actions_destroy(&actions);
  close(out[1]);
  if (rc != 0) {
    close(out[0]);
    throw std::runtime_error("cannot start " + python + " " + script);
  }
  // The server prints "PORT <n>" once it listens.
  const auto deadline = Clock::now() + ready_within;
  std::string line;
  while (line.find('\n') == std::string::npos) {
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    pollfd p{out[0], POLLIN, 0};
    if (left.count() <= 0 || poll(&p, 1, static_cast<int>(left.count())) <= 0) break;
    char buf[64];
    const ssize_t n = read(out[0], buf, sizeof buf);
    if (n <= 0) break;
    line.append(buf, static_cast<std::size_t>(n));
  }
  close(out[0]);
  if (line.rfind("PORT ", 0) != 0) {
    kill(pid_, SIGKILL);
    waitpid(pid_, nullptr, 0);
    throw std::runtime_error("the fake ComfyUI server did not start (needs python3-aiohttp): '" +
                             line + "'");
  }
  port_ = static_cast<std::uint16_t>(std::stoi(line.substr(5)));
  url_ = "http://127.0.0.1:" + std::to_string(port_);
  if (!wait_ready(std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now())))
    throw std::runtime_error("the fake ComfyUI server does not answer at " + url_);
}

void FakeComfy::freeze() {
  kill(pid_, SIGSTOP);
}

void FakeComfy::thaw() {
  kill(pid_, SIGCONT);
}

FakeComfy::~FakeComfy() {
  if (pid_ <= 0) return;
  kill(pid_, SIGCONT);  // a frozen server could not handle the SIGTERM
  kill(pid_, SIGTERM);
  const auto deadline = Clock::now() + std::chrono::seconds(3);
  while (waitpid(pid_, nullptr, WNOHANG) == 0) {
    if (Clock::now() > deadline) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
      return;
    }
    pollfd none{};
    poll(&none, 0, 10);  // a short pause while the process exits
  }
}

bool FakeComfy::wait_ready(std::chrono::milliseconds within) {
  const auto deadline = Clock::now() + within;
  auto http = control_client();
  while (Clock::now() < deadline) {
    try {
      if (http.get(url_ + "/system_stats").ok()) return true;
    } catch (const std::exception&) {
      // not listening yet
    }
    pollfd none{};
    poll(&none, 0, 20);
  }
  return false;
}

void FakeComfy::fault(const std::string& kind, int count, double seconds) {
  auto http = control_client();
  const auto r =
      http.post_json(url_ + "/_control/fault",
                     nlohmann::json{{"kind", kind}, {"count", count}, {"seconds", seconds}}.dump());
  if (!r.ok()) throw std::runtime_error("fault '" + kind + "' refused: " + r.body);
}

void FakeComfy::busy_with_another_client(double seconds) {
  fault("latency", 0, seconds);
  auto http = control_client();
  const auto r = http.post_json(url_ + "/prompt", R"({"client_id": "someone-else",
      "prompt": {"1": {"class_type": "EmptyLatentImage", "inputs": {"width": 64, "height": 64,
      "batch_size": 1}}, "2": {"class_type": "SaveLatent", "inputs": {"samples": ["1", 0],
      "filename_prefix": "other"}}}})");
  if (r.status != 200) throw std::runtime_error("another client's job refused: " + r.body);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (!stats().value("running", false)) {
    if (std::chrono::steady_clock::now() > deadline)
      throw std::runtime_error("another client's job never started");
    pollfd none{};
    poll(&none, 0, 20);
  }
  fault("latency", 0, 0.0);  // the running job keeps its time
}

nlohmann::json FakeComfy::stats() {
  auto http = control_client();
  const auto r = http.get(url_ + "/_control/stats");
  if (!r.ok()) throw std::runtime_error("stats: HTTP " + std::to_string(r.status));
  return nlohmann::json::parse(r.body);
}

}  // namespace dw::test
