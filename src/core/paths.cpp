#include "core/paths.h"

#include <unistd.h>

#include <cstdlib>

namespace dw {
namespace {

std::filesystem::path executable_dir() {
  std::error_code ec;
  const auto exe = std::filesystem::read_symlink("/proc/self/exe", ec);
  return ec ? std::filesystem::path() : exe.parent_path();
}

}  // namespace

std::vector<std::filesystem::path> data_search_roots() {
  std::vector<std::filesystem::path> roots;
  if (const char* env = std::getenv("DREAMWINDOW_DATA_DIR"); env && *env) roots.emplace_back(env);
  const auto exe = executable_dir();
  if (!exe.empty()) {
    // Walk up from the executable: build/<preset>/tests/x -> ... -> the source tree, or an
    // install prefix's bin/ -> share/dreamwindow.
    for (auto dir = exe; !dir.empty(); dir = dir.parent_path()) {
      roots.push_back(dir);
      roots.push_back(dir / "share" / "dreamwindow");
      if (dir == dir.root_path()) break;
    }
  }
#ifdef DW_SOURCE_DIR
  roots.emplace_back(DW_SOURCE_DIR);
#endif
  return roots;
}

std::optional<std::filesystem::path> find_data_path(const std::filesystem::path& relative) {
  std::error_code ec;
  for (const auto& root : data_search_roots()) {
    const auto candidate = root / relative;
    if (std::filesystem::exists(candidate, ec)) return std::filesystem::canonical(candidate, ec);
  }
  return std::nullopt;
}

std::string resolve_input_path(const std::string& value) {
  std::error_code ec;
  if (value.empty() || std::filesystem::path(value).is_absolute() ||
      std::filesystem::exists(value, ec))
    return value;
  if (auto found = find_data_path(value)) return found->string();
  return value;
}

}  // namespace dw
