// Opening hours, theme windows and brightness by hour (pipeline/schedule.h).
#pragma once

#include <string>
#include <vector>

namespace dw {

struct ScheduleConfig {};

}  // namespace dw
