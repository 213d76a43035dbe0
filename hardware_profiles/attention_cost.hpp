#pragma once
// Time of a fused FlashAttention kernel (OpKind::FlashAttention) on one chip: the kernel runs at
// an achievable fraction of the chip's peak bf16 FLOP/s, one fraction for the forward pass and one
// for the backward pass (which recomputes the scores), never faster than its HBM traffic allows,
// plus the per-kernel overhead. The fractions are profile fields (cost_model
// "flash_attention_efficiency", "flash_attention_backward_efficiency") with their sources;
// docs/fidelity.md "Attention kernels".
#include <optional>

#include "models/model.hpp"

namespace meshsim {

struct ChipSpec;
struct CostModel;

struct FlashAttentionCost {
  // Fraction of peak bf16 FLOP/s of the forward kernel; absent: the matmul model's achievable
  // fraction.
  std::optional<double> forward_efficiency;
  // The same for the backward kernel; absent: the forward fraction.
  std::optional<double> backward_efficiency;
};

// The efficiency used for `pass` under `cost` (the fallbacks above applied).
double flash_attention_efficiency(const CostModel& cost, Pass pass);

// max(flop / (peak x efficiency), bytes / (hbm_bandwidth x memory_efficiency)) + kernel overhead.
double flash_attention_time_s(const CostModel& cost, const ChipSpec& chip, const Op& op);

}  // namespace meshsim
