#include "core/image.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstring>

#include "core/error.h"
#include "core/files.h"

// stb comes from Debian's libstb (headers plus a shared library with the implementations); it
// decodes. PNGs are written with zlib.
#include <stb_image.h>
#include <zlib.h>

namespace dw {

void check_image_size(std::uint64_t w, std::uint64_t h, const std::string& what,
                      const ImageLimits& limits) {
  if (w == 0 || h == 0 || w > static_cast<std::uint64_t>(limits.max_width) ||
      h > static_cast<std::uint64_t>(limits.max_height))
    throw InputError(fmt::format("image '{}' is {}x{}, outside the allowed 1x1 to {}x{}", what, w,
                                 h, limits.max_width, limits.max_height));
  if (w * h > limits.max_pixels)
    throw InputError(fmt::format("image '{}' is {}x{}, {:.1f} megapixels, over the limit of {:.1f}",
                                 what, w, h, static_cast<double>(w * h) / 1e6,
                                 static_cast<double>(limits.max_pixels) / 1e6));
}

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
  const bool is_jpeg =
      bytes.size() >= 3 && bytes[0] == 0xFF && bytes[1] == 0xD8 && bytes[2] == 0xFF;
  if (!is_png && !is_jpeg)
    throw InputError(
        fmt::format("image '{}' is neither PNG nor JPEG ({} bytes)", what, bytes.size()));
  int w = 0, h = 0, channels = 0;
  // Read the header first so that a huge declared size is refused before any allocation.
  if (!stbi_info_from_memory(bytes.data(), static_cast<int>(bytes.size()), &w, &h, &channels))
    throw InputError(
        fmt::format("image '{}' is not a readable PNG or JPEG: {}", what, stbi_failure_reason()));
  check_image_size(static_cast<std::uint64_t>(std::max(w, 0)),
                   static_cast<std::uint64_t>(std::max(h, 0)), what, limits);
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

namespace {

void put_u32(std::vector<std::uint8_t>& out, std::uint32_t v) {
  for (int shift = 24; shift >= 0; shift -= 8) out.push_back(static_cast<std::uint8_t>(v >> shift));
}

// Finishes a chunk whose type and data were written from out[start + 4]: its length, then the CRC.
void close_chunk(std::vector<std::uint8_t>& out, std::size_t start) {
  const auto length = static_cast<std::uint32_t>(out.size() - start - 8);
  for (int i = 0; i < 4; ++i) out[start + i] = static_cast<std::uint8_t>(length >> (24 - 8 * i));
  put_u32(out, static_cast<std::uint32_t>(crc32(0, out.data() + start + 4, length + 4)));
}

}  // namespace

std::vector<std::uint8_t> encode_png(const Image& image) {
  DW_CHECK(!image.empty() &&
               image.rgba.size() == static_cast<std::size_t>(image.width) * image.height * 4,
           "encode_png needs a non-empty RGBA image");
  // Rows of RGB with the "up" filter: one subtraction per byte, after which Huffman coding alone
  // (no LZ77 search) makes a file nearly as small as zlib's level 1 in a third of its time.
  const std::size_t w = static_cast<std::size_t>(image.width);
  const std::size_t h = static_cast<std::size_t>(image.height);
  const std::size_t row = 1 + 3 * w;
  std::vector<std::uint8_t> raw(row * h);
  for (std::size_t y = 0; y < h; ++y) {
    std::uint8_t* r = raw.data() + y * row;
    const std::uint8_t* src = image.rgba.data() + y * w * 4;
    const std::uint8_t* above = y > 0 ? src - w * 4 : nullptr;
    r[0] = above ? 2 : 0;
    for (std::size_t x = 0; x < w; ++x)
      for (int c = 0; c < 3; ++c)
        r[1 + 3 * x + c] =
            static_cast<std::uint8_t>(src[4 * x + c] - (above ? above[4 * x + c] : 0));
  }
  z_stream z{};
  if (deflateInit2(&z, Z_BEST_SPEED, Z_DEFLATED, 15, 8, Z_HUFFMAN_ONLY) != Z_OK)
    throw Error("PNG encoding: zlib deflateInit2 failed");
  const uLong bound = deflateBound(&z, static_cast<uLong>(raw.size()));
  std::vector<std::uint8_t> out = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
  out.reserve(8 + 25 + 12 + bound + 12);
  std::size_t start = out.size();
  out.insert(out.end(), {0, 0, 0, 0, 'I', 'H', 'D', 'R'});
  put_u32(out, static_cast<std::uint32_t>(w));
  put_u32(out, static_cast<std::uint32_t>(h));
  out.insert(out.end(), {8, 2, 0, 0, 0});  // 8 bits, RGB, deflate, adaptive filters, no interlace
  close_chunk(out, start);
  start = out.size();
  out.insert(out.end(), {0, 0, 0, 0, 'I', 'D', 'A', 'T'});
  const std::size_t data_at = out.size();
  out.resize(data_at + bound);
  z.next_in = raw.data();
  z.avail_in = static_cast<uInt>(raw.size());
  z.next_out = out.data() + data_at;
  z.avail_out = static_cast<uInt>(bound);
  const int rc = deflate(&z, Z_FINISH);
  const std::size_t written = z.total_out;
  deflateEnd(&z);
  if (rc != Z_STREAM_END) throw Error("PNG encoding: zlib deflate failed");
  out.resize(data_at + written);
  close_chunk(out, start);
  start = out.size();
  out.insert(out.end(), {0, 0, 0, 0, 'I', 'E', 'N', 'D'});
  close_chunk(out, start);
  return out;
}

void save_png(const Image& image, const std::string& path) {
  write_file_atomic(path, encode_png(image));
}

Image resize_cover(const Image& src, int w, int h) {
  DW_CHECK(!src.empty() && w > 0 && h > 0, "resize_cover needs non-empty sizes");
  // Scale so the source covers the target, then centre-crop; sample bilinearly in source space.
  const double scale =
      std::max(static_cast<double>(w) / src.width, static_cast<double>(h) / src.height);
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
