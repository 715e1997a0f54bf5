// Keyframe round trips against a real ComfyUI with a model-free workflow, one at a time: the wall
// time of each round trip (upload, prompt, WebSocket, image back, decoded) and this process's CPU
// time per keyframe (the client's overhead: every thread of it). bench/comfy/real_comfy_bench.py
// starts the server, runs this and puts ComfyUI's own execution time per prompt (from /history)
// next to it; results in docs/benchmarks.md.
//
//   bench_comfy_real URL WORKFLOW_JSON [keyframes=40] [size=512]
#include <spdlog/spdlog.h>
#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <string>
#include <thread>
#include <vector>

#include "comfy/comfy_source.h"

namespace {

using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

double cpu_seconds() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
         static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec) * 1e-6;
}

dw::Image gradient(int size) {
  dw::Image img(size, size);
  for (int y = 0; y < size; ++y)
    for (int x = 0; x < size; ++x) {
      std::uint8_t* p = img.pixel(x, y);
      p[0] = static_cast<std::uint8_t>(255 * x / size);
      p[1] = static_cast<std::uint8_t>(255 * y / size);
      p[2] = static_cast<std::uint8_t>((x * y) % 251);
      p[3] = 255;
    }
  return img;
}

double percentile(std::vector<double> v, double q) {
  std::sort(v.begin(), v.end());
  return v[static_cast<std::size_t>(q * static_cast<double>(v.size() - 1))];
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: bench_comfy_real URL WORKFLOW_JSON [keyframes=40] [size=512]\n");
    return 2;
  }
  const int keyframes = argc > 3 ? std::stoi(argv[3]) : 40;
  const int size = argc > 4 ? std::stoi(argv[4]) : 512;
  spdlog::set_level(spdlog::level::warn);
  dw::comfy::ComfySourceOptions options;
  options.urls = {argv[1]};
  options.workflow = argv[2];
  options.defaults.width = options.defaults.height = size;
  options.in_flight = 1;
  dw::comfy::ComfyKeyframeSource source(options);
  const auto until = Clock::now() + 60s;
  while (!source.healthy() && Clock::now() < until) std::this_thread::sleep_for(10ms);
  if (!source.healthy()) {
    std::fprintf(stderr, "%s did not become healthy\n", argv[1]);
    return 1;
  }
  dw::Image input = gradient(size);
  std::vector<double> round_ms;
  double cpu = 0;
  for (int i = 0; i < keyframes + 3; ++i) {  // the first 3 warm up connections and caches
    const double cpu0 = cpu_seconds();
    const auto t0 = Clock::now();
    if (!source.submit({static_cast<std::uint64_t>(i), input, {"", ""}, 1000u + i})) return 1;
    std::optional<dw::pipeline::Keyframe> k;
    while (!(k = source.next(std::stop_token{}, 1s))) {
    }
    if (i < 3) continue;
    round_ms.push_back(std::chrono::duration<double, std::milli>(Clock::now() - t0).count());
    cpu += cpu_seconds() - cpu0;
    input = std::move(k->image);
  }
  double mean = 0;
  for (double v : round_ms) mean += v;
  mean /= static_cast<double>(round_ms.size());
  std::printf("keyframes %d size %d\n", keyframes, size);
  std::printf("round_trip_ms mean %.1f p50 %.1f p90 %.1f max %.1f\n", mean,
              percentile(round_ms, 0.5), percentile(round_ms, 0.9), percentile(round_ms, 1.0));
  std::printf("client_cpu_ms_per_keyframe %.2f\n", 1000.0 * cpu / keyframes);
  return 0;
}
