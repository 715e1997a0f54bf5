#include "remote/http_server.h"

#include <arpa/inet.h>
#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <functional>
#include <mutex>
#include <utility>
#include <vector>

#include "core/error.h"
#include "core/stop_sleep.h"

namespace dw::remote {
namespace {

// httplib's own pool serves connections oldest first, so a burst of idle connections (a port
// scanner, a stuck scraper) holds up the next real request for all of their timeouts. This one
// takes the newest job first; the older ones run when a thread is free and end at their timeout.
class NewestFirstPool final : public httplib::TaskQueue {
 public:
  NewestFirstPool(std::size_t threads, std::size_t max_queued) : max_queued_(max_queued) {
    for (std::size_t i = 0; i < threads; ++i) threads_.emplace_back([this] { work(); });
  }
  ~NewestFirstPool() override { shutdown(); }

  // On the accept thread. A flood beyond max_queued waiting connections sheds the oldest ones
  // here and now (closed unread: quick), so their descriptors do not pile up.
  void enqueue(std::function<void()> job) override {
    std::vector<std::function<void()>> shed;
    {
      std::lock_guard lock(mutex_);
      jobs_.push_back(std::move(job));
      while (jobs_.size() > max_queued_) {
        shed.push_back(std::move(jobs_.front()));
        jobs_.pop_front();
      }
    }
    wake_.notify_one();
    if (shed.empty()) return;
    const ShedConnections closing;
    for (auto& j : shed) run(j);
  }

  // Runs what is queued (each ends at once: the server has stopped) and joins the threads.
  void shutdown() override {
    {
      std::lock_guard lock(mutex_);
      stopping_ = true;
    }
    wake_.notify_all();
    for (std::thread& t : threads_)
      if (t.joinable()) t.join();
  }

 private:
  static void run(std::function<void()>& job) {
    try {
      job();
    } catch (const std::exception& e) {  // a handler's error must not end the thread
      spdlog::warn("http: {}", e.what());
    }
  }

  void work() {
    while (true) {
      std::function<void()> job;
      {
        std::unique_lock lock(mutex_);
        wake_.wait(lock, [this] { return stopping_ || !jobs_.empty(); });
        if (jobs_.empty()) return;
        job = std::move(jobs_.back());
        jobs_.pop_back();
      }
      run(job);
    }
  }

  const std::size_t max_queued_;
  std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<std::function<void()>> jobs_;
  bool stopping_ = false;
  std::vector<std::thread> threads_;
};

// SO_REUSEADDR (a restart binds again at once) but not httplib's default SO_REUSEPORT, which
// would let a second program share the port silently.
void listen_socket_options(socket_t fd) {
  const int yes = 1;
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
}

ConnectionLimits connection_limits(const HttpLimits& l) {
  ConnectionLimits c;
  c.idle = l.idle;
  c.read_timeout = l.read_timeout;
  c.write_timeout = l.write_timeout;
  c.request_deadline = l.request_deadline;
  c.max_request_bytes = l.max_header_bytes + l.max_body_bytes;
  c.max_requests = std::max<std::size_t>(l.max_requests_per_connection, 1);
  return c;
}

// Whether a failed bind can succeed later with the same address and port: the address appears
// (DHCP), the port is let go (a previous instance ending), descriptors or buffers are freed.
// Anything else (EACCES for a port below 1024, EAFNOSUPPORT with IPv6 off, a host name that does
// not resolve) needs the configuration or the machine changed: waiting would only hide it.
bool waiting_can_mend(const std::string& address, int err) {
  in6_addr numeric{};
  if (inet_pton(AF_INET, address.c_str(), &numeric) != 1 &&
      inet_pton(AF_INET6, address.c_str(), &numeric) != 1)
    return false;
  return err == EADDRNOTAVAIL || err == EADDRINUSE || err == EMFILE || err == ENFILE ||
         err == ENOBUFS || err == ENOMEM;
}

// Why a bind failed, from the errno it left (none when the address did not resolve).
std::string bind_failure(int err) {
  return err != 0 ? std::strerror(err) : "address not available";
}

}  // namespace

HttpServer::HttpServer(const std::string& address, std::uint16_t port, HttpLimits limits)
    : server_(std::make_unique<GuardedServer>(connection_limits(limits))),
      address_(address),
      limits_(limits) {
  const std::size_t threads = std::max<std::size_t>(limits_.threads, 1);
  const std::size_t max_queued = std::max<std::size_t>(limits_.max_queued, 1);
  server_->new_task_queue = [threads, max_queued] {
    return new NewestFirstPool(threads, max_queued);
  };
  server_->set_socket_options(listen_socket_options);
  // httplib writes the headers and the body separately: with Nagle's algorithm each answer waited
  // for the client's delayed ACK (about 40 ms per request, measured).
  server_->set_tcp_nodelay(true);
  // Timeouts and the keep-alive count are GuardedServer's (its connections are read through its
  // own stream); the declared body size is still httplib's to refuse with 413.
  server_->set_payload_max_length(limits_.max_body_bytes);
  errno = 0;
  int bound = -1;
  if (port == 0)
    bound = server_->bind_to_any_port(address);
  else if (server_->bind_to_port(address, port))
    bound = port;
  if (bound <= 0) {
    const int err = errno;
    if (port == 0 || !waiting_can_mend(address, err))
      throw Error(fmt::format("cannot listen on {}:{}: {}", address, port, bind_failure(err)));
    port_ = port;
    bind_failed(err, "");
    return;  // serve() binds it
  }
  port_ = static_cast<std::uint16_t>(bound);
  bound_at_start_ = true;
}

HttpServer::~HttpServer() {
  stop();
}

std::string HttpServer::waiting_to_bind() const {
  return bind_failure_.why();
}

bool HttpServer::try_bind(std::string_view again) {
  errno = 0;
  if (server_->bind_to_port(address_, port_)) return true;
  bind_failed(errno, again);
  return false;
}

void HttpServer::bind_failed(int err, std::string_view again) {
  const std::string why = bind_failure(err);
  if (bind_failure_.note(why))  // the first failure and each new reason, not every try
    spdlog::error("http: cannot listen on {}:{}{}: {}; retrying", address_, port_, again, why);
}

void HttpServer::start(OnListening on_listening) {
  if (thread_.joinable() || stopped_) return;
  thread_ = std::jthread([this, on_listening = std::move(on_listening)](std::stop_token stop) {
    serve(stop, on_listening);
    serving_ended_.store(true);
  });
  // stop() is only heard once the accept loop runs; until then the socket already queues
  // connections, so this wait is short and nothing is lost meanwhile. A socket still to be bound
  // is not waited for: that may take weeks.
  while (bound_at_start_ && !server_->is_running() && !serving_ended_.load())
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
}

// A socket not bound at start is bound here first. httplib's accept loop ends by itself on an
// accept error other than EMFILE, EINTR or EAGAIN (ENFILE, ENOBUFS, ENOMEM, a socket shut down
// under it), closing the socket: the remote would be gone for good while status still said it
// listened. It is bound and served again here. Both bind with a back-off while the port cannot
// be had. A socket once bound is always served, even when stopping: the accept loop is what
// closes it.
void HttpServer::serve(std::stop_token stop, const OnListening& on_listening) {
  if (!bound_at_start_ && !retry_unless_stopped(stop, [this] { return try_bind(""); })) return;
  for (bool first = true;; first = false) {
    listening_.store(true);
    bind_failure_.clear();
    if (first && on_listening && !stop.stop_requested()) {
      const std::chrono::duration<double> waited = std::chrono::steady_clock::now() - created_;
      on_listening(bound_at_start_ ? ""
                                   : fmt::format(" after {:.1f} s of retrying", waited.count()));
    } else if (!first) {
      spdlog::info("http: listening on {}:{} again", address_, port_);
    }
    server_->listen_after_bind();
    listening_.store(false);
    if (stop.stop_requested()) return;
    relistens_.fetch_add(1);
    spdlog::error("http: {}:{} stopped accepting connections; listening again", address_, port_);
    if (!retry_unless_stopped(stop, [this] { return try_bind(" again"); })) return;
  }
}

void HttpServer::stop() {
  if (stopped_) return;
  if (!thread_.joinable()) start();  // the accept loop is what closes the bound socket
  stopped_ = true;
  thread_.request_stop();  // ends a back-off; a loop starting anew is stopped below
  while (!serving_ended_.load()) {
    if (server_->is_running()) server_->stop();
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  thread_.join();
}

}  // namespace dw::remote
