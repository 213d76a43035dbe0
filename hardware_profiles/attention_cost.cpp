#include "hardware_profiles/attention_cost.hpp"

#include <algorithm>

#include "hardware_profiles/cost_model.hpp"
#include "hardware_profiles/hardware.hpp"

namespace meshsim {

namespace {

// A profile without a FlashAttention figure: the fraction of peak its large matmuls reach.
double matmul_fraction(const CostModel& cost) {
  switch (cost.matmul.kind) {
    case MatmulModelKind::GpuTiles:
      return cost.matmul.gpu.tensor_core_fraction;
    case MatmulModelKind::TpuMxu:
      return cost.matmul.tpu.mxu_fraction;
    case MatmulModelKind::Roofline:
      break;
  }
  return cost.matmul_efficiency;
}

}  // namespace

double flash_attention_efficiency(const CostModel& cost, Pass pass) {
  const double forward = cost.flash.forward_efficiency.value_or(matmul_fraction(cost));
  if (pass == Pass::Forward)
    return forward;
  return cost.flash.backward_efficiency.value_or(forward);
}

double flash_attention_time_s(const CostModel& cost, const ChipSpec& chip, const Op& op) {
  const double flop_rate = chip.peak_bf16_flop_per_s * flash_attention_efficiency(cost, op.pass);
  const double byte_rate = chip.hbm_bandwidth_bytes_per_s * cost.memory_efficiency;
  const double compute_s = flop_rate > 0 ? op.flop / flop_rate : 0.0;
  const double memory_s = byte_rate > 0 ? (op.bytes_read + op.bytes_written) / byte_rate : 0.0;
  return std::max(compute_s, memory_s) + cost.kernel_overhead_s;
}

}  // namespace meshsim
