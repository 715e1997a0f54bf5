// File helpers that never leave a half-written file behind.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace dw {

// Whether a write_file_atomic outlives a power cut. Durable: the file and the rename are synced
// (settings, the cache, resume state). Replaceable: readers still see the old file or the new one
// whole, but nothing is synced, so a power cut may leave the old one (a status file rewritten
// every second, whose syncs would wear an SSD for nothing: the next write mends it).
enum class Durability { Durable, Replaceable };

// Writes `bytes` to a temporary file beside `path`, fsyncs it, renames it over `path` and fsyncs
// the directory (the syncs only when Durable). Readers see the old file or the new one, never a
// mix. Throws dw::Error.
void write_file_atomic(const std::string& path, std::span<const std::uint8_t> bytes,
                       Durability durability = Durability::Durable);
void write_file_atomic(const std::string& path, std::string_view text,
                       Durability durability = Durability::Durable);

// The same write, durable, but only where no file of that name exists (a temporary linked to the
// name, which fails where one is): false then, and the file there is left as it is. The file gets
// `mode` (a secret: 0600). Throws dw::Error.
bool create_file_atomic(const std::string& path, std::string_view text, mode_t mode);

// Removes the temporaries write_file_atomic left in `dir` when a write was cut short (a power
// cut, a kill): files named ".<name>.XXXXXX" last written at least `min_age` ago (so a write
// under way elsewhere is never touched); with `target`, only those of that file name. Returns how
// many went; errors (no such directory) remove nothing.
std::size_t remove_stale_temporaries(const std::string& dir, std::string_view target = {},
                                     std::chrono::seconds min_age = std::chrono::minutes(10));

// Reads a whole file, refusing files larger than `max_bytes`. Throws dw::InputError.
std::vector<std::uint8_t> read_file(const std::string& path, std::size_t max_bytes);

// $XDG_<kind>_HOME/dreamwindow (kind: CACHE, STATE, CONFIG), created if missing.
std::string xdg_dir(std::string_view kind);

}  // namespace dw
