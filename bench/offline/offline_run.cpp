// A long run of the offline generator without the display, as fast as the CPU goes: each keyframe
// grows from the previous one (one strand: the harshest feedback), and every `--every` keyframes
// the picture is measured against the seed set's bands and fed to the collapse/degeneration
// detector. Saves the keyframes listed in --save as PNGs.
//
//   offline_run [--keyframes 3000] [--size 256] [--seeds assets/seeds] [--every 10]
//               [--save 100,1000,3000] [--out DIR] [--seed 1] [--log FILE]
//
// Prints the bands, each measure's range over the run, how many sampled keyframes left a band,
// how often the regulator had to re-seed, the detector's largest climbs, and time per keyframe.
// Results: docs/benchmarks.md ("Offline generator: a long run").
#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <set>
#include <sstream>
#include <string>

#include "cache/collapse_detector.h"
#include "cache/features.h"
#include "core/config.h"
#include "core/paths.h"
#include "pipeline/offline_generator.h"
#include "pipeline/pipeline.h"

namespace dw::bench {
namespace {

struct Options {
  std::uint64_t keyframes = 3000;
  int size = 256;
  std::string seeds;
  std::uint64_t every = 10;
  std::set<std::uint64_t> save = {100, 1000, 3000};
  std::string out = ".";
  std::uint64_t seed = 1;
  std::string log;
};

std::set<std::uint64_t> parse_list(const std::string& text) {
  std::set<std::uint64_t> out;
  std::stringstream ss(text);
  std::string item;
  while (std::getline(ss, item, ','))
    if (!item.empty()) out.insert(std::stoull(item));
  return out;
}

Options parse(int argc, char** argv) {
  Options o;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string key = argv[i], value = argv[i + 1];
    if (key == "--keyframes")
      o.keyframes = std::stoull(value);
    else if (key == "--size")
      o.size = std::stoi(value);
    else if (key == "--seeds")
      o.seeds = value;
    else if (key == "--every")
      o.every = std::max<std::uint64_t>(1, std::stoull(value));
    else if (key == "--save")
      o.save = parse_list(value);
    else if (key == "--out")
      o.out = value;
    else if (key == "--seed")
      o.seed = std::stoull(value);
    else if (key == "--log")
      o.log = value;
    else
      throw std::invalid_argument("unknown option " + key);
  }
  return o;
}

struct Summary {
  std::array<cache::Band, cache::kMeasureCount> seen;
  std::uint64_t sampled = 0, outside = 0, reseeded = 0, folded = 0;
  double max_fry_delta = 0, max_noise_delta = 0, max_colour_delta = 0;
  std::uint64_t forced = 0, scaled = 0;
};

void print_bands(const cache::PictureBands& bands, const Summary& s) {
  fmt::print("| measure | band (seeds) | range over the run |\n| --- | --- | --- |\n");
  for (int i = 0; i < cache::kMeasureCount; ++i)
    fmt::print("| {} | {:.3g} .. {:.3g} | {:.3g} .. {:.3g} |\n",
               cache::measure_name(static_cast<cache::Measure>(i)), bands.bands[i].lo,
               bands.bands[i].hi, s.seen[i].lo, s.seen[i].hi);
}

void print_seeds(const std::vector<Image>& seeds) {
  fmt::print("| seed | colourfulness | contrast | saturation | clipped | hf |\n");
  fmt::print("| --- | --- | --- | --- | --- | --- |\n");
  for (std::size_t i = 0; i < seeds.size(); ++i) {
    const cache::PictureMeasures m = cache::measure_picture(seeds[i]);
    fmt::print("| {} | {:.1f} | {:.1f} | {:.3f} | {:.4f} | {:.3f} |\n", i + 1, m.values[0],
               m.values[1], m.values[2], m.values[3], m.values[4]);
  }
}

int run(const Options& o) {
  const auto seeds = pipeline::load_seed_images(o.seeds, o.size, o.size);
  print_seeds(seeds);
  const OfflineConfig config;
  const pipeline::OfflineGenerator generator(seeds, config);
  cache::CollapseDetector detector{CollapseConfig{}};
  std::FILE* log = o.log.empty() ? nullptr : std::fopen(o.log.c_str(), "w");
  if (log) std::fputs("keyframe,colourfulness,contrast,saturation,clipped,hf,fry\n", log);
  Summary s;
  for (auto& b : s.seen) b = {1e300, -1e300};
  std::filesystem::create_directories(o.out);
  Image current = seeds[o.seed % seeds.size()];
  const auto start = std::chrono::steady_clock::now();
  for (std::uint64_t k = 2; k <= o.keyframes; ++k) {
    pipeline::OfflineStep step = generator.step(current, k, o.seed * 1000003 + k * 7919);
    s.reseeded += step.reseeded;
    if (step.reseeded && s.reseeded <= 20)
      fmt::print("keyframe {} re-seeded: {}\n", k, step.left_band);
    s.folded += step.folded;
    current = std::move(step.image);
    if (o.save.contains(k))
      save_png(current,
               (std::filesystem::path(o.out) / fmt::format("keyframe_{:05}.png", k)).string());
    if (k % o.every != 0) continue;
    const cache::ImageFeatures f = cache::compute_features(current);
    ++s.sampled;
    s.outside += !generator.bands().contains(f.measures);
    for (int i = 0; i < cache::kMeasureCount; ++i) {
      s.seen[i].lo = std::min(s.seen[i].lo, f.measures.values[i]);
      s.seen[i].hi = std::max(s.seen[i].hi, f.measures.values[i]);
    }
    const cache::CollapseState c = detector.add_keyframe(f);
    s.max_fry_delta = std::max(s.max_fry_delta, c.degeneration.fry_delta);
    s.max_noise_delta = std::max(s.max_noise_delta, c.degeneration.noise_delta);
    s.max_colour_delta = std::max(s.max_colour_delta, c.colour_delta);
    s.forced += c.forced;
    s.scaled += c.rate > 0;
    if (log)
      std::fprintf(log, "%llu,%.3f,%.3f,%.4f,%.4f,%.4f,%.4f\n", static_cast<unsigned long long>(k),
                   f.measures.values[0], f.measures.values[1], f.measures.values[2],
                   f.measures.values[3], f.measures.values[4], cache::fry_index(f.measures));
  }
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  if (log) std::fclose(log);
  fmt::print("{} keyframes at {}x{} from {} seeds: {:.1f} ms per keyframe ({:.0f} s)\n",
             o.keyframes, o.size, o.size, seeds.size(), 1000 * seconds / (o.keyframes - 1),
             seconds);
  print_bands(generator.bands(), s);
  fmt::print("sampled {} (every {}): {} outside a band; {} folds, {} re-seeds\n", s.sampled,
             o.every, s.outside, s.folded, s.reseeded);
  fmt::print(
      "detector over the samples: max fry climb {:.3f}, max noise climb {:.3f}, max colour "
      "climb {:.3f}; scaled {} times, forced {} times\n",
      s.max_fry_delta, s.max_noise_delta, s.max_colour_delta, s.scaled, s.forced);
  return s.outside == 0 ? 0 : 1;
}

}  // namespace
}  // namespace dw::bench

int main(int argc, char** argv) {
  try {
    return dw::bench::run(dw::bench::parse(argc, argv));
  } catch (const std::exception& e) {
    std::fprintf(stderr, "offline_run: %s\n", e.what());
    return 2;
  }
}
