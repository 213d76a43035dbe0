#pragma once
// Matmul time by shape (issue 12, item 2; docs/fidelity.md): an output-tile model of NVIDIA tensor
// cores (tiles in waves over the SMs) and a 128x128 systolic-array model of TPU MXUs. Both price
// batch x [m x k] x [k x n]; a batched matmul has batch times the tiles.
#include <cstdint>

namespace meshsim {

struct ChipSpec;

enum class MatmulDtype { Bf16, Tf32 };  // bf16 or TF32 inputs, fp32 accumulation

struct MatmulShape {
  std::int64_t batch = 1, m = 0, n = 0, k = 0;
};

// NVIDIA tensor cores. The kernel (as cuBLAS/XLA autotuning does) picks the fastest of a fixed set
// of output tiles (TM x TN in {128x256, 256x128, 128x128, 128x64, 64x128, 64x64}) and split-k
// factors S in {1, 2, 4, 8} (k / S >= 128). With R = peak / sms the per-SM tensor-core rate:
//   ctas   = batch x ceil(m / TM) x ceil(n / TN) x S,     kc = ceil(k / S)
//   t_cta  = max(2 TM TN kc / (R x tensor_core_fraction), e (TM + TN) kc / sm_operand_bandwidth)
//            + o TM TN / sm_operand_bandwidth + tile_overhead          (o = e bytes, 4 when S > 1)
//   t      = kernel_overhead + max(ceil(ctas / sms) x t_cta, hbm_bytes / (hbm_bw x memory_eff))
// e = 2 bytes per element (bf16) or 4 (TF32); hbm_bytes = e batch (m k + k n + m n), plus the fp32
// partial sums written and read back (8 batch m n S bytes) when split.
struct GpuTileMatmul {
  int sms = 0;                      // streaming multiprocessors
  double tensor_core_fraction = 0;  // achievable fraction of the per-SM tensor-core rate
  double kernel_overhead_s = 0;     // fixed time of one matmul kernel
  double tile_overhead_s = 0;       // per output tile (CTA): pipeline fill and drain
  double sm_operand_bandwidth = 0;  // bytes/s one SM loads operands at (L2 -> shared memory)
};

// TPU MXUs (128x128 systolic arrays): every dimension is padded to a multiple of mxu_size; the
// k x n operand is cut into mxu_size x mxu_size weight blocks (batch x k/128 x n/128 of them), each
// streamed by the padded m rows on one MXU; the blocks run in waves over the `mxus` MXUs.
//   t = op_overhead + max(ceil(blocks / mxus) x 2 mxu_size^2 m_pad / (R x mxu_fraction),
//                         hbm_bytes / (hbm_bw x memory_eff)),     R = peak / mxus
struct TpuMxuMatmul {
  int mxus = 0;              // MXUs per chip
  int mxu_size = 128;        // side of one systolic array
  double mxu_fraction = 0;   // achievable fraction of the MXU peak
  double op_overhead_s = 0;  // per op inside one compiled XLA program (about 0)
};

enum class MatmulModelKind { Roofline, GpuTiles, TpuMxu };

struct MatmulModel {
  MatmulModelKind kind = MatmulModelKind::Roofline;
  GpuTileMatmul gpu;  // when kind == GpuTiles
  TpuMxuMatmul tpu;   // when kind == TpuMxu
};

// The model's time in seconds (not clamped to the physical bound; op_time_s does that).
// `memory_efficiency` is the profile's fraction of HBM bandwidth.
double gpu_tile_matmul_s(const GpuTileMatmul& model, const ChipSpec& chip, double memory_efficiency,
                         const MatmulShape& shape, MatmulDtype dtype = MatmulDtype::Bf16);
double tpu_mxu_matmul_s(const TpuMxuMatmul& model, const ChipSpec& chip, double memory_efficiency,
                        const MatmulShape& shape);

// The tensor-core peak of a dtype: bf16 as the profile says; TF32 half of it (A100, H100 and H200
// datasheets: 156 vs 312, 495 vs 989 TFLOP/s dense).
double tensor_peak_flop_per_s(const ChipSpec& chip, MatmulDtype dtype);

}  // namespace meshsim
