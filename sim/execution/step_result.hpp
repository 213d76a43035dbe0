#pragma once
// The result accounting of one simulated step (docs/execution.md, docs/run-json.md): step time,
// throughput, MFU/HFU, traffic per axis and link class, the per-linear table, the slowest chip's
// breakdown and the lower bounds. Internal to sim/execution.
#include "sim/execution/program.hpp"
#include "sim/execution/step.hpp"
#include "sim/execution/step_sim.hpp"

namespace meshsim::execution::detail {

// Fills `result` (its memory already set) from a finished run of `program` (the trace is left to
// the caller, which owns the simulator's events).
void account_step(const Context& ctx, const Program& program, const StepSim& sim,
                  StepResult& result);

}  // namespace meshsim::execution::detail
