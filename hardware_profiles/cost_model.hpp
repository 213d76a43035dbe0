#pragma once
// Per-op time on one chip (DESIGN §3, §6): a roofline with achievable efficiencies plus a fixed
// per-kernel overhead, refined, where a profile carries one, by a model calibrated on CUDA timings
// of the ViT-22B layer (issue 8, docs/validation.md).
#include <optional>
#include <string>
#include <vector>

#include "hardware_profiles/attention_cost.hpp"
#include "hardware_profiles/matmul_model.hpp"
#include "hardware_profiles/stack.hpp"
#include "models/model.hpp"

namespace meshsim {

struct ChipSpec;

// Tensor-core ops (docs/validation.md): with x = flop / peak_bf16,
//   t = overhead_s + x * (flop_coeff + inv_m_coeff / m + inv_n_coeff / n + inv_k_coeff / k),
// i.e. efficiency(m, n, k) = 1 / (flop_coeff + inv_m_coeff/m + inv_n_coeff/n + inv_k_coeff/k). The
// 1/m, 1/n, 1/k terms are the operand traffic (x/m is proportional to the k x n operand, etc.).
struct MatmulFit {
  bool fitted = false;
  double overhead_s = 0;
  double flop_coeff = 0;
  double inv_m_coeff = 0;
  double inv_n_coeff = 0;
  double inv_k_coeff = 0;
};

// Memory-bound kernels: t = overhead_s + byte_coeff * bytes / hbm_bandwidth (byte_coeff = 1 / eff).
struct MemoryFit {
  bool fitted = false;
  double overhead_s = 0;
  double byte_coeff = 0;
};

struct CalibratedCost {
  std::string source;               // the measurement file the parameters were fitted on
  std::string device;               // its GPU name
  std::string date;                 // its date
  std::vector<int> fit_model_axes;  // the model-axis sizes k whose shapes the fit saw
  MatmulFit matmul, batched_matmul;
  MemoryFit norm, softmax, elementwise;
  // Whole layer (CUDA graph replay) over the sum of isolated op times, fitted on the same shapes:
  // kernels back to back, no flush between them.
  double graph_factor = 1.0;
};

struct CostModel {
  // Tensor-core ops: by shape (matmul_model.hpp) unless kind is Roofline, when they reach
  // matmul_efficiency of peak bf16 FLOP/s whatever their shape (the legacy form).
  MatmulModel matmul;
  double matmul_efficiency = 1.0;  // fraction of peak bf16 FLOP/s that large matmuls reach
  double memory_efficiency = 1.0;  // fraction of HBM bandwidth that memory-bound kernels reach
  double kernel_overhead_s = 0.0;  // fixed cost per kernel launch
  FlashAttentionCost flash;        // fused attention kernels (hardware_profiles/attention_cost)
  std::optional<CalibratedCost> calibrated;
  // What the software stack adds (hardware_profiles/stack.hpp): the profile's "stack" section.
  StackCost stack;
};

// Time of one op in seconds inside a training step: the kernel's time (below) with the stack's
// memory traffic factor on memory-bound ops, plus the stack's launch gap. The kernel: without
// calibration: matmuls by the shape model of `cost.matmul` (or max(flop / (peak x matmul_eff),
// bytes / (hbm_bw x memory_eff)) + overhead when it is a roofline); memory-bound ops max(flop /
// peak, bytes / (hbm_bw x memory_eff))
// + overhead; never below the physical bound op_lower_bound_s. With calibration:
// graph_factor x isolated_op_time_s, never below the physical bound.
double op_time_s(const CostModel& cost, const ChipSpec& chip, const Op& op);

// A matmul batch x [m x k] x [k x n] run alone, by the profile's uncalibrated matmul model (the
// shape model, or the legacy roofline with matmul_efficiency and kernel_overhead), never below
// max(flop / tensor peak of the dtype, operand and result bytes / hbm_bandwidth). TF32 is a GPU
// format (the TPU model prices every dtype as bf16; `validate --matmuls` refuses TF32 there).
double matmul_time_s(const CostModel& cost, const ChipSpec& chip, const MatmulShape& shape,
                     MatmulDtype dtype = MatmulDtype::Bf16);

// The physical lower bound max(flop / peak_bf16, bytes / hbm_bandwidth) (DESIGN §4).
double op_lower_bound_s(const ChipSpec& chip, const Op& op);

// The calibrated time of one op run alone (as the CUDA harness times it), never below the bound.
// An op kind the calibration did not fit falls back to the uncalibrated roofline of `cost`.
double isolated_op_time_s(const CostModel& cost, const ChipSpec& chip, const Op& op);

}  // namespace meshsim
