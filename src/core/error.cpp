#include "core/error.h"

#include <fmt/format.h>

namespace dw {

void throw_api_error(std::string_view api, long long code, std::string_view detail,
                     std::string_view statement, const char* file, int line) {
  throw Error(
      fmt::format("{} error {} ({}) in `{}` at {}:{}", api, code, detail, statement, file, line));
}

void throw_check_failure(std::string_view condition, std::string_view message, const char* file,
                         int line) {
  throw Error(fmt::format("{} (check `{}` failed at {}:{})", message, condition, file, line));
}

}  // namespace dw
