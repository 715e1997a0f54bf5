// File helpers that never leave a half-written file behind.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace dw {

// Writes `bytes` to a temporary file beside `path`, fsyncs it, renames it over `path` and fsyncs
// the directory. Readers see the old file or the new one, never a mix. Throws dw::Error.
void write_file_atomic(const std::string& path, std::span<const std::uint8_t> bytes);
void write_file_atomic(const std::string& path, std::string_view text);

// Reads a whole file, refusing files larger than `max_bytes`. Throws dw::InputError.
std::vector<std::uint8_t> read_file(const std::string& path, std::size_t max_bytes);

// $XDG_<kind>_HOME/dreamwindow (kind: CACHE, STATE, CONFIG), created if missing.
std::string xdg_dir(std::string_view kind);

}  // namespace dw
