// Keyframe round trips per second against the fake ComfyUI server (tests/comfy/fake_comfy.py) on
// loopback with zero-latency "generation", 512x512 PNGs, and the client's own cost per round trip.
//
// The python fake server is the bottleneck of the end-to-end number (it decodes, inverts and
// re-encodes every image in one process), so the client is measured separately: the CPU time of
// this process (every thread of the client: lanes, WebSocket readers, libcurl, PNG codecs) per
// keyframe, and the pieces one by one. The client's ceiling is what those costs allow per core.
//
//   bench_comfy [keyframes=150] [in_flight=4]
#include <fmt/format.h>
#include <png.h>
#include <spdlog/spdlog.h>
#include <sys/resource.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <map>
#include <random>
#include <string>
#include <thread>

#include "comfy/comfy_source.h"
#include "comfy/png_codec.h"
#include "comfy/protocol.h"
#include "comfy/workflow.h"
#include "fake_server.h"

namespace {

using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;
using dw::Image;

double cpu_seconds() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
         static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec) * 1e-6;
}

// A keyframe-like image: smooth colour fields with fine grain, so PNGs have a realistic size.
Image keyframe_like(int w, int h, std::uint64_t seed) {
  Image img(w, h);
  std::mt19937_64 rng(seed);
  std::uniform_int_distribution<int> grain(-12, 12);
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x) {
      std::uint8_t* p = img.pixel(x, y);
      const int base[3] = {60 + 120 * x / w, 40 + 150 * y / h, 180 - 100 * (x + y) / (w + h)};
      for (int c = 0; c < 3; ++c)
        p[c] = static_cast<std::uint8_t>(std::clamp(base[c] + grain(rng), 0, 255));
      p[3] = 255;
    }
  return img;
}

template <typename F>
double mean_ms(int iterations, F&& f) {
  f();  // warm
  const auto t0 = Clock::now();
  for (int i = 0; i < iterations; ++i) f();
  return std::chrono::duration<double, std::milli>(Clock::now() - t0).count() / iterations;
}

}  // namespace

int main(int argc, char** argv) {
  const int keyframes = argc > 1 ? std::stoi(argv[1]) : 150;
  const int in_flight = argc > 2 ? std::stoi(argv[2]) : 4;
  const int size = 512;
  spdlog::set_level(spdlog::level::warn);

  // ---- the client's pieces, one at a time ----
  const Image input = keyframe_like(size, size, 1);
  const std::string png = dw::comfy::encode_upload_png(input);
  const std::span<const std::uint8_t> png_bytes(reinterpret_cast<const std::uint8_t*>(png.data()),
                                                png.size());
  const double encode_ms = mean_ms(30, [&] { (void)dw::comfy::encode_upload_png(input); });
  const double decode_ms =
      mean_ms(30, [&] { (void)dw::comfy::decode_keyframe_image(png_bytes, "bench", {}); });
  const double stb_ms = mean_ms(10, [&] { (void)dw::decode_image(png_bytes, "bench", {}); });
  const double libpng_ms = mean_ms(10, [&] {
    png_image p;
    std::memset(&p, 0, sizeof p);
    p.version = PNG_IMAGE_VERSION;
    std::vector<std::uint8_t> out(static_cast<std::size_t>(size) * size * 4);
    png_image_begin_read_from_memory(&p, png_bytes.data(), png_bytes.size());
    p.format = PNG_FORMAT_RGBA;
    png_image_finish_read(&p, nullptr, out.data(), 0, nullptr);
  });
  const auto workflow = dw::comfy::Workflow::load("sd15_img2img", {});
  dw::comfy::WorkflowValues values;
  values.image = "dreamwindow-0.png";
  values.positive = "a lighthouse in fog, oil painting, intricate detail";
  values.negative = "blurry, text, watermark";
  values.seed = 0x9E3779B97F4A7C15ull;
  const double fill_ms = mean_ms(200, [&] {
    (void)nlohmann::json{{"prompt", workflow.fill(values)}, {"client_id", "c"}, {"prompt_id", "p"}}
        .dump();
  });
  const std::string progress =
      R"({"type": "progress", "data": {"value": 3, "max": 10, "prompt_id": "6f90418b-a443-4319-8594-a61dabeb80fa", "node": "7"}})";
  std::size_t sink = 0;
  const double message_ms = mean_ms(2000, [&] { sink += nlohmann::json::parse(progress).size(); });
  if (sink == 0) return 1;

  std::printf("client pieces, %dx%d (mean of repeated runs, one thread):\n", size, size);
  std::printf(
      "  upload PNG encode (zlib, Huffman)  %7.2f ms  (%zu bytes; skipped when the input is\n"
      "                                                a keyframe fed back)\n",
      encode_ms, png.size());
  std::printf("  keyframe PNG decode (libdeflate)   %7.2f ms\n", decode_ms);
  std::printf("  same PNG through stb_image         %7.2f ms  (not used on this path)\n", stb_ms);
  std::printf("  same PNG through libpng            %7.2f ms  (other PNG kinds)\n", libpng_ms);
  std::printf("  workflow fill + prompt JSON        %7.3f ms\n", fill_ms);
  std::printf("  one WebSocket JSON message parsed  %7.4f ms\n", message_ms);

  // ---- end to end against the fake server ----
  dw::test::FakeComfy server;
  dw::comfy::ComfySourceOptions options;
  options.urls = {server.url()};
  options.defaults.checkpoint = "v1-5-pruned-emaonly.safetensors";
  options.defaults.width = options.defaults.height = size;
  options.in_flight = in_flight;
  options.request_timeout_s = 30.0;
  dw::comfy::ComfyKeyframeSource source(options);
  const auto until = Clock::now() + 20s;
  while (!source.healthy() && Clock::now() < until) std::this_thread::sleep_for(10ms);
  if (!source.healthy()) {
    std::fprintf(stderr, "the fake server did not come up\n");
    return 1;
  }
  // Two loops: the real one (each request's input is the newest keyframe delivered, as the
  // orchestrator does, so the server's own PNG goes back without re-encoding), and one where every
  // input is a fresh image that must be encoded (injections, seed images).
  const unsigned cores = std::max(1u, std::thread::hardware_concurrency());
  std::uint64_t first = 0;
  const auto run = [&](int count, bool feedback) {
    Image newest = keyframe_like(size, size, 7);
    std::vector<Image> fresh;
    for (int i = 0; i < 4; ++i) fresh.push_back(keyframe_like(size, size, 100 + i));
    std::uint64_t next = first, done = 0;
    while (done < static_cast<std::uint64_t>(count)) {
      while (next < first + count && source.submit({next,
                                                    feedback ? newest : fresh[next % fresh.size()],
                                                    {values.positive, values.negative},
                                                    next}))
        ++next;
      if (auto k = source.next(std::stop_token{}, 1s)) {
        ++done;
        newest = std::move(k->image);
      }
    }
    first += count;
  };
  run(10, true);  // warm: connections, caches
  for (const bool feedback : {true, false}) {
    const auto stats0 = source.stats();
    const double cpu0 = cpu_seconds();
    const auto t0 = Clock::now();
    run(keyframes, feedback);
    const double wall = std::chrono::duration<double>(Clock::now() - t0).count();
    const double cpu = cpu_seconds() - cpu0;
    const auto stats = source.stats();
    const double up = static_cast<double>(stats.bytes_sent - stats0.bytes_sent);
    const double down = static_cast<double>(stats.bytes_received - stats0.bytes_received);
    const double client_ms = 1000.0 * cpu / keyframes;
    std::printf(
        "\nend to end, %s, %d keyframes, %d in flight, fake server on loopback "
        "(zero latency):\n",
        feedback ? "feedback loop" : "fresh inputs", keyframes, in_flight);
    std::printf("  round trips per second             %7.1f  (the python server's limit)\n",
                keyframes / wall);
    std::printf("  bytes per second                   %7.1f MB/s up, %.1f MB/s down\n",
                up / wall / 1e6, down / wall / 1e6);
    std::printf("  client CPU per round trip          %7.2f ms  (all threads of this process)\n",
                client_ms);
    std::printf(
        "  client ceiling                     %7.0f round trips/s per core, %.0f on %u cores\n",
        1000.0 / client_ms, cores * 1000.0 / client_ms, cores);
    std::printf("  uploads reused / failed attempts   %4llu / %llu\n",
                static_cast<unsigned long long>(stats.uploads_reused - stats0.uploads_reused),
                static_cast<unsigned long long>(stats.failed_attempts - stats0.failed_attempts));
  }
  return 0;
}
