#include "sim/limits.hpp"

#include <fmt/format.h>

#include "common/units.hpp"

namespace meshsim::limits {

void check_simulated_chips(std::int64_t chips, const ErrorSite& site) {
  if (chips > kMaxSimulatedChips) {
    throw InputError(site, "more chips than one simulation may hold (docs/limits.md)",
                     std::to_string(chips),
                     "at most " + std::to_string(kMaxSimulatedChips) + " chips");
  }
}

void check_schedule_size(std::uint64_t transfers, std::int64_t chips, const std::string& what,
                         const ErrorSite& site, std::uint64_t concurrent) {
  const double memory_bytes = estimated_simulation_memory_bytes(transfers, chips, concurrent);
  if (transfers > kMaxScheduleTransfers) {
    throw InputError(
        site, fmt::format("the {} needs too many transfers to simulate (docs/limits.md)", what),
        fmt::format("{} transfers", transfers),
        fmt::format("at most {} transfers; use fewer chunks, a smaller group or "
                    "another algorithm",
                    kMaxScheduleTransfers));
  }
  if (memory_bytes > kMaxSimulationMemoryBytes) {
    throw InputError(
        site, fmt::format("the {} needs too much memory to simulate (docs/limits.md)", what),
        fmt::format("about {} estimated", format_quantity(memory_bytes, QuantityKind::Bytes)),
        fmt::format("at most {}; use fewer chunks, a smaller group or another algorithm",
                    format_quantity(kMaxSimulationMemoryBytes, QuantityKind::Bytes)));
  }
}

void check_simulated_time(double lower_bound_s, const std::string& what, const std::string& found,
                          const std::string& change, const ErrorSite& site) {
  if (!(lower_bound_s <= kMaxSimulatedSeconds)) {
    throw InputError(site,
                     fmt::format("{} would last at least {} ({:.3g} days) of simulated time, "
                                 "beyond what the simulator counts (2^63 ps, about 106 days; "
                                 "docs/limits.md)",
                                 what, format_quantity(lower_bound_s, QuantityKind::Time),
                                 lower_bound_s / 86400),
                     found, change);
  }
}

InputError simulated_time_overflow(const std::string& what, const std::string& found,
                                   const std::string& change, const ErrorSite& site) {
  return InputError(site,
                    fmt::format("{} would last longer than the simulator counts (2^63 ps, about "
                                "106 days of simulated time; docs/limits.md)",
                                what),
                    found, change);
}

}  // namespace meshsim::limits
