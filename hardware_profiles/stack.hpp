#pragma once
// What a software stack (JAX/XLA, PyTorch, Megatron) adds to ideal kernels run back to back
// (issue 13, docs/fidelity.md "Calibrating your own stack"): a few named, physically bounded
// parameters that `meshsim calibrate --runs` fits on measured training runs. The defaults are the
// ideal stack, which is what a profile without a "stack" section gets.
#include <array>
#include <string>

namespace meshsim {

struct StackCost {
  // Host-side gap between two kernels on the compute stream (launch, dispatch, Python), paid by
  // every op the step runs, on top of the kernel's own overhead in the cost model.
  double launch_gap_s = 0;
  // Memory-bound kernels (norms, softmax, element-wise, casts, optimizer) move this many times the
  // bytes meshsim counts: below 1 when the compiler fuses more than modelled, above 1 when less.
  double memory_traffic_factor = 1;
  // Fraction of every layer's gradient reduction (data axis) issued as soon as its backward is
  // done; the rest waits until the whole backward pass has finished (1 = all overlaps).
  double gradient_overlap = 1;
  // Input pipeline (decode, augment, host-to-device) time per image on one chip; the pipeline
  // prefetches, so a step takes at least this times the images each chip processes per step.
  double input_time_per_image_s = 0;
};

// One parameter: its JSON field (section "stack" of a profile), unit and physical bounds.
struct StackParameter {
  const char* field;    // "launch_gap"
  const char* unit;     // "s" for times, "" for ratios
  double low, high;     // the physical bounds (docs/fidelity.md gives the reasons)
  double ideal;         // the default: the ideal stack
  const char* meaning;  // one line
};

inline constexpr int kStackParameters = 4;
const std::array<StackParameter, kStackParameters>& stack_parameters();

double stack_value(const StackCost& stack, int index);
void set_stack_value(StackCost& stack, int index, double value);

}  // namespace meshsim
