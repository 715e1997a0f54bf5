// What the folder tests share: small flat pictures whose red channel names them, written with a
// time that moves on, camera-sized ones, and the log captured while a test runs.
#pragma once

#include <fmt/format.h>
#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <sstream>
#include <string>

#include "core/image.h"

namespace dw::pipeline::folder_test {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

inline constexpr int kSize = 16;

// A flat image whose red channel names it.
inline Image flat(std::uint8_t red) {
  Image img(kSize, kSize);
  for (int y = 0; y < kSize; ++y)
    for (int x = 0; x < kSize; ++x) {
      std::uint8_t* p = img.pixel(x, y);
      p[0] = red;
      p[1] = 40;
      p[2] = 90;
      p[3] = 255;
    }
  return img;
}

// Writes an image and moves its time on, so a replacement is seen even within one clock tick.
inline void put(const fs::path& file, std::uint8_t red) {
  const bool existed = fs::exists(file);
  const auto before = existed ? fs::last_write_time(file) : fs::file_time_type{};
  save_png(flat(red), file.string());
  if (existed) fs::last_write_time(file, before + 10s);
}

// What is logged while it lives (the default logger's lines), for tests of what a user is told.
class CapturedLog {
 public:
  CapturedLog()
      : previous_(spdlog::default_logger()),
        sink_(std::make_shared<spdlog::sinks::ostream_sink_mt>(out_)) {
    spdlog::set_default_logger(std::make_shared<spdlog::logger>("test", sink_));
  }
  ~CapturedLog() { spdlog::set_default_logger(previous_); }
  CapturedLog(const CapturedLog&) = delete;
  CapturedLog& operator=(const CapturedLog&) = delete;
  std::string text() const { return out_.str(); }

 private:
  std::shared_ptr<spdlog::logger> previous_;
  std::ostringstream out_;
  std::shared_ptr<spdlog::sinks::ostream_sink_mt> sink_;
};

// Camera-sized pictures (2400 x 1600, several milliseconds each to read), the red channel naming
// each: 10, 20, 30, 40 in name order.
inline void put_large_pictures(const fs::path& dir) {
  for (int i = 0; i < 4; ++i) {
    Image big(2400, 1600);
    for (std::size_t p = 0; p < big.rgba.size(); p += 4) {
      big.rgba[p] = static_cast<std::uint8_t>(10 * (i + 1));
      big.rgba[p + 3] = 255;
    }
    save_png(big, (dir / fmt::format("photo_{}.png", i)).string());
  }
}

// Six images a.png .. f.png, red 10 .. 60.
inline void put_six(const fs::path& dir) {
  fs::create_directories(dir);
  for (int i = 0; i < 6; ++i)
    put(dir / fmt::format("{}.png", char('a' + i)), static_cast<std::uint8_t>(10 * (i + 1)));
}

inline constexpr std::uint64_t kImageBytes = kSize * kSize * 4;

}  // namespace dw::pipeline::folder_test
