// The render loop measuring itself: display frame times (a histogram and the recent window for
// p50/p99), late frames (longer than 1.5 refresh intervals), and content frames per second.
#pragma once

#include <array>
#include <cstdint>
#include <vector>

namespace dw::render {

struct FrameTimeSummary {
  std::uint64_t frames = 0;
  double mean_ms = 0;
  double p50_ms = 0;
  double p99_ms = 0;
  double max_ms = 0;
  std::uint64_t late = 0;
  double fps = 0;          // display frames per second over the recent window
  double content_fps = 0;  // content frames shown per second over the recent window
};

class FrameStats {
 public:
  static constexpr std::size_t kWindow = 600;  // recent frames kept for percentiles
  static constexpr int kBins = 50;             // histogram: 1 ms bins, the last is "50 ms and more"

  // One display frame took `ms`; `content_frames` became current during it.
  void add(double ms, double refresh_ms, std::uint64_t content_frames);
  FrameTimeSummary summary() const;
  const std::array<std::uint64_t, kBins>& histogram() const { return histogram_; }
  // The recent frame times, oldest first (for the overlay's graph).
  std::vector<float> recent() const;

 private:
  std::vector<float> window_ = std::vector<float>(kWindow, 0.0f);
  std::vector<std::uint32_t> content_window_ = std::vector<std::uint32_t>(kWindow, 0);
  std::size_t next_ = 0;
  std::uint64_t frames_ = 0;
  std::uint64_t late_ = 0;
  double total_ms_ = 0;
  double max_ms_ = 0;
  std::array<std::uint64_t, kBins> histogram_{};
};

}  // namespace dw::render
