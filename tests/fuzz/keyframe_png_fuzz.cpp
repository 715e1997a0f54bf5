// libFuzzer harness: any byte string given to the keyframe image reader (what a ComfyUI server
// sends) either is refused with dw::InputError or decodes to an image within the caps whose
// every pixel can be read.
#include <cstddef>
#include <cstdint>
#include <span>

#include "comfy/png_codec.h"
#include "core/error.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const dw::ImageLimits limits{1u << 20, 512, 512};  // keep single inputs cheap
  try {
    const dw::Image img =
        dw::comfy::decode_keyframe_image(std::span<const std::uint8_t>(data, size), "fuzz", limits);
    if (img.width < 1 || img.height < 1 || img.width > limits.max_width ||
        img.height > limits.max_height ||
        img.rgba.size() != static_cast<std::size_t>(img.width) * img.height * 4)
      __builtin_trap();
    volatile std::uint8_t sink = 0;
    for (std::uint8_t b : img.rgba) sink = sink ^ b;  // touch every byte: ASan checks the bounds
    (void)sink;
  } catch (const dw::InputError&) {
  }
  return 0;
}
