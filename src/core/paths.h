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

// A path from the config (source.folder, vae.decoder, comfy.workflow, prompts.themes_file): as
// given when it exists or is absolute; a relative one that does not exist from here may name a
// shipped file ("assets/seeds"), found as find_data_path finds it; else as given (the reader then
// says it is missing). The config check and every reader resolve it so, alike.
std::string resolve_input_path(const std::string& value);

// The places find_data_path looks, in order (for error messages and --help).
std::vector<std::filesystem::path> data_search_roots();

}  // namespace dw
