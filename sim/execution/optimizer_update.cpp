#include "sim/execution/optimizer_update.hpp"

namespace meshsim::execution {

Op optimizer_update_op(const MemoryBreakdown& memory, const Plan& plan) {
  const double p = memory.params_per_chip;
  const double grad = memory.gradients_bytes;  // g x P
  const bool master = plan.optimizer.master_weights_fp32;
  const double weights_read = master ? 4.0 * p : 2.0 * p;
  const double master_written = master ? 4.0 * p : 0.0;
  const double bf16_written = 2.0 * p;
  Op update;
  update.name = "optimizer update";
  update.kind = OpKind::Elementwise;
  switch (plan.optimizer.kind) {
    case OptimizerKind::Adam:
    case OptimizerKind::Sgd: {
      const double state = memory.optimizer_state_bytes;  // m and v, or the momentum
      update.bytes_read = weights_read + state + grad;
      update.bytes_written = master_written + state + bf16_written;
      break;
    }
    case OptimizerKind::Adafactor: {
      const double momentum = plan.optimizer.adafactor_momentum ? 4.0 * p : 0.0;
      const double factored = memory.optimizer_state_bytes - momentum;
      update.bytes_read = 2.0 * grad + 2.0 * factored + weights_read + momentum;
      update.bytes_written = factored + master_written + momentum + bf16_written;
      break;
    }
  }
  return update;
}

}  // namespace meshsim::execution
