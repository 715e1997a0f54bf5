#include "core/local_time.h"

namespace dw {

std::tm local_calendar_time(std::time_t t) {
  tzset();
  std::tm local{};
  localtime_r(&t, &local);
  return local;
}

}  // namespace dw
