// Text from outside (a server's error messages, names, file excerpts) made safe for one line of a
// log, status.json and the overlay: valid UTF-8, no control characters, bounded length.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace dw {

// `text` as printable, valid UTF-8 of at most `max_bytes` bytes (at least 16):
// - every byte that does not start a well-formed UTF-8 sequence (a stray continuation byte, a
//   sequence cut short, an overlong form, a surrogate, a code point above U+10FFFF) becomes
//   U+FFFD, so a message cut in the middle of a character stays valid;
// - control characters are written as escapes: \n, \r, \t, \\ stay readable, ESC and the other C0
//   and C1 controls become \x1b / \u0085, and so do DEL and the bidirectional overrides
//   (U+202A-U+202E, U+2066-U+2069) that could make a log line read differently than it is: a
//   server cannot forge a log line, move the cursor or recolour the terminal;
// - text longer than `max_bytes` is cut at a character boundary and ends in "...".
std::string printable_text(std::string_view text, std::size_t max_bytes = 240);

// True when `text` is well-formed UTF-8 (what printable_text leaves unchanged apart from escapes).
bool is_valid_utf8(std::string_view text);

}  // namespace dw
