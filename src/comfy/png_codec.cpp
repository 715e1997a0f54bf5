#include "comfy/png_codec.h"

#include <fmt/format.h>
#include <libdeflate.h>
#include <png.h>
#include <zlib.h>

#include <cstdlib>
#include <cstring>
#include <memory>
#include <optional>

#include "core/error.h"

namespace dw::comfy {

namespace {

std::uint32_t be32(const std::uint8_t* p) {
  return (std::uint32_t{p[0]} << 24) | (std::uint32_t{p[1]} << 16) | (std::uint32_t{p[2]} << 8) |
         p[3];
}

struct DecompressorDeleter {
  void operator()(libdeflate_decompressor* d) const { libdeflate_free_decompressor(d); }
};

// Undoes the PNG row filters in place (`bpp` bytes per pixel, rows of 1 + `stride` bytes).
void unfilter(std::uint8_t* raw, std::size_t stride, std::size_t rows, std::size_t bpp,
              const std::string& what) {
  const std::uint8_t* prior = nullptr;
  for (std::size_t y = 0; y < rows; ++y) {
    std::uint8_t* r = raw + y * (stride + 1);
    const std::uint8_t type = r[0];
    std::uint8_t* cur = r + 1;
    switch (type) {
      case 0:
        break;
      case 1:
        for (std::size_t x = bpp; x < stride; ++x)
          cur[x] = static_cast<std::uint8_t>(cur[x] + cur[x - bpp]);
        break;
      case 2:
        if (prior)
          for (std::size_t x = 0; x < stride; ++x)
            cur[x] = static_cast<std::uint8_t>(cur[x] + prior[x]);
        break;
      case 3:
        for (std::size_t x = 0; x < stride; ++x) {
          const int left = x >= bpp ? cur[x - bpp] : 0, up = prior ? prior[x] : 0;
          cur[x] = static_cast<std::uint8_t>(cur[x] + ((left + up) >> 1));
        }
        break;
      case 4:
        for (std::size_t x = 0; x < stride; ++x) {
          const int left = x >= bpp ? cur[x - bpp] : 0, up = prior ? prior[x] : 0,
                    corner = x >= bpp && prior ? prior[x - bpp] : 0;
          const int p = left + up - corner, pa = std::abs(p - left), pb = std::abs(p - up),
                    pc = std::abs(p - corner);
          cur[x] = static_cast<std::uint8_t>(
              cur[x] + (pa <= pb && pa <= pc ? left : (pb <= pc ? up : corner)));
        }
        break;
      default:
        throw InputError(
            fmt::format("image '{}': row {} has the unknown PNG filter {}", what, y, type));
    }
    prior = cur;
  }
}

// The fast path for what servers send (8-bit RGB or RGBA, not interlaced): the IDAT stream
// inflated by libdeflate in one call and unfiltered in place. Any other PNG gives nullopt, and
// libpng decodes it. Every length is checked against the buffer before it is used.
std::optional<Image> decode_plain_png(std::span<const std::uint8_t> bytes, const std::string& what,
                                      const ImageLimits& limits) {
  const auto truncated = [&] {
    return InputError(
        fmt::format("image '{}' is not a readable PNG: truncated or malformed chunk", what));
  };
  std::size_t pos = 8;
  std::uint32_t width = 0, height = 0;
  std::size_t channels = 0;
  std::vector<std::span<const std::uint8_t>> idat;
  std::size_t idat_bytes = 0;
  bool ended = false;
  while (!ended) {
    if (bytes.size() - pos < 12) throw truncated();
    const std::uint32_t len = be32(&bytes[pos]);
    if (len > bytes.size() - pos - 12) throw truncated();
    const std::uint8_t* type = &bytes[pos + 4];
    const std::span<const std::uint8_t> data = bytes.subspan(pos + 8, len);
#ifndef DW_FUZZING  // a fuzzer cannot forge checksums: it would never get past them
    const std::uint32_t crc = be32(&bytes[pos + 8 + len]);
    if (libdeflate_crc32(0, type, len + 4) != crc)
      throw InputError(fmt::format("image '{}': CRC error in a '{}' chunk", what,
                                   std::string(reinterpret_cast<const char*>(type), 4)));
#endif
    const std::string_view name(reinterpret_cast<const char*>(type), 4);
    if (pos == 8) {
      if (name != "IHDR" || len != 13) throw truncated();
      width = be32(&data[0]);
      height = be32(&data[4]);
      check_image_size(width, height, what, limits);
      const std::uint8_t depth = data[8], colour = data[9];
      if (depth != 8 || (colour != 2 && colour != 6) || data[10] != 0 || data[11] != 0 ||
          data[12] != 0)
        return std::nullopt;
      channels = colour == 2 ? 3 : 4;
    } else if (name == "IDAT") {
      idat.push_back(data);
      idat_bytes += len;
    } else if (name == "IEND") {
      ended = true;
    } else if ((name[0] & 0x20) == 0) {
      return std::nullopt;  // another critical chunk (PLTE...): libpng's business
    }
    pos += 12 + len;
  }
  if (idat.empty()) throw InputError(fmt::format("image '{}' has no image data", what));
  std::vector<std::uint8_t> joined;
  std::span<const std::uint8_t> stream = idat.front();
  if (idat.size() > 1) {
    joined.reserve(idat_bytes);
    for (const auto& part : idat) joined.insert(joined.end(), part.begin(), part.end());
    stream = joined;
  }
  const std::size_t stride = static_cast<std::size_t>(width) * channels;
  std::vector<std::uint8_t> raw((stride + 1) * height);
  thread_local std::unique_ptr<libdeflate_decompressor, DecompressorDeleter> inflater(
      libdeflate_alloc_decompressor());
  if (!inflater) throw Error("libdeflate_alloc_decompressor failed");
  // No actual-size pointer: the stream must fill `raw` exactly, no more and no less.
  if (libdeflate_zlib_decompress(inflater.get(), stream.data(), stream.size(), raw.data(),
                                 raw.size(), nullptr) != LIBDEFLATE_SUCCESS)
    throw InputError(
        fmt::format("image '{}' cannot be decoded: corrupt or short image data", what));
  unfilter(raw.data(), stride, height, channels, what);
  Image out(static_cast<int>(width), static_cast<int>(height));
  std::uint8_t* o = out.rgba.data();
  for (std::size_t y = 0; y < height; ++y) {
    const std::uint8_t* r = raw.data() + y * (stride + 1) + 1;
    if (channels == 4) {
      std::memcpy(o, r, stride);
      o += stride;
    } else {
      for (std::size_t x = 0; x < width; ++x, o += 4, r += 3) {
        o[0] = r[0], o[1] = r[1], o[2] = r[2], o[3] = 255;
      }
    }
  }
  return out;
}

}  // namespace

Image decode_keyframe_image(std::span<const std::uint8_t> bytes, const std::string& what,
                            const ImageLimits& limits) {
  if (bytes.size() > limits.max_bytes)
    throw InputError(fmt::format("image '{}' is {} bytes, over the limit of {} bytes", what,
                                 bytes.size(), limits.max_bytes));
  if (bytes.size() < 8 || png_sig_cmp(bytes.data(), 0, 8) != 0)
    return decode_image(bytes, what, limits);  // JPEG, or an error naming what it is not
  if (auto plain = decode_plain_png(bytes, what, limits)) return std::move(*plain);
  png_image png;
  std::memset(&png, 0, sizeof png);
  png.version = PNG_IMAGE_VERSION;
  if (!png_image_begin_read_from_memory(&png, bytes.data(), bytes.size()))
    throw InputError(fmt::format("image '{}' is not a readable PNG: {}", what, png.message));
  try {
    check_image_size(png.width, png.height, what, limits);
  } catch (const InputError&) {
    png_image_free(&png);
    throw;
  }
  png.format = PNG_FORMAT_RGBA;
  Image out(static_cast<int>(png.width), static_cast<int>(png.height));
  if (!png_image_finish_read(&png, nullptr, out.rgba.data(), 0, nullptr))
    throw InputError(fmt::format("image '{}' cannot be decoded: {}", what, png.message));
  return out;
}

std::string encode_upload_png(const Image& image) {
  const std::vector<std::uint8_t> png = encode_png(image);
  return std::string(png.begin(), png.end());
}

}  // namespace dw::comfy
