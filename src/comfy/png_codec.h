// The keyframe round trip's image codecs, chosen for speed. Reading: the PNGs servers send (8-bit
// RGB/RGBA, not interlaced) are inflated by libdeflate in one call and unfiltered in place, about
// 1.5-2x faster than libpng, which reads every other PNG. Writing: zlib directly (up filter,
// Huffman only), about three times faster than libpng's fastest setting at about the same size.
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
