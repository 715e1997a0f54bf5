// The keyframe round trip's image codecs, chosen for speed: libpng (SIMD filters, zlib) reads the
// server's PNGs in a fraction of stb's time, and writes our uploads with zlib's fastest level.
// Limits are checked from the PNG header before any pixel buffer is allocated; anything that is
// not a PNG goes to the bounded stb reader (core/image.h).
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "core/image.h"

namespace dw::comfy {

// PNG (or JPEG through stb) to RGBA8. Throws dw::InputError naming `what` when the bytes are
// malformed or over `limits`.
Image decode_keyframe_image(std::span<const std::uint8_t> bytes, const std::string& what,
                            const ImageLimits& limits);
// RGBA8 to PNG (RGB: the alpha channel of a keyframe is always opaque), fast compression.
std::string encode_upload_png(const Image& image);

}  // namespace dw::comfy
