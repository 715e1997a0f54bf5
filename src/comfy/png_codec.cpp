#include "comfy/png_codec.h"

#include <fmt/format.h>
#include <png.h>
#include <zlib.h>

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

namespace {

void put_u32(std::string& out, std::uint32_t v) {
  const char b[4] = {static_cast<char>(v >> 24), static_cast<char>(v >> 16),
                     static_cast<char>(v >> 8), static_cast<char>(v)};
  out.append(b, 4);
}

// Appends a chunk whose data was already written at out[start + 8 ...]: length, type, CRC.
void close_chunk(std::string& out, std::size_t start) {
  const auto length = static_cast<std::uint32_t>(out.size() - start - 8);
  for (int i = 0; i < 4; ++i) out[start + i] = static_cast<char>(length >> (24 - 8 * i));
  const auto* p = reinterpret_cast<const Bytef*>(out.data() + start + 4);
  put_u32(out, static_cast<std::uint32_t>(crc32(0, p, length + 4)));
}

}  // namespace

std::string encode_upload_png(const Image& image) {
  DW_CHECK(!image.empty(), "encode_upload_png needs a non-empty image");
  // Rows of RGB with the "up" filter: it costs one subtraction per byte and leaves Huffman coding
  // (no LZ77 search) nearly as small a file as zlib's level 1, at a third of its time.
  const std::size_t w = static_cast<std::size_t>(image.width), h = static_cast<std::size_t>(image.height);
  const std::size_t row = 1 + 3 * w;
  std::vector<std::uint8_t> raw(row * h);
  for (std::size_t y = 0; y < h; ++y) {
    std::uint8_t* r = raw.data() + y * row;
    const std::uint8_t* src = image.rgba.data() + y * w * 4;
    const std::uint8_t* above = y > 0 ? src - w * 4 : nullptr;
    r[0] = above ? 2 : 0;
    for (std::size_t x = 0; x < w; ++x)
      for (int c = 0; c < 3; ++c)
        r[1 + 3 * x + c] = static_cast<std::uint8_t>(src[4 * x + c] - (above ? above[4 * x + c] : 0));
  }
  z_stream z{};
  if (deflateInit2(&z, Z_BEST_SPEED, Z_DEFLATED, 15, 8, Z_HUFFMAN_ONLY) != Z_OK)
    throw Error("zlib deflateInit2 failed");
  const uLong bound = deflateBound(&z, static_cast<uLong>(raw.size()));
  std::string out("\x89PNG\r\n\x1a\n", 8);
  out.reserve(8 + 25 + 12 + bound + 12);
  std::size_t start = out.size();
  out.append(8, '\0');
  std::memcpy(out.data() + start + 4, "IHDR", 4);
  put_u32(out, static_cast<std::uint32_t>(w));
  put_u32(out, static_cast<std::uint32_t>(h));
  out.append("\x08\x02\x00\x00\x00", 5);  // 8 bits, RGB, deflate, adaptive filters, no interlace
  close_chunk(out, start);
  start = out.size();
  out.append(8, '\0');
  std::memcpy(out.data() + start + 4, "IDAT", 4);
  const std::size_t data_at = out.size();
  out.resize(data_at + bound);
  z.next_in = raw.data();
  z.avail_in = static_cast<uInt>(raw.size());
  z.next_out = reinterpret_cast<Bytef*>(out.data() + data_at);
  z.avail_out = static_cast<uInt>(bound);
  const int rc = deflate(&z, Z_FINISH);
  const std::size_t written = z.total_out;
  deflateEnd(&z);
  if (rc != Z_STREAM_END) throw Error("zlib deflate failed");
  out.resize(data_at + written);
  close_chunk(out, start);
  start = out.size();
  out.append(8, '\0');
  std::memcpy(out.data() + start + 4, "IEND", 4);
  close_chunk(out, start);
  return out;
}

}  // namespace dw::comfy
