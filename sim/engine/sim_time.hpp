#pragma once
// Simulated time: a signed 64-bit count of picoseconds behind a small strong type (STYLE.md "Time
// and order"). 2^63 ps is about 106 days, far beyond any training step. Seconds appear only at the
// edges (flags, reports) through from_seconds / seconds().
#include <cmath>
#include <compare>
#include <cstdint>

namespace meshsim::engine {

class SimTime {
 public:
  constexpr SimTime() = default;
  static constexpr SimTime from_ps(std::int64_t time_ps) { return SimTime(time_ps); }
  // Rounds to the nearest picosecond.
  static SimTime from_seconds(double time_s) {
    return SimTime(static_cast<std::int64_t>(std::llround(time_s * 1e12)));
  }
  static constexpr SimTime zero() { return SimTime(0); }
  static constexpr SimTime max() { return SimTime(INT64_MAX); }

  constexpr std::int64_t ps() const { return time_ps_; }
  constexpr double seconds() const { return static_cast<double>(time_ps_) * 1e-12; }

  constexpr auto operator<=>(const SimTime&) const = default;
  constexpr SimTime operator+(SimTime other) const { return SimTime(time_ps_ + other.time_ps_); }
  constexpr SimTime operator-(SimTime other) const { return SimTime(time_ps_ - other.time_ps_); }
  constexpr SimTime& operator+=(SimTime other) {
    time_ps_ += other.time_ps_;
    return *this;
  }

 private:
  constexpr explicit SimTime(std::int64_t time_ps) : time_ps_(time_ps) {}
  std::int64_t time_ps_ = 0;
};

constexpr SimTime max(SimTime a, SimTime b) {
  return a < b ? b : a;
}

// Time to push `bytes` through a pipe of `bandwidth_bytes_per_s`, rounded UP to whole picoseconds
// so that no simulated transfer is ever faster than its link allows.
inline SimTime serialization_time(std::int64_t bytes, double bandwidth_bytes_per_s) {
  return SimTime::from_ps(static_cast<std::int64_t>(
      std::ceil(static_cast<double>(bytes) * 1e12 / bandwidth_bytes_per_s)));
}

}  // namespace meshsim::engine
