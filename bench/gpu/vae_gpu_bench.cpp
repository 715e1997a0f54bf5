// GPU VAE decode speed: the CUDA backend's pipeline path (batched slerp + decode + RGBA8 frames on
// the GPU, one interpolate_to_frames call per batch) for SD-shaped KL, taef2 (real weights) and a
// taesd-shaped TAE, at 512 and 1024 pixels, batch 1 and 8. Prints one RESULT line per case
// (ms/frame: median over many timed calls after warm-up; TFLOPS: Graph::macs * 2 / time).
// tools/bench_vae_torch_gpu.py loads the same weight files (written to --model-dir) and prints
// the same lines for PyTorch.
//   bench_vae_gpu [--model-dir DIR] [--models sd,taef2,taesd] [--sizes 512,1024] [--batches 1,8]
//                 [--exhaustive] [--fuse-upsample] [--seconds S]
//   bench_vae_gpu --write-models [--model-dir DIR] [--models ...]: only writes the weight files
//                 (no GPU needed), for the PyTorch bench and the end-to-end runs of gpu_check.sh
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "../vae/synthetic_models.h"
#include "core/error.h"
#include "vae/cuda/cuda_check.h"
#include "vae/cuda/cuda_plan.h"
#include "vae/cuda/cuda_vae.h"
#include "vae/cuda_backend.h"
#include "vae/model.h"
#include "vae/slerp.h"

namespace {

using namespace dw::vae;
namespace fs = std::filesystem;

struct Args {
  fs::path model_dir = fs::temp_directory_path() / "dreamwindow-bench-gpu";
  std::vector<std::string> models = {"sd", "taef2", "taesd"};
  std::vector<int> sizes = {512, 1024};
  std::vector<int> batches = {1, 8};
  bool exhaustive = false;
  bool profile = false;        // per-step times of the decoder plan instead of the timed cases
  bool unfused = false;        // --profile with the conv epilogue as a separate pass
  bool write_models = false;   // only write the weight files
  bool fuse_upsample = false;  // the experimental fused upsample path (impl ours_fused)
  double seconds = 1.0;        // timed per case (at least 5 calls)
};

std::vector<std::string> split(const std::string& text) {
  std::vector<std::string> parts;
  std::stringstream ss(text);
  for (std::string part; std::getline(ss, part, ',');)
    if (!part.empty()) parts.push_back(part);
  return parts;
}

Args parse(int argc, char** argv) {
  Args a;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) throw dw::Error("missing value after " + arg);
      return argv[++i];
    };
    if (arg == "--model-dir")
      a.model_dir = value();
    else if (arg == "--models")
      a.models = split(value());
    else if (arg == "--sizes") {
      a.sizes.clear();
      for (auto& s : split(value())) a.sizes.push_back(std::stoi(s));
    } else if (arg == "--batches") {
      a.batches.clear();
      for (auto& s : split(value())) a.batches.push_back(std::stoi(s));
    } else if (arg == "--exhaustive")
      a.exhaustive = true;
    else if (arg == "--profile")
      a.profile = true;
    else if (arg == "--unfused")
      a.unfused = true;
    else if (arg == "--write-models")
      a.write_models = true;
    else if (arg == "--fuse-upsample")
      a.fuse_upsample = true;
    else if (arg == "--seconds")
      a.seconds = std::stod(value());
    else
      throw dw::Error("unknown argument " + arg);
  }
  return a;
}

fs::path shared_models() {
  if (const char* env = std::getenv("DW_SHARED_MODELS"); env && *env) return env;
  return fs::path(DW_SOURCE_DIR) / ".." / "shared" / "models";
}

// The weight files the PyTorch bench reads too: written once into the model directory.
std::shared_ptr<const VaeModel> load_model(const std::string& name, const fs::path& dir) {
  fs::create_directories(dir);
  if (name == "sd") {
    const auto path = (dir / "sd_vae_random.safetensors").string();
    if (!fs::exists(path)) bench::write_sd_vae(path);
    return load_vae(path);
  }
  if (name == "taesd") {
    const auto dec = (dir / "taesd_decoder_random.safetensors").string();
    const auto enc = (dir / "taesd_encoder_random.safetensors").string();
    if (!fs::exists(dec)) bench::write_tae(dec, enc);
    return load_vae(dec);
  }
  if (name == "taef2") {
    const fs::path file = shared_models() / "taef2_decoder.safetensors";
    if (!fs::exists(file))
      throw dw::Error("taef2: " + file.string() + " is absent (set DW_SHARED_MODELS)");
    fs::copy_file(file, dir / "taef2_decoder.safetensors", fs::copy_options::overwrite_existing);
    return load_vae(file.string());
  }
  throw dw::Error("unknown model " + name + " (sd, taef2, taesd)");
}

HostTensor latent(const ModelInfo& info, int h, int w, float phase) {
  HostTensor t(1, info.latent_channels, h, w);
  for (std::size_t i = 0; i < t.size(); ++i) t.data[i] = std::sin(0.37f * i + phase);
  return t;
}

// The RESULT lines' impl: which variant of ours ran (the check's table keeps them apart).
const char* impl_name(const Args& args) {
  return args.exhaustive ? "ours_exhaustive" : args.fuse_upsample ? "ours_fused" : "ours";
}

void bench_case(const std::string& name, const std::shared_ptr<const VaeModel>& model, int size,
                int batch, const Args& args) {
  cuda::CudaBackendOptions options;
  options.exhaustive_search = args.exhaustive;
  options.fuse_upsample = args.fuse_upsample;
  options.max_plans = 1;
  auto backend = cuda::make_cuda_vae_backend(model, options);
  const int lh = size / model->info.downscale, lw = lh;
  const HostTensor a = latent(model->info, lh, lw, 0.0f), b = latent(model->info, lh, lw, 1.0f);
  std::vector<float> t(batch);
  for (int i = 0; i < batch; ++i) t[i] = eased_t(i + 1, batch, dw::Easing::Linear);
  std::vector<dw::Frame> frames(batch);
  std::vector<dw::Frame*> out;
  for (auto& f : frames) out.push_back(&f);
  const SlerpOptions slerp;
  auto call = [&] {
    backend->interpolate_to_frames(a, b, t, slerp, out);
    backend->synchronize();
  };
  const auto plan_start = std::chrono::steady_clock::now();
  call();  // plan, algorithms, frame memory
  const double plan_s =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - plan_start).count();
  for (int i = 0; i < 3; ++i) call();
  std::vector<double> ms;
  const auto begin = std::chrono::steady_clock::now();
  while (ms.size() < 5 ||
         (std::chrono::duration<double>(std::chrono::steady_clock::now() - begin).count() <
              args.seconds &&
          ms.size() < 200)) {
    const auto s = std::chrono::steady_clock::now();
    call();
    ms.push_back(
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - s).count());
  }
  std::sort(ms.begin(), ms.end());
  const double median = ms[ms.size() / 2];
  const double per_frame = median / batch;
  const double tflops = 2.0 * model->decoder->macs(lh, lw) * batch / (median * 1e-3) / 1e12;
  std::printf(
      "RESULT impl=%s model=%s size=%d batch=%d ms_per_frame=%.3f tflops=%.1f "
      "precision=%s calls=%zu first_call_s=%.2f\n",
      impl_name(args), name.c_str(), size, batch, per_frame, tflops,
      cuda::dtype_name(backend->precision()), ms.size(), plan_s);
  std::fflush(stdout);
}

// The decoder plan's steps timed one by one (eager, events around each, best of 5), summed by
// kind and by label: where the time goes.
void profile_case(const std::string& name, const std::shared_ptr<const VaeModel>& model, int size,
                  int batch, const Args& args) {
  cuda::GpuContext context;
  const cuda::DeviceWeights weights =
      cuda::DeviceWeights::upload(*model->decoder, cuda::DType::F16, args.fuse_upsample);
  cuda::AlgorithmCache algorithms;
  cuda::PlanOptions options;
  options.exhaustive_search = args.exhaustive;
  options.cuda_graph = false;
  options.fused_epilogue = !args.unfused;
  options.fuse_upsample = args.fuse_upsample;
  const int lh = size / model->info.downscale, lw = lh;
  cuda::Plan plan(*model->decoder, weights, batch, lh, lw, context, algorithms, options);
  DW_CUDA_CHECK(
      cudaMemsetAsync(plan.input(), 0, plan.input_shape().elements() * 2, context.stream()));
  plan.run(nullptr);
  const auto steps = plan.profile(5);
  double total = 0;
  std::map<std::string, std::pair<double, int>> by_kind, by_label;
  for (const auto& s : steps) {
    total += s.ms;
    const std::string kind = s.label.substr(0, s.label.find(' '));
    by_kind[kind].first += s.ms;
    ++by_kind[kind].second;
    by_label[s.label].first += s.ms;
    ++by_label[s.label].second;
  }
  std::printf("PROFILE%s%s %s %d batch %d: %.3f ms per batch (%.3f per frame), %zu steps\n",
              args.unfused ? "(unfused)" : "", args.fuse_upsample ? "(fused upsample)" : "",
              name.c_str(), size, batch, total, total / batch, steps.size());
  for (const auto& [kind, v] : by_kind)
    std::printf("  kind %-10s %8.3f ms %5.1f%% (%d steps)\n", kind.c_str(), v.first,
                100 * v.first / total, v.second);
  std::vector<std::pair<double, std::string>> top;
  for (const auto& [label, v] : by_label)
    top.emplace_back(v.first, label + " x" + std::to_string(v.second));
  std::sort(top.rbegin(), top.rend());
  for (std::size_t i = 0; i < top.size() && i < 14; ++i)
    std::printf("  %8.3f ms  %s\n", top[i].first, top[i].second.c_str());
  std::fflush(stdout);
}

}  // namespace

int main(int argc, char** argv) {
  try {
    const Args args = parse(argc, argv);
    if (args.write_models) {
      int failed = 0;
      for (const std::string& name : args.models) {
        try {
          load_model(name, args.model_dir);
          std::printf("%s: weights in %s\n", name.c_str(), args.model_dir.string().c_str());
        } catch (const std::exception& e) {  // the others are still written
          std::fprintf(stderr, "bench_vae_gpu: %s\n", e.what());
          ++failed;
        }
      }
      return failed ? 1 : 0;
    }
    if (!cuda_device_available()) {
      std::fprintf(stderr, "bench_vae_gpu: no CUDA device\n");
      return 2;
    }
    for (const std::string& name : args.models) {
      const auto model = load_model(name, args.model_dir);
      for (int size : args.sizes)
        for (int batch : args.batches) {
          try {
            if (args.profile)
              profile_case(name, model, size, batch, args);
            else
              bench_case(name, model, size, batch, args);
          } catch (const std::exception& e) {  // one failing case must not hide the others
            std::printf("RESULT impl=%s model=%s size=%d batch=%d error=\"%s\"\n", impl_name(args),
                        name.c_str(), size, batch, e.what());
            std::fflush(stdout);
          }
        }
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bench_vae_gpu: %s\n", e.what());
    return 1;
  }
  return 0;
}
