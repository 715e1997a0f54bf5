// libFuzzer harness: any byte string given to the safetensors reader either is refused with
// dw::InputError or yields tensors whose bytes lie inside the file and convert without faults.
// Model detection runs on whatever parses, since it reads shapes from untrusted headers too.
#include <cstddef>
#include <cstdint>
#include <span>

#include "core/error.h"
#include "vae/safetensors.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace dw::vae;
  SafetensorsLimits limits;
  limits.max_header_bytes = 1 << 20;  // keep single inputs cheap
  try {
    const SafetensorsFile file =
        SafetensorsFile::from_bytes(std::span<const std::uint8_t>(data, size), "fuzz", limits);
    for (const TensorEntry& entry : file.tensors()) {
      const auto bytes = file.bytes(entry);
      volatile std::uint8_t sink = 0;
      for (std::uint8_t b : bytes) sink = sink ^ b;  // touch every byte: ASan checks the bounds
      (void)sink;
      if (dtype_is_float(entry.dtype)) {
        try {
          (void)file.read_f32(entry);
        } catch (const dw::InputError&) {
        }
      }
    }
  } catch (const dw::InputError&) {
  }
  return 0;
}
