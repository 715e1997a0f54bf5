// Finding the project's data folders (shaders/, assets/) wherever dreamwindow runs from: an
// explicit $DREAMWINDOW_DATA_DIR, beside or above the executable (a build tree or an install
// prefix's share/dreamwindow), or the source tree it was built from.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace dw {

// The directory holding `relative` (e.g. "shaders/present.frag" or "assets/seeds"), or nothing.
std::optional<std::filesystem::path> find_data_path(const std::filesystem::path& relative);

// The places find_data_path looks, in order (for error messages and --help).
std::vector<std::filesystem::path> data_search_roots();

}  // namespace dw
