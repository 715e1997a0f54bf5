#include "cache/write_budget.h"

#include <algorithm>

namespace dw::cache {

void WriteBudget::set_rate(double bytes_per_day) {
  const bool first = per_day_ == 0 && !last_;
  per_day_ = std::max(bytes_per_day, 0.0);
  balance_ = first ? burst() : std::min(balance_, burst());
}

void WriteBudget::refill(TimePoint now) {
  if (last_ && now > *last_) {
    const double seconds = std::chrono::duration<double>(now - *last_).count();
    balance_ = std::min(burst(), balance_ + per_day_ * seconds / 86400.0);
  }
  if (!last_ || now > *last_) last_ = now;
}

bool WriteBudget::allows(TimePoint now) {
  if (!limited()) return true;
  refill(now);
  return balance_ >= 0;
}

void WriteBudget::spend(std::size_t bytes, TimePoint now) {
  if (!limited()) return;
  refill(now);
  balance_ -= static_cast<double>(bytes);
}

}  // namespace dw::cache
