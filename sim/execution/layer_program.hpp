#pragma once
// Builds the per-chip program of one step (program.hpp): every layer's forward and backward ops
// with their model-axis traffic (collective matmul or collective-then-matmul), the data-axis
// weight gathers and gradient reductions, a decoder's embedding and LM head. Internal to
// sim/execution.
#include "sim/execution/program.hpp"
#include "sim/plan/plan.hpp"

namespace meshsim::execution::detail {

// The whole step: microbatches x (forward, backward), data-axis weight gathers (FSDP, prefetched
// one layer ahead) and gradient reduction; the caller appends the optimizer update.
Program build_program(const Context& ctx);

// Refuses a step that would run for many minutes (docs/limits.md).
void check_step_events(const Plan& plan, double events);

}  // namespace meshsim::execution::detail
