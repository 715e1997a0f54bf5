// How many bytes the cache may write: a token bucket filled at `bytes_per_day` and holding at most
// 1/48 of a day's worth (half an hour), so a fresh cache fills quickly and a long run writes no
// more than the daily figure plus that half hour. A write is allowed while the balance is not
// negative and its real size is charged after it, so one write may overdraw; the next waits.
// Time comes from the caller (tests simulate hours without sleeping).
#pragma once

#include <chrono>
#include <cstddef>
#include <optional>

namespace dw::cache {

class WriteBudget {
 public:
  using TimePoint = std::chrono::steady_clock::time_point;
  static constexpr double kBurstShareOfDay = 1.0 / 48.0;

  // bytes_per_day <= 0: no limit.
  explicit WriteBudget(double bytes_per_day = 0) { set_rate(bytes_per_day); }
  // A new rate keeps the balance (capped at the new burst).
  void set_rate(double bytes_per_day);

  bool allows(TimePoint now);
  void spend(std::size_t bytes, TimePoint now);
  double balance() const { return balance_; }
  double burst() const { return per_day_ * kBurstShareOfDay; }
  bool limited() const { return per_day_ > 0; }

 private:
  void refill(TimePoint now);

  double per_day_ = 0;
  double balance_ = 0;
  std::optional<TimePoint> last_;
};

}  // namespace dw::cache
