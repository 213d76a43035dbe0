#pragma once
// The optimizer update of one step as a memory-bound op over this chip's shard of the weights and
// optimizer state (docs/execution.md "Optimizer update" lists every byte). Shared by the step
// simulator and the sweep's lower bound.
#include "models/model.hpp"
#include "sim/plan/memory.hpp"
#include "sim/plan/plan.hpp"

namespace meshsim::execution {

// With P = memory.params_per_chip, g = gradient bytes per element (2 or 4), W = the fp32 master
// copy (4P) when kept, else the bf16 weights (2P):
//   Adam:      reads W, m, v (4P each), the gradient (gP); writes W (if fp32), m, v, bf16 weights.
//   SGD:       reads W, momentum (4P), the gradient; writes W (if fp32), momentum, bf16 weights.
//   Adafactor: a statistics pass (reads the gradient and the factored second moment S, writes S)
//              and an update pass (reads the gradient, S, W and the momentum if kept; writes W if
//              fp32, the momentum, the bf16 weights).
Op optimizer_update_op(const MemoryBreakdown& memory, const Plan& plan);

}  // namespace meshsim::execution
