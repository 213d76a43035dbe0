#include "hardware_profiles/cost_model.hpp"

#include <algorithm>

#include "hardware_profiles/hardware.hpp"

namespace meshsim {

double op_time_s(const CostModel& cost, const ChipSpec& chip, const Op& op) {
  const bool tensor_core = op.kind == OpKind::Matmul || op.kind == OpKind::BatchedMatmul;
  // Non-matmul ops run on the vector units; we bound them by the same peak (they are memory-bound).
  const double flop_rate = chip.peak_bf16_flop_per_s * (tensor_core ? cost.matmul_efficiency : 1.0);
  const double byte_rate = chip.hbm_bandwidth_bytes_per_s * cost.memory_efficiency;
  const double compute_s = flop_rate > 0 ? op.flop / flop_rate : 0.0;
  const double memory_s = byte_rate > 0 ? (op.bytes_read + op.bytes_written) / byte_rate : 0.0;
  return std::max(compute_s, memory_s) + cost.kernel_overhead_s;
}

}  // namespace meshsim
