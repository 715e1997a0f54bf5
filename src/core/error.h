// Errors: one exception type for the whole project, plus the macros that check every external API
// call (CUDA, cuDNN, GL, curl ... each area defines its own thin macro on top of throw_api_error).
// Workers throw; the thread boundary catches, logs, counts and reports. Destructors never throw.
#pragma once

#include <source_location>
#include <stdexcept>
#include <string>
#include <string_view>

namespace dw {

class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Thrown for bad user input (config, files, server answers): the message alone names what is
// wrong; no file/line of ours is attached because the user has nothing to do with them.
class InputError : public Error {
 public:
  using Error::Error;
};

// Work stopped because shutdown was requested: not a failure, nothing to report.
class Cancelled : public Error {
 public:
  using Error::Error;
};

// Builds "<api> error <code> (<detail>) in `<statement>` at file:line" and throws dw::Error.
[[noreturn]] void throw_api_error(std::string_view api, long long code, std::string_view detail,
                                  std::string_view statement, const char* file, int line);

// Throws dw::Error with the caller's location when a project invariant does not hold.
[[noreturn]] void throw_check_failure(std::string_view condition, std::string_view message,
                                      const char* file, int line);

}  // namespace dw

#define DW_CHECK(cond, msg)                                                   \
  do {                                                                        \
    if (!(cond)) ::dw::throw_check_failure(#cond, (msg), __FILE__, __LINE__); \
  } while (0)
