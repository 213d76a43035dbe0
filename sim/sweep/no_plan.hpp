#pragma once
// When a sweep finds no plan (docs/sweep.md "When no plan fits"): what ruled the plans out, in
// words, and the nearest chip counts at which some plan of the same space is valid and fits.
#include <cstdint>
#include <optional>
#include <string>

#include "hardware_profiles/hardware.hpp"
#include "models/model.hpp"
#include "sim/sweep/sweep.hpp"

namespace meshsim::sweep {

// True when at least one plan of `space` on `chips` chips passes validation and fits in memory.
bool some_plan_fits(const ModelConfig& model, const HardwareProfile& hardware, std::int64_t chips,
                    const SweepSpace& space);

struct NearestChips {
  std::optional<std::int64_t> below;  // the largest chip count < chips where a plan fits
  std::optional<std::int64_t> above;  // the smallest chip count > chips (within the machine)
};
// Searches outwards from `chips`, at most `max_tries` chip counts on each side.
NearestChips nearest_fitting_chips(const ModelConfig& model, const HardwareProfile& hardware,
                                   std::int64_t chips, const SweepSpace& space,
                                   std::int64_t max_tries = 1024);

// Fills result.nearest_chips_below/above when the sweep ranked no plan (and was not cut short).
void find_nearest_chips(const ModelConfig& model, const HardwareProfile& hardware,
                        const SweepSpace& space, SweepResult& result);

// One paragraph for a sweep that ranked no plan: the rejection reasons by count, in words
// ("No plan can be formed on 1000 chips: ..."), then what to try (the nearest chip counts of
// find_nearest_chips). Says "fits in memory" only when memory ruled plans out.
std::string no_plan_text(const SweepResult& result);

// The reason key in words: "memory" -> "do not fit in memory", ...
std::string rejection_words(const std::string& reason);

}  // namespace meshsim::sweep
