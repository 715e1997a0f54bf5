#include "comfy/png_codec.h"

#include <fmt/format.h>
#include <png.h>

#include <cstring>

#include "core/error.h"

namespace dw::comfy {

Image decode_keyframe_image(std::span<const std::uint8_t> bytes, const std::string& what,
                            const ImageLimits& limits) {
  if (bytes.size() > limits.max_bytes)
    throw InputError(fmt::format("image '{}' is {} bytes, over the limit of {} bytes", what,
                                 bytes.size(), limits.max_bytes));
  if (bytes.size() < 8 || png_sig_cmp(bytes.data(), 0, 8) != 0)
    return decode_image(bytes, what, limits);  // JPEG, or an error naming what it is not
  png_image png;
  std::memset(&png, 0, sizeof png);
  png.version = PNG_IMAGE_VERSION;
  if (!png_image_begin_read_from_memory(&png, bytes.data(), bytes.size()))
    throw InputError(fmt::format("image '{}' is not a readable PNG: {}", what, png.message));
  if (png.width == 0 || png.height == 0 || png.width > static_cast<png_uint_32>(limits.max_width) ||
      png.height > static_cast<png_uint_32>(limits.max_height)) {
    png_image_free(&png);
    throw InputError(fmt::format("image '{}' is {}x{}, outside the allowed 1x1 to {}x{}", what,
                                 png.width, png.height, limits.max_width, limits.max_height));
  }
  png.format = PNG_FORMAT_RGBA;
  Image out(static_cast<int>(png.width), static_cast<int>(png.height));
  if (!png_image_finish_read(&png, nullptr, out.rgba.data(), 0, nullptr))
    throw InputError(fmt::format("image '{}' cannot be decoded: {}", what, png.message));
  return out;
}

std::string encode_upload_png(const Image& image) {
  DW_CHECK(!image.empty(), "encode_upload_png needs a non-empty image");
  // RGB halves nothing for zlib's work but drops a quarter of the bytes to deflate.
  std::vector<std::uint8_t> rgb(static_cast<std::size_t>(image.width) * image.height * 3);
  for (std::size_t i = 0, j = 0; i < image.rgba.size(); i += 4, j += 3) {
    rgb[j] = image.rgba[i];
    rgb[j + 1] = image.rgba[i + 1];
    rgb[j + 2] = image.rgba[i + 2];
  }
  png_image png;
  std::memset(&png, 0, sizeof png);
  png.version = PNG_IMAGE_VERSION;
  png.width = static_cast<png_uint_32>(image.width);
  png.height = static_cast<png_uint_32>(image.height);
  png.format = PNG_FORMAT_RGB;
  png.flags = PNG_IMAGE_FLAG_FAST;
  // One pass into a buffer of the worst-case size (stored blocks), then trimmed.
  png_alloc_size_t size = PNG_IMAGE_PNG_SIZE_MAX(png);
  std::string out(size, '\0');
  if (!png_image_write_to_memory(&png, out.data(), &size, 0, rgb.data(), 0, nullptr))
    throw Error(fmt::format("PNG encoding failed: {}", png.message));
  out.resize(size);
  return out;
}

}  // namespace dw::comfy
