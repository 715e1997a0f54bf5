#include "app/sighup_reload.h"

#include <fcntl.h>
#include <poll.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <csignal>

#include "core/error.h"

namespace dw {
namespace {

std::atomic<bool> g_hup{false};
int g_pipe[2] = {-1, -1};
struct sigaction g_previous {};

extern "C" void on_sighup(int) {
  const int saved = errno;
  g_hup.store(true);
  const char byte = 'h';
  [[maybe_unused]] const ssize_t n = write(g_pipe[1], &byte, 1);  // full pipe: the flag is set
  errno = saved;
}

}  // namespace

SighupReload::SighupReload(std::function<void()> on_hup) : on_hup_(std::move(on_hup)) {
  DW_CHECK(g_pipe[0] < 0, "only one SIGHUP reloader at a time");
  if (pipe2(g_pipe, O_NONBLOCK | O_CLOEXEC) != 0)
    throw Error("SIGHUP reload: cannot create its pipe");
  g_hup.store(false);
  struct sigaction action {};
  action.sa_handler = on_sighup;
  sigemptyset(&action.sa_mask);
  action.sa_flags = SA_RESTART;
  sigaction(SIGHUP, &action, &g_previous);
  thread_ = std::jthread([this](std::stop_token stop) { run(stop); });
}

SighupReload::~SighupReload() {
  sigaction(SIGHUP, &g_previous, nullptr);
  thread_.request_stop();
  if (thread_.joinable()) thread_.join();
  close(g_pipe[0]);
  close(g_pipe[1]);
  g_pipe[0] = g_pipe[1] = -1;
}

void SighupReload::run(std::stop_token stop) {
  while (!stop.stop_requested()) {
    pollfd fd{g_pipe[0], POLLIN, 0};
    poll(&fd, 1, 200);  // the pipe wakes it at once; the timeout only lets a stop be seen
    char drain[64];
    while (read(g_pipe[0], drain, sizeof drain) > 0) {
    }
    if (g_hup.exchange(false) && !stop.stop_requested()) on_hup_();
  }
}

}  // namespace dw
