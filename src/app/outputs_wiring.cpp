#include "app/outputs_wiring.h"

#include <spdlog/spdlog.h>

#include <cstdio>
#include <filesystem>

namespace dw {
namespace {

std::string beside(const std::string& path, const std::string& suffix) {
  const std::filesystem::path p(path);
  return (p.parent_path() / (p.stem().string() + "-" + suffix + p.extension().string())).string();
}

}  // namespace

std::unique_ptr<render::Outputs> start_outputs(render::Window& window, render::RenderLoop& loop,
                                               const Config& config, bool headless) {
  if (config.outputs.outputs.empty()) return nullptr;
  auto outputs = std::make_unique<render::Outputs>(window, config, headless);
  loop.set_outputs(outputs.get());
  return outputs;
}

void finish_outputs(const render::Outputs* outputs, const render::RenderLoop& loop,
                    const std::string& screenshot) {
  if (!outputs) return;
  const auto& images = loop.last_output_images();
  if (!screenshot.empty()) {
    for (std::size_t i = 1; i < images.size(); ++i) {
      const std::string path = beside(screenshot, "output" + std::to_string(i + 1));
      save_png(images[i], path);
      spdlog::info("screenshot of output {} written to {}", i + 1, path);
    }
    if (loop.last_canvas_image()) save_png(*loop.last_canvas_image(), beside(screenshot, "canvas"));
  }
  const render::LiveDisplayStats& l = loop.live();
  std::printf("outputs: %zu  canvas %dx%d  content uploads %llu  content frames shown %llu\n",
              outputs->count(), outputs->canvas().width(), outputs->canvas().height(),
              static_cast<unsigned long long>(l.content_uploads.load()),
              static_cast<unsigned long long>(l.content_frames.load()));
  const auto stats = outputs->stats();
  for (std::size_t i = 0; i < stats.size(); ++i)
    std::printf("output %zu: presented %llu  canvases skipped %llu\n", i + 1,
                static_cast<unsigned long long>(stats[i].presented),
                static_cast<unsigned long long>(stats[i].skipped));
  std::fflush(stdout);
}

}  // namespace dw
