#include "sim/sweep/no_plan.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <vector>

#include "sim/limits.hpp"
#include "sim/plan/memory.hpp"

namespace meshsim::sweep {

bool some_plan_fits(const ModelConfig& model, const HardwareProfile& hardware, std::int64_t chips,
                    const SweepSpace& space) {
  const auto linears = layer_linears(model);
  const ParamCounts params = count_params(model);
  for (const auto& e : enumerate_plans(model, hardware, chips, space)) {
    if (!e.reason.empty())
      continue;
    if (memory_per_chip(model, linears, params, e.plan, hardware.chip.hbm_bytes).fits)
      return true;
  }
  return false;
}

NearestChips nearest_fitting_chips(const ModelConfig& model, const HardwareProfile& hardware,
                                   std::int64_t chips, const SweepSpace& space,
                                   std::int64_t max_tries) {
  NearestChips n;
  std::int64_t largest =
      hardware.kind == InterconnectKind::Torus ? hardware.torus.max_chips : hardware.gpu.max_gpus;
  if (largest <= 0)
    largest = limits::kMaxSimulatedChips;
  largest = std::min(largest, limits::kMaxSimulatedChips);
  for (std::int64_t c = chips - 1; c >= 1 && c >= chips - max_tries; --c) {
    if (some_plan_fits(model, hardware, c, space)) {
      n.below = c;
      break;
    }
  }
  for (std::int64_t c = chips + 1; c <= largest && c <= chips + max_tries; ++c) {
    if (some_plan_fits(model, hardware, c, space)) {
      n.above = c;
      break;
    }
  }
  return n;
}

std::string rejection_words(const std::string& reason) {
  if (reason == "memory")
    return "do not fit in memory";
  if (reason == "model_axis_does_not_divide")
    return "have a model axis that does not divide the model's heads or widths";
  if (reason == "batch_not_divisible")
    return "have a global batch not divisible by data axis x microbatches";
  if (reason == "too_many_chips")
    return "need more chips than the machine has";
  if (reason == "no_machine_slice")
    return "have a mesh the machine cannot lay out";
  if (reason == "time_beyond_range")
    return "would take longer than the simulator counts";
  return "are invalid (" + reason + ")";
}

void find_nearest_chips(const ModelConfig& model, const HardwareProfile& hardware,
                        const SweepSpace& space, SweepResult& result) {
  if (!result.top.empty() || result.partial)
    return;
  const NearestChips n = nearest_fitting_chips(model, hardware, result.chips, space);
  result.nearest_chips_below = n.below.value_or(0);
  result.nearest_chips_above = n.above.value_or(0);
}

std::string no_plan_text(const SweepResult& result) {
  const std::int64_t below = result.nearest_chips_below, above = result.nearest_chips_above;
  // Reasons by count, largest first (ties by name: the map's order).
  std::vector<std::pair<std::string, std::int64_t>> reasons(result.rejected.begin(),
                                                            result.rejected.end());
  std::stable_sort(reasons.begin(), reasons.end(),
                   [](const auto& a, const auto& b) { return a.second > b.second; });
  const bool memory = result.rejected.count("memory") > 0;
  std::string out;
  if (result.partial) {
    out += fmt::format(
        "No plan was simulated before --max-seconds ran out ({} candidates fit in memory); give "
        "more seconds.\n",
        result.fitting);
    return out;
  }
  out += memory ? fmt::format("No plan fits in memory on {} chips: of {} plans,", result.chips,
                              result.considered)
                : fmt::format(
                      "No plan can be formed on {} chips (none was rejected for memory): "
                      "of {} plans,",
                      result.chips, result.considered);
  for (std::size_t i = 0; i < reasons.size(); ++i) {
    out += fmt::format("{} {} {} ({})", i == 0 ? "" : (i + 1 == reasons.size() ? " and" : ","),
                       reasons[i].second, rejection_words(reasons[i].first), reasons[i].first);
  }
  out += ".\n";
  if (below > 0 || above > 0) {
    out += "Try";
    if (below > 0)
      out += fmt::format(" --chips {}", below);
    if (below > 0 && above > 0)
      out += " or";
    if (above > 0)
      out += fmt::format(" --chips {}", above);
    out += ": the nearest chip counts where a plan of this space fits";
  } else {
    out += "No chip count near this one has a plan that fits";
  }
  if (result.rejected.count("batch_not_divisible") > 0)
    out += "; or a --batch that the data axis divides";
  if (memory)
    out += "; or --remats full, more --max-microbatches, or --optimizers adafactor";
  out += ".\n";
  return out;
}

}  // namespace meshsim::sweep
