#include "hardware_profiles/stack.hpp"

namespace meshsim {

const std::array<StackParameter, kStackParameters>& stack_parameters() {
  // Bounds (docs/fidelity.md "Calibrating your own stack"): a kernel launch costs a few
  // microseconds and eager frameworks pay tens per op, so 100 us bounds any stack; fusion can at
  // most halve the traffic meshsim counts (every memory-bound op reads its input once and writes
  // once) and an unfused stack moves at most a few times as much; an input pipeline is bounded
  // at 2 ms per image per chip (500 images/s per chip: GPU-decoding pipelines such as DALI feed
  // thousands of images/s per GPU; a slower one is found at this bound and says so).
  static const std::array<StackParameter, kStackParameters> parameters = {{
      {"launch_gap", "s", 0.0, 100e-6, 0.0, "host gap per kernel on the compute stream"},
      {"memory_traffic_factor", "", 0.5, 4.0, 1.0,
       "memory-bound traffic relative to meshsim's count (fusion < 1 < no fusion)"},
      {"gradient_overlap", "", 0.0, 1.0, 1.0,
       "fraction of the gradient reduction that overlaps the backward pass"},
      {"input_time_per_image", "s", 0.0, 2e-3, 0.0,
       "input pipeline time per image on one chip (prefetched)"},
  }};
  return parameters;
}

double stack_value(const StackCost& stack, int index) {
  switch (index) {
    case 0:
      return stack.launch_gap_s;
    case 1:
      return stack.memory_traffic_factor;
    case 2:
      return stack.gradient_overlap;
    default:
      return stack.input_time_per_image_s;
  }
}

void set_stack_value(StackCost& stack, int index, double value) {
  switch (index) {
    case 0:
      stack.launch_gap_s = value;
      break;
    case 1:
      stack.memory_traffic_factor = value;
      break;
    case 2:
      stack.gradient_overlap = value;
      break;
    default:
      stack.input_time_per_image_s = value;
      break;
  }
}

}  // namespace meshsim
