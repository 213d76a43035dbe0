#pragma once
// The band on a simulated step time (issue 13, docs/fidelity.md "Uncertainty"): each cost
// component's share of the slowest chip's step times the relative error its profile states
// (hardware_profiles/fidelity.hpp), summed (errors of different fits are not assumed to cancel).
//   matmul, attention, memory-bound ops: that component's compute-stream busy time;
//   collectives: the communication the compute stream waits for (exposed, both mesh axes);
//   stack: the whole step; one-sided (upwards) while the stack is assumed ideal.
// The low end never goes below the step's physical lower bound.
#include <array>

#include "hardware_profiles/hardware.hpp"
#include "sim/execution/step.hpp"

namespace meshsim::execution {

struct ComponentBand {
  FidelityStatus status = FidelityStatus::Assumed;
  double error = 0;    // relative, from the profile
  double share_s = 0;  // the part of the step it prices
  double low_s = 0;    // what it can take off the step
  double high_s = 0;   // what it can add
};

struct StepBand {
  double step_time_s = 0, low_s = 0, high_s = 0;
  std::array<ComponentBand, kFidelityComponents> components{};
  // The larger half-width relative to the step: "+-8%" prints this.
  double relative_half_width() const;
};

StepBand step_band(const StepResult& result, const HardwareProfile& hardware);

// True when two bands overlap: the model cannot tell the two plans apart.
bool bands_overlap(const StepBand& a, const StepBand& b);

}  // namespace meshsim::execution
