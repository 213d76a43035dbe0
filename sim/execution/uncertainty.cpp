#include "sim/execution/uncertainty.hpp"

#include <algorithm>

namespace meshsim::execution {

double StepBand::relative_half_width() const {
  if (step_time_s <= 0)
    return 0;
  return std::max(step_time_s - low_s, high_s - step_time_s) / step_time_s;
}

StepBand step_band(const StepResult& result, const HardwareProfile& hardware) {
  StepBand band;
  band.step_time_s = result.step_time_s;
  double down = 0, up = 0;
  for (int i = 0; i < kFidelityComponents; ++i) {
    const auto component = static_cast<FidelityComponent>(i);
    const ComponentFidelity& f = hardware.fidelity.of(component);
    ComponentBand& c = band.components[static_cast<std::size_t>(i)];
    c.status = f.status;
    c.error = f.error;
    switch (component) {
      case FidelityComponent::Collectives:
        c.share_s = result.slowest.exposed_model_s + result.slowest.exposed_data_s;
        break;
      case FidelityComponent::Stack:
        c.share_s = result.step_time_s;
        break;
      default:
        c.share_s = result.component_busy_s[static_cast<std::size_t>(i)];
        break;
    }
    c.high_s = c.share_s * f.error;
    const bool one_sided =
        component == FidelityComponent::Stack && f.status == FidelityStatus::Assumed;
    c.low_s = one_sided ? 0.0 : c.share_s * f.error;
    down += c.low_s;
    up += c.high_s;
  }
  band.low_s =
      std::max(result.step_time_s - down, std::min(result.lower_bound_s, result.step_time_s));
  band.high_s = result.step_time_s + up;
  return band;
}

bool bands_overlap(const StepBand& a, const StepBand& b) {
  return a.low_s <= b.high_s && b.low_s <= a.high_s;
}

}  // namespace meshsim::execution
