#pragma once
// Fits the GPU output-tile matmul model (hardware_profiles/matmul_model.hpp) on a measured matmul
// table (gemm_table.hpp): the four physical parameters, each within physical bounds, minimising
// the sum of squared log errors log(predicted / measured) over the rows. A coarse grid over the
// bounds, then a coordinate search with shrinking steps; deterministic.
#include <vector>

#include "hardware_profiles/hardware.hpp"
#include "sim/validate/gemm_table.hpp"

namespace meshsim {

// Bounds of the fitted parameters (physical envelopes, docs/fidelity.md).
struct MatmulFitBounds {
  double min_fraction = 0.3, max_fraction = 1.0;       // tensor_core_fraction
  double min_kernel_s = 0.5e-6, max_kernel_s = 20e-6;  // kernel_overhead
  double min_tile_s = 0.0, max_tile_s = 10e-6;         // tile_overhead
  double min_sm_bw = 20e9, max_sm_bw = 1e12;           // sm_operand_bandwidth, B/s
};

struct MatmulFitResult {
  GpuTileMatmul model;
  double sum_sq_log_error = 0;
};

// `sms` is the GPU's SM count (not fitted); `memory_efficiency` the profile's HBM fraction.
MatmulFitResult fit_gpu_tile_matmul(const std::vector<GemmRow>& rows, const ChipSpec& chip,
                                    double memory_efficiency, int sms, MatmulDtype dtype,
                                    const MatmulFitBounds& bounds = {});

}  // namespace meshsim
