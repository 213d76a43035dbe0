#pragma once
// Builds the per-chip program of one step (program.hpp): every layer's forward and backward ops
// with their model-axis traffic (collective matmul or collective-then-matmul), the data-axis
// weight gathers and gradient reductions, a decoder's embedding and LM head. Internal to
// sim/execution.
#include <cstdint>
#include <vector>

#include "sim/execution/pipeline_schedule.hpp"
#include "sim/execution/program.hpp"
#include "sim/plan/plan.hpp"

namespace meshsim::execution::detail {

// What one pipeline stage runs (without a pipeline: the whole model, stage 0 of 1).
struct StageWork {
  std::int64_t stage = 0, stages = 1, virtual_stages = 1;
  std::vector<std::int64_t> chunk_layers;       // layers of each of this stage's v chunks
  std::vector<std::int64_t> chunk_first_layer;  // the model layer each chunk starts at
  std::vector<PipelineTask> order;              // the schedule's passes (pipeline_schedule.hpp)
  std::int64_t activation_bytes = 0;            // one send between stages, per chip
};

// Async on: whether `op`'s model-axis move of `block_bytes` per ring step runs as a collective
// matmul (its k chunks overlapped with k - 1 ring steps) or as the synchronous collective then
// the whole matmul, whichever the estimate says is faster (as a compiler's cost model decides).
bool collective_matmul_pays(const Context& ctx, const Op& op, double block_bytes,
                            CollectiveOp op_kind);

// One stage's step: its passes (without a pipeline microbatches x (forward, backward)) with the
// sends and receives between stages, data-axis weight gathers (FSDP, prefetched one layer ahead)
// and gradient reduction; the caller appends the optimizer update.
Program build_program(const Context& ctx, const StageWork& work);

// Refuses a step that would run for many minutes (docs/limits.md).
void check_step_events(const Plan& plan, double events);

}  // namespace meshsim::execution::detail
