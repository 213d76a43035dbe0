#pragma once
// Memory-bound accumulation work of the step (docs/execution.md): the fp32 accumulator add of each
// reduce-scatter collective-matmul chunk, and after each layer's backward pass the cast to the
// plan's gradient dtype and the accumulation over the microbatches ("Gradient casts and
// accumulation"). Shared by the step simulator and the sweep's lower bound.
#include <cstdint>
#include <string>
#include <vector>

#include "models/model.hpp"
#include "sim/plan/plan.hpp"

namespace meshsim::execution {

// After one chunk of a reduce-scatter collective matmul, the partial output block (`block_bytes`
// of bf16 on the wire, as many elements) is added to the accumulator received, read and written
// in fp32: reads 4 x elements, writes 4 x elements. Named "<linear> accumulate".
Op collective_matmul_accumulate_op(const std::string& linear, double block_bytes);

// With P = this chip's model shard of one layer's parameters (elements; the weight-gradient
// matmuls write it in bf16), g = gradient bytes per element (2 or 4), t = data axis:
//   cast:       bf16 -> fp32 copy (fp32 gradients only): reads 2P, writes 4P.
//   local_add:  adds the new bf16 gradient into the layer's accumulator: reads 2P + gP, writes gP.
//   shard_add:  adds the reduce-scattered shard into the sharded accumulator: reads 2 g P/t,
//               writes g P/t.
struct GradientOps {
  Op cast, local_add, shard_add;
  // FSDP, data axis > 1, grad_sync per-microbatch and more than one microbatch: every microbatch
  // reduce-scatters every layer's gradient.
  bool reduce_each = false;
};

GradientOps gradient_ops(const Plan& plan, double layer_params_per_chip, std::int64_t data_axis);

// The ops that follow microbatch `mb`'s backward of one layer, in order (empty ones left out):
// reduce_each: the cast (fp32), then from the second microbatch the shard add; otherwise, with
// microbatches: the cast (fp32) on the first and the local add on the others; one microbatch:
// the cast (fp32).
std::vector<Op> gradient_ops_after(const GradientOps& ops, const Plan& plan, std::int64_t mb);

}  // namespace meshsim::execution
