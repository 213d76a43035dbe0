#pragma once
// Per-op time on one chip (DESIGN §3, §6): a roofline with achievable efficiencies plus a fixed
// per-kernel overhead. The CUDA-calibrated refinement (issue 8) extends this one interface.
#include "models/model.hpp"

namespace meshsim {

struct ChipSpec;

struct CostModel {
  double matmul_efficiency = 1.0;  // fraction of peak bf16 FLOP/s that large matmuls reach
  double memory_efficiency = 1.0;  // fraction of HBM bandwidth that memory-bound kernels reach
  double kernel_overhead_s = 0.0;  // fixed cost per kernel launch
};

// Time of one op in seconds: max(flop / (peak x matmul_eff), bytes / (hbm_bw x memory_eff)) +
// overhead, where non-matmul ops use only the bandwidth term's roof against the FLOP roof.
double op_time_s(const CostModel& cost, const ChipSpec& chip, const Op& op);

}  // namespace meshsim
