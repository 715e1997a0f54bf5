#include "render/frame_stats.h"

#include <algorithm>
#include <numeric>

namespace dw::render {

void FrameStats::add(double ms, double refresh_ms, std::uint64_t content_frames) {
  window_[next_] = static_cast<float>(ms);
  content_window_[next_] = static_cast<std::uint32_t>(content_frames);
  next_ = (next_ + 1) % kWindow;
  ++frames_;
  total_ms_ += ms;
  max_ms_ = std::max(max_ms_, ms);
  if (refresh_ms > 0 && ms > 1.5 * refresh_ms) ++late_;
  histogram_[std::clamp(static_cast<int>(ms), 0, kBins - 1)] += 1;
}

FrameTimeSummary FrameStats::summary() const {
  FrameTimeSummary s;
  s.frames = frames_;
  s.late = late_;
  s.max_ms = max_ms_;
  if (frames_ == 0) return s;
  s.mean_ms = total_ms_ / static_cast<double>(frames_);
  const std::size_t n = static_cast<std::size_t>(std::min<std::uint64_t>(frames_, kWindow));
  std::vector<float> recent_times = recent();
  const double window_ms = std::accumulate(recent_times.begin(), recent_times.end(), 0.0);
  std::uint64_t content = 0;
  for (std::size_t i = 0; i < n; ++i)
    content += content_window_[(next_ + kWindow - n + i) % kWindow];
  std::sort(recent_times.begin(), recent_times.end());
  const auto at = [&](double q) {
    return recent_times[std::min(n - 1,
                                 static_cast<std::size_t>(q * static_cast<double>(n - 1) + 0.5))];
  };
  s.p50_ms = at(0.50);
  s.p99_ms = at(0.99);
  if (window_ms > 0) {
    s.fps = 1000.0 * static_cast<double>(n) / window_ms;
    s.content_fps = 1000.0 * static_cast<double>(content) / window_ms;
  }
  return s;
}

std::vector<float> FrameStats::recent() const {
  const std::size_t n = static_cast<std::size_t>(std::min<std::uint64_t>(frames_, kWindow));
  std::vector<float> out(n);
  for (std::size_t i = 0; i < n; ++i) out[i] = window_[(next_ + kWindow - n + i) % kWindow];
  return out;
}

}  // namespace dw::render
