#include "sim/execution/accumulation_ops.hpp"

#include "sim/plan/memory.hpp"

namespace meshsim::execution {

Op collective_matmul_accumulate_op(const std::string& linear, double block_bytes) {
  Op a;
  a.name = linear + " accumulate";
  a.kind = OpKind::Elementwise;
  const double elements = block_bytes / 2.0;
  a.m = 1;
  a.n = static_cast<std::int64_t>(elements);
  a.flop = elements;
  a.bytes_read = 4.0 * elements;
  a.bytes_written = 4.0 * elements;
  return a;
}

GradientOps gradient_ops(const Plan& plan, double layer_params_per_chip, std::int64_t data_axis) {
  GradientOps o;
  const double p = layer_params_per_chip;
  const double g = gradient_element_bytes(plan);
  o.reduce_each = plan.fsdp && data_axis > 1 && plan.grad_sync == GradSync::PerMicrobatch &&
                  plan.microbatches > 1;
  o.cast.name = "gradient cast";
  o.cast.kind = OpKind::Elementwise;
  if (g > 2.0) {
    o.cast.bytes_read = 2.0 * p;
    o.cast.bytes_written = g * p;
  }
  o.local_add.name = "gradient accumulate";
  o.local_add.kind = OpKind::Elementwise;
  o.local_add.bytes_read = 2.0 * p + g * p;
  o.local_add.bytes_written = g * p;
  o.shard_add = o.local_add;
  const double shard = p / static_cast<double>(data_axis > 0 ? data_axis : 1);
  o.shard_add.bytes_read = 2.0 * g * shard;
  o.shard_add.bytes_written = g * shard;
  return o;
}

std::vector<Op> gradient_ops_after(const GradientOps& ops, const Plan& plan, std::int64_t mb) {
  std::vector<Op> out;
  const bool has_cast = ops.cast.bytes_read > 0;
  if (ops.reduce_each) {
    if (has_cast)
      out.push_back(ops.cast);
    if (mb > 0)
      out.push_back(ops.shard_add);
  } else if (plan.microbatches > 1) {
    if (mb > 0)
      out.push_back(ops.local_add);
    else if (has_cast)
      out.push_back(ops.cast);
  } else if (has_cast) {
    out.push_back(ops.cast);
  }
  return out;
}

}  // namespace meshsim::execution
