// Opening hours, theme windows and brightness by hour (formats: core/schedule_spec.h; meaning:
// pipeline/schedule.h).
#pragma once

#include <string>
#include <vector>

namespace dw {

struct ScheduleConfig {
  bool enabled = false;  // off: always open, full light, the normal theme rotation
  double fade_s = 30;    // fade to black after closing, and back in after opening
  // Opening hours per weekday: "09:00-18:00", "10:00-12:00, 14:00-18:00", "closed", "all day".
  std::string mon = "all day";
  std::string tue = "all day";
  std::string wed = "all day";
  std::string thu = "all day";
  std::string fri = "all day";
  std::string sat = "all day";
  std::string sun = "all day";
  std::vector<std::string> dates;       // "2026-12-24=10:00-14:00", "2026-12-25=closed"
  std::vector<std::string> themes;      // "22:00-06:00=night", "08:00-12:00=forest|ocean"
  std::vector<std::string> brightness;  // "00:00=0.3", "08:00=1.0", "20:00=0.6"
};

}  // namespace dw
