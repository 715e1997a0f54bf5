#include "comfy/comfy_source.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <sys/file.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <random>
#include <thread>
#include <vector>

#include "comfy/comfy_server.h"
#include "comfy/http.h"
#include "comfy/job_queue.h"
#include "comfy/prompt_run.h"
#include "comfy/protocol.h"
#include "core/files.h"
#include "core/numeric.h"

namespace dw::comfy {

using pipeline::Keyframe;
using pipeline::KeyframeRequest;
using std::chrono::milliseconds;

WorkflowValues workflow_values_from(const ComfyConfig& c) {
  WorkflowValues v;
  v.checkpoint = c.checkpoint;
  v.steps = c.steps;
  v.cfg = c.cfg;
  v.denoise = c.denoise;
  v.sampler = c.sampler;
  v.scheduler = c.scheduler;
  v.width = keyframe_dimension(c.width);
  v.height = keyframe_dimension(c.height);
  return v;
}

ComfySourceOptions options_from_config(const ComfyConfig& c) {
  ComfySourceOptions o;
  for (const auto& url : c.urls) o.urls.push_back(normalise_base_url(url));
  o.workflow = c.workflow;
  o.bindings = c.bindings;
  o.defaults = workflow_values_from(c);
  o.in_flight = std::max(1, c.in_flight);
  o.request_timeout_s = c.request_timeout_s;
  o.stall_timeout_s = c.stall_timeout_s;
  o.connect_timeout_s = c.connect_timeout_s;
  o.retry_max_s = c.retry_max_s;
  o.upload_prefix = stable_upload_prefix();
  return o;
}

namespace {

// The first line of a small file, or "" when it cannot be read.
std::string first_line_of(const std::filesystem::path& path) {
  try {
    const std::vector<std::uint8_t> bytes = read_file(path.string(), 4096);
    std::string line(bytes.begin(), bytes.end());
    line = line.substr(0, line.find('\n'));
    return line;
  } catch (const std::exception&) {
    return {};
  }
}

std::string claim_upload_prefix() {
  namespace fs = std::filesystem;
  const std::string install = comfy_install_id();
  // A slot per running instance: the lowest one whose lock file nobody holds. The descriptor
  // stays open (and locked) for the life of the process.
  const char* runtime = std::getenv("XDG_RUNTIME_DIR");
  const fs::path dir = runtime && *runtime ? fs::path(runtime) : fs::temp_directory_path();
  for (int slot = 0; slot < 16; ++slot) {
    const fs::path lock = dir / fmt::format("dreamwindow-comfy-{}-{}.lock", install, slot);
    const int fd = ::open(lock.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0) break;
    if (::flock(fd, LOCK_EX | LOCK_NB) == 0)
      return fmt::format("dreamwindow-{}-s{}", install, slot);
    ::close(fd);
  }
  return {};  // no slot: a name of this run's own
}

}  // namespace

std::string comfy_install_id() {
  const std::filesystem::path token_file = std::filesystem::path(xdg_dir("STATE")) / "install-id";
  std::string token = first_line_of(token_file);
  if (token.size() != 16 || token.find_first_not_of("0123456789abcdef") != std::string::npos) {
    std::random_device random;
    const std::uint64_t bits = (static_cast<std::uint64_t>(random()) << 32) ^ random();
    token = fmt::format("{:016x}", bits);
    try {
      write_file_atomic(token_file.string(), token + "\n");
    } catch (const std::exception& e) {
      // Still unique to this run; the server's input folder gets this run's files beside the
      // last run's.
      spdlog::warn("comfy: cannot keep this install's id in {}: {}", token_file.string(), e.what());
    }
  }
  // The machine's own id too: clones of one disk image that kept the state folder still differ
  // when their machine ids were made anew, as they should be.
  const std::string machine = first_line_of("/etc/machine-id");
  return fmt::format("{:08x}", static_cast<std::uint32_t>(std::hash<std::string>{}(fmt::format(
                                   "{}/{}/{}", token, machine, static_cast<unsigned>(getuid())))));
}

std::string stable_upload_prefix() {
  static const std::string prefix = claim_upload_prefix();  // one slot per process
  return prefix;
}

ComfyKeyframeSource::ComfyKeyframeSource(ComfySourceOptions options)
    : options_(std::move(options)),
      workflow_(Workflow::load(options_.workflow, options_.bindings)),
      board_(std::make_unique<StatsBoard>()) {
  if (options_.urls.empty()) throw InputError("comfy.urls: no ComfyUI server address given");
  const std::size_t lanes = static_cast<std::size_t>(std::max(1, options_.in_flight));
  const std::size_t capacity = lanes * options_.urls.size() + 2;
  jobs_ =
      std::make_unique<JobQueue>(capacity, Backoff{options_.retry_base_s, options_.retry_max_s});
  pngs_ = std::make_unique<RecentPngs>(std::min<std::size_t>(8, capacity));
  const SourceContext ctx{options_, workflow_, *board_, [this] { return current_values(); }};
  for (const auto& url : options_.urls)
    servers_.push_back(std::make_unique<ComfyServer>(normalise_base_url(url), ctx));
  spdlog::info("comfy: workflow '{}' (keyframe from node {} {}), {} server(s), {} in flight each",
               workflow_.what(), workflow_.image_output().id, workflow_.image_output().class_type,
               servers_.size(), lanes);
  for (auto& s : servers_) {
    ComfyServer& server = *s;
    server.start();
    for (std::size_t lane = 0; lane < lanes; ++lane)
      lanes_.emplace_back([this, &server, lane](std::stop_token st) {
        run_lane(server, static_cast<int>(lane), st);
      });
  }
}

ComfyKeyframeSource::~ComfyKeyframeSource() {
  stop();
}

std::string ComfyKeyframeSource::name() const {
  std::vector<std::string> urls;
  for (const auto& s : servers_) urls.push_back(s->url);
  return fmt::format("comfy {}", fmt::join(urls, " "));
}

std::size_t ComfyKeyframeSource::capacity() const {
  const auto up =
      std::count_if(servers_.begin(), servers_.end(), [](const auto& s) { return s->usable(); });
  return static_cast<std::size_t>(std::max(1, options_.in_flight)) *
         std::max<std::size_t>(1, static_cast<std::size_t>(up));
}

bool ComfyKeyframeSource::healthy() const {
  return std::any_of(servers_.begin(), servers_.end(), [](const auto& s) { return s->usable(); });
}

bool ComfyKeyframeSource::came_up() const {
  return std::any_of(servers_.begin(), servers_.end(), [](const auto& s) { return s->came_up(); });
}

bool ComfyKeyframeSource::submit(KeyframeRequest request) {
  return jobs_->submit(std::move(request));
}

std::optional<Keyframe> ComfyKeyframeSource::next(std::stop_token stop, milliseconds timeout) {
  return jobs_->next(stop, timeout);
}

std::size_t ComfyKeyframeSource::pending() const {
  return jobs_->pending();
}

void ComfyKeyframeSource::cancel(std::uint64_t index) {
  jobs_->cancel(index);
}

bool ComfyKeyframeSource::release(std::uint64_t index) {
  return jobs_->release(index);
}

// ---- the lanes: one request at a time each ---------------------------------------------------

void ComfyKeyframeSource::run_lane(ComfyServer& s, int lane, std::stop_token stop) {
  HttpClient http({options_.connect_timeout_s, options_.request_timeout_s,
                   std::max(options_.image_limits.max_bytes, std::size_t{1} << 20)});
  http.set_stop_token(stop);
  // One input file per lane, overwritten by each upload: nothing piles up on the server.
  const std::string prefix = options_.upload_prefix.empty()
                                 ? "dreamwindow-" + s.client_id.substr(0, 8)
                                 : options_.upload_prefix;
  const std::string upload_name =
      fmt::format("{}-{:08x}-{}.png", prefix,
                  static_cast<std::uint32_t>(std::hash<std::string>{}(s.url)), lane);
  while (!stop.stop_requested()) {
    if (!s.usable()) {
      std::unique_lock lock(s.mutex);
      s.cv.wait_for(lock, stop, milliseconds(250), [&s] { return false; });
      continue;
    }
    auto job = jobs_->take(stop, milliseconds(250));
    if (job && !run_one(s, http, upload_name, std::move(job), stop)) break;
  }
}

// Runs one request; false when stopping.
bool ComfyKeyframeSource::run_one(ComfyServer& s, HttpClient& http, const std::string& upload_name,
                                  std::shared_ptr<Job> job, std::stop_token stop) {
  const auto fail = [&](const std::string& message, std::uint64_t ComfyStats::*counter, bool warn) {
    const std::string what = fmt::format("keyframe {}: {}", job->request.index, message);
    if (warn)
      spdlog::warn("comfy: {}", what);
    else
      spdlog::error("comfy: {}", what);
    s.record_error(what, counter);
  };
  try {
    Keyframe k = run_prompt(
        PromptRun{s, http, upload_name,
                  SourceContext{options_, workflow_, *board_, [this] { return current_values(); }},
                  *pngs_},
        *job, stop);
    s.delivered();
    if (!job->cancelled) board_->add(&ComfyStats::keyframes);  // counted before next() sees it
    jobs_->deliver(job, std::move(k), stop);
    return true;
  } catch (const Cancelled&) {
    if (!stop.stop_requested() && job->cancelled) return true;  // abandoned while being sent
    jobs_->give_back(std::move(job));
    return false;
  } catch (const JobCancelled&) {
    return true;
  } catch (const ServerError& e) {
    fail(e.what(), &ComfyStats::server_errors, false);
    if (e.workflow_invalid()) s.revalidate();  // before the next prompt goes to this server
  } catch (const TransportError& e) {
    fail(e.what(), &ComfyStats::transport_errors, true);
    s.reconnect();
    s.set_healthy(false);
  } catch (const std::exception& e) {  // a malformed or oversized answer
    fail(e.what(), &ComfyStats::server_errors, false);
  }
  board_->add(&ComfyStats::failed_attempts);
  jobs_->retry_later(std::move(job));
  return true;
}

// ---- status and shutdown ---------------------------------------------------------------------

ComfyStats ComfyKeyframeSource::stats() const {
  ComfyStats out;
  {
    std::lock_guard lock(board_->mutex);
    out = board_->stats;
  }
  out.settings = current_values();
  for (const auto& s : servers_) {
    out.servers.push_back(s->line());
    const auto [value, max] = s->progress();
    if (max > 0) out.progress_value = value, out.progress_max = max;
  }
  return out;
}

WorkflowValues ComfyKeyframeSource::current_values() const {
  if (!options_.live_values) return options_.defaults;
  WorkflowValues v = options_.live_values();
  // The size is fixed for the run (the frame ring and the VAE plans are sized by it).
  v.width = options_.defaults.width;
  v.height = options_.defaults.height;
  return v;
}

pipeline::SourceHealth ComfyKeyframeSource::health() const {
  const ComfyStats s = stats();
  pipeline::SourceHealth h;
  h.errors = s.transport_errors + s.server_errors;
  h.last_error = s.last_error;
  h.counters = {{"keyframes", double(s.keyframes)},
                {"failed_attempts", double(s.failed_attempts)},
                {"transport_errors", double(s.transport_errors)},
                {"server_errors", double(s.server_errors)},
                {"stalls", double(s.stalls)},
                {"lost", double(s.lost)},
                {"uploads_reused", double(s.uploads_reused)},
                {"bytes_sent", double(s.bytes_sent)},
                {"bytes_received", double(s.bytes_received)},
                {"progress_value", double(s.progress_value)},
                {"progress_max", double(s.progress_max)}};
  h.servers = s.servers;
  pipeline::GenerationSettings g;
  g.checkpoint = s.settings.checkpoint;
  g.steps = s.settings.steps;
  g.cfg = s.settings.cfg;
  g.denoise = s.settings.denoise;
  g.sampler = s.settings.sampler;
  g.scheduler = s.settings.scheduler;
  g.progress_value = s.progress_value;
  g.progress_max = s.progress_max;
  for (const auto& server : servers_)
    if (g.offered.empty()) g.offered = server->offered();  // the first validated server's
  h.settings = std::move(g);
  return h;
}

void ComfyKeyframeSource::stop() {
  if (!jobs_->close()) return;
  for (auto& s : servers_) s->request_stop();
  for (auto& lane : lanes_) lane.request_stop();
  // Join first: what the stopped lanes left behind is then known and final.
  for (auto& lane : lanes_)
    if (lane.joinable()) lane.join();
  for (auto& s : servers_) s->join();
  // All servers at once: one after another, a few slow ones would add up their timeouts and keep
  // the program past the service manager's stop timeout.
  std::vector<std::jthread> cleaning;
  for (auto& s : servers_) cleaning.emplace_back([&s] { s->clean_up(); });
}

}  // namespace dw::comfy
