#include "hardware_profiles/cost_model.hpp"

#include <algorithm>

#include "hardware_profiles/hardware.hpp"

namespace meshsim {
namespace {

bool is_tensor_core(const Op& op) {
  return op.kind == OpKind::Matmul || op.kind == OpKind::BatchedMatmul;
}

double roofline_s(const CostModel& cost, const ChipSpec& chip, const Op& op) {
  if (is_tensor_core(op) && cost.matmul.kind != MatmulModelKind::Roofline) {
    return std::max(matmul_time_s(cost, chip, MatmulShape{op.batch, op.m, op.n, op.k}),
                    op_lower_bound_s(chip, op));
  }
  // Non-matmul ops run on the vector units; we bound them by the same peak (they are memory-bound).
  const double flop_rate =
      chip.peak_bf16_flop_per_s * (is_tensor_core(op) ? cost.matmul_efficiency : 1.0);
  const double byte_rate = chip.hbm_bandwidth_bytes_per_s * cost.memory_efficiency;
  const double compute_s = flop_rate > 0 ? op.flop / flop_rate : 0.0;
  const double memory_s = byte_rate > 0 ? (op.bytes_read + op.bytes_written) / byte_rate : 0.0;
  return std::max(compute_s, memory_s) + cost.kernel_overhead_s;
}

double safe_div(double a, double b) {
  return b > 0 ? a / b : 0.0;
}

// Returns a negative time when the fit for this op's kind is missing.
double fitted_s(const CalibratedCost& fit, const ChipSpec& chip, const Op& op) {
  if (is_tensor_core(op)) {
    const MatmulFit& f = op.kind == OpKind::Matmul ? fit.matmul : fit.batched_matmul;
    if (!f.fitted)
      return -1;
    const double x = safe_div(op.flop, chip.peak_bf16_flop_per_s);
    return f.overhead_s +
           x * (f.flop_coeff + safe_div(f.inv_m_coeff, double(op.m)) +
                safe_div(f.inv_n_coeff, double(op.n)) + safe_div(f.inv_k_coeff, double(op.k)));
  }
  const MemoryFit& f = op.kind == OpKind::Norm      ? fit.norm
                       : op.kind == OpKind::Softmax ? fit.softmax
                                                    : fit.elementwise;
  if (!f.fitted)
    return -1;
  return f.overhead_s +
         f.byte_coeff * safe_div(op.bytes_read + op.bytes_written, chip.hbm_bandwidth_bytes_per_s);
}

}  // namespace

double matmul_time_s(const CostModel& cost, const ChipSpec& chip, const MatmulShape& s,
                     MatmulDtype dtype) {
  const double element_bytes = dtype == MatmulDtype::Tf32 ? 4.0 : 2.0;
  const double b = double(s.batch), m = double(s.m), n = double(s.n), k = double(s.k);
  const double flop = 2 * b * m * n * k;
  const double bytes = element_bytes * b * (m * k + k * n + m * n);
  const double peak = tensor_peak_flop_per_s(chip, dtype);
  const double bound = std::max(flop / peak, bytes / chip.hbm_bandwidth_bytes_per_s);
  double t = 0;
  switch (cost.matmul.kind) {
    case MatmulModelKind::GpuTiles:
      t = gpu_tile_matmul_s(cost.matmul.gpu, chip, cost.memory_efficiency, s, dtype);
      break;
    case MatmulModelKind::TpuMxu:
      t = tpu_mxu_matmul_s(cost.matmul.tpu, chip, cost.memory_efficiency, s);
      break;
    case MatmulModelKind::Roofline:
      t = std::max(flop / (peak * cost.matmul_efficiency),
                   bytes / (chip.hbm_bandwidth_bytes_per_s * cost.memory_efficiency)) +
          cost.kernel_overhead_s;
      break;
  }
  return std::max(t, bound);
}

double op_lower_bound_s(const ChipSpec& chip, const Op& op) {
  return std::max(safe_div(op.flop, chip.peak_bf16_flop_per_s),
                  safe_div(op.bytes_read + op.bytes_written, chip.hbm_bandwidth_bytes_per_s));
}

double isolated_op_time_s(const CostModel& cost, const ChipSpec& chip, const Op& op) {
  if (op.kind == OpKind::FlashAttention)
    return flash_attention_time_s(cost, chip, op);
  if (!cost.calibrated)
    return roofline_s(cost, chip, op);
  const double t = fitted_s(*cost.calibrated, chip, op);
  if (t < 0)
    return roofline_s(cost, chip, op);
  return std::max(t, op_lower_bound_s(chip, op));
}

namespace {

double kernel_time_s(const CostModel& cost, const ChipSpec& chip, const Op& op) {
  if (op.kind == OpKind::FlashAttention)
    return flash_attention_time_s(cost, chip, op);
  if (!cost.calibrated)
    return roofline_s(cost, chip, op);
  return std::max(cost.calibrated->graph_factor * isolated_op_time_s(cost, chip, op),
                  op_lower_bound_s(chip, op));
}

bool memory_bound(OpKind kind) {
  return kind == OpKind::Norm || kind == OpKind::Softmax || kind == OpKind::Elementwise;
}

}  // namespace

double op_time_s(const CostModel& cost, const ChipSpec& chip, const Op& op) {
  double t = kernel_time_s(cost, chip, op);
  if (memory_bound(op.kind))
    t *= cost.stack.memory_traffic_factor;
  return t + cost.stack.launch_gap_s;
}

}  // namespace meshsim
