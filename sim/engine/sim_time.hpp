#pragma once
// Simulated time: a signed 64-bit count of picoseconds behind a small strong type (STYLE.md "Time
// and order"). 2^63 ps is about 106 days, far beyond any training step. Seconds appear only at the
// edges (flags, reports) through from_seconds / seconds().
//
// The range is checked (issue 17 item 6): a conversion or a sum that would pass 2^63 ps throws
// SimTimeOverflow instead of wrapping around into the past. Callers that know the inputs turn it
// into an InputError naming them; sim/limits.hpp refuses inputs up front whose proven lower bound
// already passes kMaxSimulatedSeconds.
#include <cmath>
#include <compare>
#include <cstdint>
#include <stdexcept>

namespace meshsim::engine {

// Thrown when simulated time would leave the range of SimTime (an input too big to simulate).
class SimTimeOverflow : public std::overflow_error {
 public:
  SimTimeOverflow() : std::overflow_error("simulated time beyond 2^63 ps (about 106 days)") {}
};

class SimTime {
 public:
  constexpr SimTime() = default;
  static constexpr SimTime from_ps(std::int64_t time_ps) { return SimTime(time_ps); }
  // Rounds to the nearest picosecond; throws SimTimeOverflow beyond the range (and for NaN).
  static SimTime from_seconds(double time_s) { return SimTime(checked_ps(time_s * 1e12)); }
  static constexpr SimTime zero() { return SimTime(0); }
  static constexpr SimTime max() { return SimTime(INT64_MAX); }

  constexpr std::int64_t ps() const { return time_ps_; }
  constexpr double seconds() const { return static_cast<double>(time_ps_) * 1e-12; }

  constexpr auto operator<=>(const SimTime&) const = default;
  constexpr SimTime operator+(SimTime other) const {
    return SimTime(sum(time_ps_, other.time_ps_));
  }
  constexpr SimTime operator-(SimTime other) const { return SimTime(time_ps_ - other.time_ps_); }
  constexpr SimTime& operator+=(SimTime other) {
    time_ps_ = sum(time_ps_, other.time_ps_);
    return *this;
  }

  // A count of picoseconds given as a double, rounded to the nearest one, checked for range.
  static std::int64_t checked_ps(double time_ps) {
    // 2^63 exactly as a double; every double below it converts without overflow.
    if (!(std::fabs(time_ps) < 9223372036854775808.0))
      throw SimTimeOverflow();
    return static_cast<std::int64_t>(std::llround(time_ps));
  }

 private:
  constexpr explicit SimTime(std::int64_t time_ps) : time_ps_(time_ps) {}
  static constexpr std::int64_t sum(std::int64_t a, std::int64_t b) {
    std::int64_t out = 0;
    if (__builtin_add_overflow(a, b, &out))
      throw SimTimeOverflow();
    return out;
  }
  std::int64_t time_ps_ = 0;
};

constexpr SimTime max(SimTime a, SimTime b) {
  return a < b ? b : a;
}

// Time to push `bytes` through a pipe of `bandwidth_bytes_per_s`, rounded UP to whole picoseconds
// so that no simulated transfer is ever faster than its link allows.
inline SimTime serialization_time(std::int64_t bytes, double bandwidth_bytes_per_s) {
  return SimTime::from_ps(
      SimTime::checked_ps(std::ceil(static_cast<double>(bytes) * 1e12 / bandwidth_bytes_per_s)));
}

}  // namespace meshsim::engine
