#pragma once
// How far each part of a profile's cost model can be trusted (issue 13, docs/fidelity.md
// "Uncertainty"): every component is measured (fitted on the user's own timings), published-fit
// (fitted on published measurements) or assumed, with a relative error. The step-time band of
// `run`, `compare`, `sweep` and `report` is built from these (sim/execution/uncertainty.hpp).
#include <array>
#include <string>

namespace meshsim {

enum class FidelityStatus { Measured, PublishedFit, Assumed };
const char* to_string(FidelityStatus status);  // "measured", "published-fit", "assumed"

// The parts of a step's time that come from different fits.
enum class FidelityComponent { Matmul, Attention, MemoryOps, Collectives, Stack };
inline constexpr int kFidelityComponents = 5;
const char* to_string(FidelityComponent component);  // the JSON field: "matmul", "memory_ops", ...

struct ComponentFidelity {
  FidelityStatus status = FidelityStatus::Assumed;
  // Relative error of the component's time (0.08 = 8%): the median |error| of its validation for a
  // fit, a stated allowance for an assumption. For an assumed stack it is one-sided (an ideal stack
  // is a best case: a real one only adds time).
  double error = 0;
};

struct Fidelity {
  std::array<ComponentFidelity, kFidelityComponents> components = default_components();
  const ComponentFidelity& of(FidelityComponent c) const {
    return components[static_cast<std::size_t>(c)];
  }
  ComponentFidelity& of(FidelityComponent c) { return components[static_cast<std::size_t>(c)]; }

  // A profile without a "fidelity" section: every component assumed, with these allowances
  // (docs/fidelity.md gives the reasons).
  static std::array<ComponentFidelity, kFidelityComponents> default_components();
};

}  // namespace meshsim
