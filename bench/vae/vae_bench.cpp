// CPU VAE speed: decode and encode per family and size, milliseconds per image. SD uses random
// weights with the real SD1.x structure; TAE uses the real taef2 weights when ../shared/models is
// present (else random taesd-structure weights). Compare with bench/vae/pytorch_cpu_bench.py on
// the same machine; results in docs/benchmarks.md.
//   build/cpu/bench/vae/bench_vae [--benchmark_filter=Tae]
#include <benchmark/benchmark.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>

#include "synthetic_models.h"
#include "vae/backend.h"
#include "vae/model.h"

namespace {

using namespace dw::vae;

std::filesystem::path scratch() {
  static const std::filesystem::path dir = [] {
    auto p = std::filesystem::temp_directory_path() / "dreamwindow-bench-vae";
    std::filesystem::create_directories(p);
    return p;
  }();
  return dir;
}

std::shared_ptr<const VaeModel> sd_model() {
  static const auto model = [] {
    const auto path = (scratch() / "sd_vae_random.safetensors").string();
    if (!std::filesystem::exists(path)) bench::write_sd_vae(path);
    return load_vae(path);
  }();
  return model;
}

std::shared_ptr<const VaeModel> tae_model() {
  static const auto model = [] {
    std::filesystem::path shared =
        std::filesystem::path(DW_SOURCE_DIR) / ".." / "shared" / "models";
    if (const char* env = std::getenv("DW_SHARED_MODELS")) shared = env;
    if (std::filesystem::exists(shared / "taef2_decoder.safetensors"))
      return load_vae((shared / "taef2_decoder.safetensors").string(),
                      (shared / "taef2_encoder.safetensors").string());
    const auto dec = (scratch() / "tae_decoder_random.safetensors").string();
    const auto enc = (scratch() / "tae_encoder_random.safetensors").string();
    bench::write_tae(dec, enc);
    return load_vae(dec, enc);
  }();
  return model;
}

HostTensor filled(int n, int c, int h, int w) {
  HostTensor t(n, c, h, w);
  for (std::size_t i = 0; i < t.size(); ++i) t.data[i] = 0.5f + 0.4f * std::sin(0.37f * i);
  return t;
}

void run(benchmark::State& state, const std::shared_ptr<const VaeModel>& model, bool decode) {
  const int size = static_cast<int>(state.range(0));
  const int batch = static_cast<int>(state.range(1));
  auto backend = make_cpu_backend(model, 0);
  const int latent = size / model->info.downscale;
  const HostTensor input = decode ? filled(batch, model->info.latent_channels, latent, latent)
                                  : filled(batch, 3, size, size);
  // One warm-up call: buffers, scratch and BLAS set-up are not what is measured.
  HostTensor out = decode ? backend->decode(input) : backend->encode(input);
  double seconds = 0;
  for (auto _ : state) {
    const auto start = std::chrono::steady_clock::now();
    out = decode ? backend->decode(input) : backend->encode(input);
    benchmark::DoNotOptimize(out.data.data());
    seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  }
  const double images = static_cast<double>(state.iterations()) * batch;
  const double macs =
      (decode ? model->decoder->macs(latent, latent) : model->encoder->macs(size, size));
  state.counters["ms_per_image"] = 1000.0 * seconds / images;
  state.counters["GFLOPS"] = 2.0 * macs * images / seconds / 1e9;
  state.SetLabel(model->info.variant);
}

void BM_TaeDecode(benchmark::State& s) {
  run(s, tae_model(), true);
}
void BM_TaeEncode(benchmark::State& s) {
  run(s, tae_model(), false);
}
void BM_SdDecode(benchmark::State& s) {
  run(s, sd_model(), true);
}
void BM_SdEncode(benchmark::State& s) {
  run(s, sd_model(), false);
}

// Arguments: image size, batch.
BENCHMARK(BM_TaeDecode)
    ->Args({256, 1})
    ->Args({512, 1})
    ->Args({256, 4})
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime()
    ->MinTime(2);
BENCHMARK(BM_TaeEncode)
    ->Args({256, 1})
    ->Args({512, 1})
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime()
    ->MinTime(2);
BENCHMARK(BM_SdDecode)
    ->Args({256, 1})
    ->Args({512, 1})
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime()
    ->Iterations(1);
BENCHMARK(BM_SdEncode)
    ->Args({256, 1})
    ->Args({512, 1})
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime()
    ->Iterations(1);

}  // namespace

BENCHMARK_MAIN();
