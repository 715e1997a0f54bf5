// libFuzzer harness: the WebSocket frame layer (comfy/websocket.h WsFrameReader) fed with what a
// server sends, split into reads at fuzzer-chosen points. Every frame is either refused with
// TransportError or consumed within the bytes given; no message exceeds the cap; an incomplete
// frame never asks for more than a header plus the cap.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "comfy/websocket.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  constexpr std::size_t kCap = 4096;
  if (size < 1) return 0;
  const std::size_t chunk = 1 + data[0] % 64;  // how many bytes each "read" brings
  const std::string_view input(reinterpret_cast<const char*>(data) + 1, size - 1);
  dw::comfy::WsFrameReader reader("fuzz", kCap);
  std::string buffer;
  std::size_t fed = 0;
  try {
    while (fed < input.size() || !buffer.empty()) {
      if (fed < input.size()) {
        const std::size_t n = std::min(chunk, input.size() - fed);
        buffer.append(input.substr(fed, n));
        fed += n;
      }
      for (;;) {
        const auto step = reader.next(buffer);
        if (step.consumed == 0) {
          if (step.need <= buffer.size() || step.need > kCap + 14) __builtin_trap();
          break;
        }
        if (step.consumed > buffer.size()) __builtin_trap();
        if (step.message && step.message->payload.size() > kCap) __builtin_trap();
        if (step.ping && step.ping->size() > 125) __builtin_trap();
        buffer.erase(0, step.consumed);
      }
      if (fed == input.size()) break;
    }
  } catch (const dw::comfy::TransportError&) {
  }
  return 0;
}
