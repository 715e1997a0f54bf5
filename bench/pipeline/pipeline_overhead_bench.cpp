// What the pipeline itself costs per content frame, decode excluded: the real Pipeline
// (orchestrator, interpolation worker, cache worker with its features and similarity matrix, prompt
// source, status writer) fed by a keyframe source that answers at once, and a VAE backend whose
// "decode" writes nothing (its slerp is the real one). A consumer thread drains the ring as fast as
// it can, so the pipeline is the only thing that limits the rate.
//
//   bench_pipeline [--size 512] [--frames 20000] [--between 10] [--fake-comfy]
//
// --fake-comfy: keyframes from the fake ComfyUI server (tests/comfy/fake_comfy.py, no generation
// latency) through the real client (HTTP, WebSocket, PNG codecs) instead of the instant source;
// the server is a separate process, so the CPU column is still this program's own.
//
// Prints frames per second, wall time per frame and CPU time per frame (all threads of the
// process). The target: under 1 ms per frame of overhead.
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <ctime>
#include <deque>
#include <filesystem>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "core/config_store.h"
#include "core/frame_ring.h"
#include "pipeline/keyframe_source.h"
#include "pipeline/pipeline.h"
#include "vae/backend.h"
#include "vae/slerp.h"

#if DW_BENCH_FAKE_COMFY
#include "comfy/comfy_source.h"
#include "fake_server.h"
#endif

namespace dw::bench {
namespace {

// A keyframe source with zero latency: each request comes back at once as its input image with
// its rows rotated (cheap, and enough change that the cache and collapse detector see a stream).
class InstantSource final : public pipeline::KeyframeSource {
 public:
  std::string name() const override { return "instant"; }
  bool submit(pipeline::KeyframeRequest request) override {
    pipeline::Keyframe k;
    k.index = request.index;
    k.image = std::move(request.input);
    const std::size_t row = static_cast<std::size_t>(k.image.width) * 4;
    if (k.image.height > 1)
      std::rotate(k.image.rgba.begin(),
                  k.image.rgba.begin() + static_cast<std::ptrdiff_t>(row * (1 + k.index % 7)),
                  k.image.rgba.end());
    k.origin = "instant";
    {
      std::lock_guard lock(mutex_);
      done_.push_back(std::move(k));
    }
    ready_.notify_one();
    return true;
  }
  std::optional<pipeline::Keyframe> next(std::stop_token stop,
                                         std::chrono::milliseconds timeout) override {
    std::unique_lock lock(mutex_);
    if (!ready_.wait_for(lock, stop, timeout, [&] { return !done_.empty(); })) return std::nullopt;
    pipeline::Keyframe k = std::move(done_.front());
    done_.pop_front();
    return k;
  }
  std::size_t pending() const override {
    std::lock_guard lock(mutex_);
    return done_.size();
  }
  // Two in flight, as the pipeline kept before sources reported their capacity.
  std::size_t capacity() const override { return 2; }
  bool healthy() const override { return true; }

 private:
  mutable std::mutex mutex_;
  std::condition_variable_any ready_;
  std::deque<pipeline::Keyframe> done_;
};

// Everything a backend does except decoding: latents of the right shape, the real batched slerp,
// frames sized (their pixels left as they are).
class NoDecodeBackend final : public vae::VaeBackend {
 public:
  NoDecodeBackend() {
    info_.variant = "no-decode (benchmark)";
    info_.latent_channels = 4;
  }
  std::string_view name() const override { return "no-decode"; }
  const vae::ModelInfo& info() const override { return info_; }
  vae::HostTensor encode(const vae::HostTensor& images) override {
    vae::HostTensor latent(images.n, 4, images.h / 8, images.w / 8);
    for (std::size_t i = 0; i < latent.size(); ++i)
      latent.data[i] = static_cast<float>((i * 2654435761u) % 1000) / 500.0f - 1.0f;
    return latent;
  }
  vae::HostTensor decode(const vae::HostTensor& latents) override {
    return vae::HostTensor(latents.n, 3, latents.h * 8, latents.w * 8);
  }
  vae::HostTensor slerp(const vae::HostTensor& a, const vae::HostTensor& b,
                        std::span<const float> t, const vae::SlerpOptions& options) override {
    return vae::slerp_host(a, b, t, options);
  }
  void interpolate_to_frames(const vae::HostTensor& a, const vae::HostTensor& b,
                             std::span<const float> t, const vae::SlerpOptions& options,
                             std::span<Frame* const> out) override {
    latents_ = vae::slerp_host(a, b, t, options);
    for (Frame* f : out) f->resize_host(a.w * 8, a.h * 8);
  }

 private:
  vae::ModelInfo info_;
  vae::HostTensor latents_;
};

double process_cpu_seconds() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

int run(int argc, char** argv) {
  int size = 512, between = 10;
  std::uint64_t frames = 20000;
  bool fake_comfy = false;
  for (int i = 1; i < argc; i += 2) {
    const std::string flag = argv[i];
    if (flag == "--fake-comfy") {
      fake_comfy = true;
      --i;  // no value
      continue;
    }
    if (i + 1 >= argc) {
      fmt::print(stderr, "bench_pipeline: {} needs a value\n", flag);
      return 2;
    }
    if (flag == "--size")
      size = std::stoi(argv[i + 1]);
    else if (flag == "--frames")
      frames = std::stoull(argv[i + 1]);
    else if (flag == "--between")
      between = std::stoi(argv[i + 1]);
    else {
      fmt::print(stderr, "bench_pipeline: unknown option {}\n", flag);
      return 2;
    }
  }
  spdlog::set_level(spdlog::level::warn);
  const auto scratch =
      std::filesystem::temp_directory_path() / fmt::format("dw-bench-pipeline-{}", ::getpid());
  std::filesystem::create_directories(scratch);

  Config c;
  c.source.kind = SourceKind::Comfy;
  c.comfy.urls = {"instant://"};
  c.comfy.width = size;
  c.comfy.height = size;
  c.interpolation.frames_between = between;
  c.cache.dir = (scratch / "cache").string();
  c.status.path = (scratch / "status.json").string();
  ConfigStore config(c);
  FrameRing<Frame> ring(256);
  pipeline::PipelineHooks hooks;
  hooks.make_comfy_source =
      [](LiveSection<ComfyConfig>) -> std::unique_ptr<pipeline::KeyframeSource> {
    return std::make_unique<InstantSource>();
  };
#if DW_BENCH_FAKE_COMFY
  std::optional<test::FakeComfy> server;
  if (fake_comfy) {
    server.emplace();
    c.comfy.urls = {server->url()};
    config.publish(c);
    hooks.make_comfy_source =
        [](LiveSection<ComfyConfig> cfg) -> std::unique_ptr<pipeline::KeyframeSource> {
      return std::make_unique<comfy::ComfyKeyframeSource>(comfy::options_from_config(*cfg.get()));
    };
  }
#else
  if (fake_comfy) {
    fmt::print(stderr, "bench_pipeline: built without the fake ComfyUI server helper\n");
    return 2;
  }
#endif
  hooks.make_vae = [](const VaeConfig&) { return std::make_unique<NoDecodeBackend>(); };

  const std::uint64_t warmup = std::max<std::uint64_t>(frames / 10, 200);
  std::uint64_t popped = 0;
  double wall_s = 0, cpu_s = 0;
  {
    pipeline::Pipeline pipeline(config, ring, hooks);
    std::chrono::steady_clock::time_point start;
    double cpu_start = 0;
    while (popped < warmup + frames) {
      if (!ring.wait_for_data(std::stop_token{}, std::chrono::seconds(30))) {
        fmt::print(stderr, "bench_pipeline: no frame for 30 s after {} frames\n", popped);
        return 1;
      }
      ring.pop();
      if (++popped == warmup) {
        start = std::chrono::steady_clock::now();
        cpu_start = process_cpu_seconds();
      }
    }
    wall_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    cpu_s = process_cpu_seconds() - cpu_start;
    const auto s = pipeline.status();
    fmt::print("keyframes {}  cache entries {}  injections {}\n", s.orchestrator.keyframes,
               s.cache_entries, s.orchestrator.injections);
  }
  std::filesystem::remove_all(scratch);
  fmt::print(
      "| source | size | frames between | frames | frames/s | wall us/frame | CPU us/frame (all "
      "threads) |\n");
  fmt::print("|---|---|---|---|---|---|---|\n");
  fmt::print("| {} | {}x{} | {} | {} | {:.0f} | {:.1f} | {:.1f} |\n",
             fake_comfy ? "fake ComfyUI" : "instant", size, size, between, frames,
             static_cast<double>(frames) / wall_s, 1e6 * wall_s / static_cast<double>(frames),
             1e6 * cpu_s / static_cast<double>(frames));
  return 0;
}

}  // namespace
}  // namespace dw::bench

int main(int argc, char** argv) {
  try {
    return dw::bench::run(argc, argv);
  } catch (const std::exception& e) {
    fmt::print(stderr, "bench_pipeline: {}\n", e.what());
    return 1;
  }
}
