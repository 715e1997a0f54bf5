#include "core/text.h"

#include <algorithm>
#include <cstdint>

namespace dw {
namespace {

constexpr std::string_view kReplacement = "\xEF\xBF\xBD";  // U+FFFD
constexpr std::string_view kEllipsis = "...";

// The length of the well-formed UTF-8 sequence at the start of `s` and its code point, or 0 when
// the first byte does not start one (RFC 3629's table: no overlongs, no surrogates, <= U+10FFFF).
std::size_t decode(std::string_view s, std::uint32_t& cp) {
  const auto b = [&](std::size_t i) { return static_cast<unsigned char>(s[i]); };
  const unsigned char c = b(0);
  if (c < 0x80) {
    cp = c;
    return 1;
  }
  std::size_t n = 0;
  unsigned char lo = 0x80, hi = 0xBF;  // the allowed range of the second byte
  if (c >= 0xC2 && c <= 0xDF) {
    n = 2;
  } else if (c >= 0xE0 && c <= 0xEF) {
    n = 3;
    if (c == 0xE0) lo = 0xA0;  // no overlongs
    if (c == 0xED) hi = 0x9F;  // no surrogates
  } else if (c >= 0xF0 && c <= 0xF4) {
    n = 4;
    if (c == 0xF0) lo = 0x90;  // no overlongs
    if (c == 0xF4) hi = 0x8F;  // nothing above U+10FFFF
  } else {
    return 0;
  }
  if (s.size() < n || b(1) < lo || b(1) > hi) return 0;
  for (std::size_t i = 2; i < n; ++i)
    if ((b(i) & 0xC0) != 0x80) return 0;
  cp = c & (0xFF >> (n + 1));
  for (std::size_t i = 1; i < n; ++i) cp = (cp << 6) | (b(i) & 0x3F);
  return n;
}

void append_hex(std::string& out, const char* prefix, std::uint32_t value, int digits) {
  static constexpr char kHex[] = "0123456789abcdef";
  out += prefix;
  for (int i = digits - 1; i >= 0; --i) out.push_back(kHex[(value >> (4 * i)) & 0xF]);
}

// How code point `cp` (encoded as `raw`) is written out.
void append_printable(std::string& out, std::uint32_t cp, std::string_view raw) {
  switch (cp) {
    case '\n':
      out += "\\n";
      return;
    case '\r':
      out += "\\r";
      return;
    case '\t':
      out += "\\t";
      return;
    case '\\':
      out += "\\\\";
      return;
    default:
      break;
  }
  if (cp < 0x20 || cp == 0x7F) {
    append_hex(out, "\\x", cp, 2);
  } else if ((cp >= 0x80 && cp <= 0x9F) || (cp >= 0x202A && cp <= 0x202E) ||
             (cp >= 0x2066 && cp <= 0x2069)) {
    append_hex(out, "\\u", cp, 4);
  } else {
    out += raw;
  }
}

}  // namespace

std::string printable_text(std::string_view text, std::size_t max_bytes) {
  max_bytes = std::max<std::size_t>(max_bytes, 16);
  std::string out;
  out.reserve(std::min(text.size(), max_bytes) + 8);
  std::size_t fits_with_ellipsis = 0;  // the output's length at the last boundary that leaves room
  std::size_t i = 0;
  while (i < text.size()) {
    std::uint32_t cp = 0;
    const std::size_t n = decode(text.substr(i), cp);
    if (n == 0)
      out += kReplacement;
    else
      append_printable(out, cp, text.substr(i, n));
    i += n == 0 ? 1 : n;
    if (out.size() > max_bytes) {
      out.resize(fits_with_ellipsis);
      out += kEllipsis;
      return out;
    }
    if (out.size() + kEllipsis.size() <= max_bytes) fits_with_ellipsis = out.size();
  }
  return out;
}

bool is_valid_utf8(std::string_view text) {
  std::size_t i = 0;
  while (i < text.size()) {
    std::uint32_t cp = 0;
    const std::size_t n = decode(text.substr(i), cp);
    if (n == 0) return false;
    i += n;
  }
  return true;
}

}  // namespace dw
