#include "core/image.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstring>

#include "core/error.h"
#include "core/files.h"

// stb comes from Debian's libstb (headers plus a shared library with the implementations).
#include <stb_image.h>
#include <stb_image_write.h>

namespace dw {

Image decode_image(std::span<const std::uint8_t> bytes, const std::string& what,
                   const ImageLimits& limits) {
  if (bytes.size() > limits.max_bytes)
    throw InputError(fmt::format("image '{}' is {} bytes, over the limit of {} bytes", what,
                                 bytes.size(), limits.max_bytes));
  if (bytes.size() > static_cast<std::size_t>(INT32_MAX))
    throw InputError(fmt::format("image '{}' is too large", what));
  // Only PNG and JPEG are accepted: the shared libstb would also parse formats nobody sends us.
  static constexpr std::uint8_t kPng[] = {0x89, 'P', 'N', 'G', 0x0D, 0x0A, 0x1A, 0x0A};
  const bool is_png = bytes.size() >= 8 && std::memcmp(bytes.data(), kPng, 8) == 0;
  const bool is_jpeg = bytes.size() >= 3 && bytes[0] == 0xFF && bytes[1] == 0xD8 && bytes[2] == 0xFF;
  if (!is_png && !is_jpeg)
    throw InputError(fmt::format("image '{}' is neither PNG nor JPEG ({} bytes)", what,
                                 bytes.size()));
  int w = 0, h = 0, channels = 0;
  // Read the header first so that a huge declared size is refused before any allocation.
  if (!stbi_info_from_memory(bytes.data(), static_cast<int>(bytes.size()), &w, &h, &channels))
    throw InputError(fmt::format("image '{}' is not a readable PNG or JPEG: {}", what,
                                 stbi_failure_reason()));
  if (w <= 0 || h <= 0 || w > limits.max_width || h > limits.max_height)
    throw InputError(fmt::format("image '{}' is {}x{}, outside the allowed 1x1 to {}x{}", what, w,
                                 h, limits.max_width, limits.max_height));
  unsigned char* data =
      stbi_load_from_memory(bytes.data(), static_cast<int>(bytes.size()), &w, &h, &channels, 4);
  if (data == nullptr)
    throw InputError(fmt::format("image '{}' cannot be decoded: {}", what, stbi_failure_reason()));
  Image img(w, h);
  std::copy(data, data + img.rgba.size(), img.rgba.begin());
  stbi_image_free(data);
  return img;
}

Image load_image(const std::string& path, const ImageLimits& limits) {
  const std::vector<std::uint8_t> bytes = read_file(path, limits.max_bytes);
  return decode_image(bytes, path, limits);
}

std::vector<std::uint8_t> encode_png(const Image& image) {
  DW_CHECK(!image.empty() && image.rgba.size() == static_cast<std::size_t>(image.width) *
                                                         image.height * 4,
           "encode_png needs a non-empty RGBA image");
  std::vector<std::uint8_t> out;
  const auto sink = [](void* context, void* data, int size) {
    auto* v = static_cast<std::vector<std::uint8_t>*>(context);
    const auto* p = static_cast<const std::uint8_t*>(data);
    v->insert(v->end(), p, p + size);
  };
  if (!stbi_write_png_to_func(sink, &out, image.width, image.height, 4, image.rgba.data(),
                              image.width * 4))
    throw Error("PNG encoding failed");
  return out;
}

void save_png(const Image& image, const std::string& path) {
  write_file_atomic(path, encode_png(image));
}

Image resize_cover(const Image& src, int w, int h) {
  DW_CHECK(!src.empty() && w > 0 && h > 0, "resize_cover needs non-empty sizes");
  // Scale so the source covers the target, then centre-crop; sample bilinearly in source space.
  const double scale = std::max(static_cast<double>(w) / src.width,
                                static_cast<double>(h) / src.height);
  const double off_x = (src.width * scale - w) / 2.0;
  const double off_y = (src.height * scale - h) / 2.0;
  Image out(w, h);
  for (int y = 0; y < h; ++y) {
    const double sy = std::clamp((y + 0.5 + off_y) / scale - 0.5, 0.0, src.height - 1.0);
    const int y0 = static_cast<int>(sy);
    const int y1 = std::min(y0 + 1, src.height - 1);
    const double fy = sy - y0;
    for (int x = 0; x < w; ++x) {
      const double sx = std::clamp((x + 0.5 + off_x) / scale - 0.5, 0.0, src.width - 1.0);
      const int x0 = static_cast<int>(sx);
      const int x1 = std::min(x0 + 1, src.width - 1);
      const double fx = sx - x0;
      const std::uint8_t* a = src.pixel(x0, y0);
      const std::uint8_t* b = src.pixel(x1, y0);
      const std::uint8_t* c = src.pixel(x0, y1);
      const std::uint8_t* d = src.pixel(x1, y1);
      std::uint8_t* o = out.pixel(x, y);
      for (int k = 0; k < 4; ++k) {
        const double top = a[k] + (b[k] - a[k]) * fx;
        const double bottom = c[k] + (d[k] - c[k]) * fx;
        o[k] = static_cast<std::uint8_t>(std::lround(top + (bottom - top) * fy));
      }
    }
  }
  return out;
}

}  // namespace dw
