// The calendar time of an instant in the machine's time zone as it is now. glibc's localtime_r
// reads the zone once per process: a zone set after the start (`timedatectl set-timezone` while
// an installation is commissioned) or a tzdata update with new daylight-saving rules would be
// ignored until a restart, and the schedule's hours would be off by the difference for weeks.
// This asks the C library to look again (tzset: one stat of /etc/localtime when TZ is unset).
#pragma once

#include <ctime>

namespace dw {

std::tm local_calendar_time(std::time_t t);

}  // namespace dw
