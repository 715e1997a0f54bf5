// 8-bit RGBA images in host memory, and bounded PNG/JPEG reading and PNG writing (stb).
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace dw {

struct Image {
  int width = 0;
  int height = 0;
  std::vector<std::uint8_t> rgba;  // width * height * 4, rows top to bottom

  Image() = default;
  // A w x h image of transparent black.
  Image(int w, int h)
      : width(w), height(h), rgba(static_cast<std::size_t>(w) * static_cast<std::size_t>(h) * 4) {}

  bool empty() const { return width == 0 || height == 0; }
  std::uint8_t* pixel(int x, int y) {
    return rgba.data() + (static_cast<std::size_t>(y) * width + x) * 4;
  }
  const std::uint8_t* pixel(int x, int y) const {
    return rgba.data() + (static_cast<std::size_t>(y) * width + x) * 4;
  }
};

// Limits applied before a decoder sees any byte: a file or a server answer larger than these is
// refused with an error that names the limit.
struct ImageLimits {
  std::size_t max_bytes = 64u << 20;
  int max_width = 8192;
  int max_height = 8192;
  std::uint64_t max_pixels = 8192ull * 8192;  // width x height (4 bytes each once decoded)
};

// Throws dw::InputError naming `what` when a w x h picture is outside `limits` (a side, or the
// pixel count): checked from the header, before any pixel is allocated.
void check_image_size(std::uint64_t w, std::uint64_t h, const std::string& what,
                      const ImageLimits& limits);

// Decodes PNG or JPEG bytes to RGBA8. Throws dw::InputError naming `what` (a file or URL) on
// malformed data, or when the dimensions or byte size exceed `limits`.
Image decode_image(std::span<const std::uint8_t> bytes, const std::string& what,
                   const ImageLimits& limits = {});
Image load_image(const std::string& path, const ImageLimits& limits = {});

// An 8-bit RGB PNG (alpha is dropped: every image here is opaque), up-filtered rows and
// Huffman-only deflate: about a third of zlib level 1's time for nearly its size. Cache entries,
// screenshots and ComfyUI uploads all go through it.
std::vector<std::uint8_t> encode_png(const Image& image);
// Writes atomically (temporary file, then rename). Throws dw::Error on failure.
void save_png(const Image& image, const std::string& path);

// Nearest-neighbour-free resize with bilinear filtering and cover/centre-crop to exactly w x h.
Image resize_cover(const Image& src, int w, int h);

}  // namespace dw
