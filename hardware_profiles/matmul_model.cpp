#include "hardware_profiles/matmul_model.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <limits>

#include "hardware_profiles/hardware.hpp"

namespace meshsim {
namespace {

struct Tile {
  double tm, tn;
};
// Hopper/Ampere GEMM kernels' output tiles (CUTLASS/cuBLAS/Triton configurations).
constexpr std::array<Tile, 6> kTiles{
    {{128, 256}, {256, 128}, {128, 128}, {128, 64}, {64, 128}, {64, 64}}};
constexpr std::array<std::int64_t, 4> kSplits{1, 2, 4, 8};
constexpr std::int64_t kMinSplitDepth = 128;  // a split-k slice is at least this deep

double ceil_div(std::int64_t a, std::int64_t b) {
  return static_cast<double>((a + b - 1) / b);
}

double ceil_div(std::int64_t a, double b) {
  return ceil_div(a, static_cast<std::int64_t>(b));
}

}  // namespace

double tensor_peak_flop_per_s(const ChipSpec& chip, MatmulDtype dtype) {
  return dtype == MatmulDtype::Tf32 ? chip.peak_bf16_flop_per_s / 2 : chip.peak_bf16_flop_per_s;
}

double gpu_tile_matmul_s(const GpuTileMatmul& model, const ChipSpec& chip, double memory_efficiency,
                         const MatmulShape& s, MatmulDtype dtype) {
  const double e = dtype == MatmulDtype::Tf32 ? 4.0 : 2.0;
  const double sms = model.sms;
  const double sm_rate = tensor_peak_flop_per_s(chip, dtype) / sms * model.tensor_core_fraction;
  const double b = static_cast<double>(s.batch), m = static_cast<double>(s.m),
               n = static_cast<double>(s.n), k = static_cast<double>(s.k);
  const double hbm_rate = chip.hbm_bandwidth_bytes_per_s * memory_efficiency;
  double best = std::numeric_limits<double>::infinity();
  for (const Tile& tile : kTiles) {
    for (std::int64_t split : kSplits) {
      if (split > 1 && s.k / split < kMinSplitDepth)
        continue;
      const double ctas = b * ceil_div(s.m, tile.tm) * ceil_div(s.n, tile.tn) * double(split);
      const double kc = ceil_div(s.k, split);
      const double out_bytes = split > 1 ? 4.0 : e;
      const double t_cta = std::max(2 * tile.tm * tile.tn * kc / sm_rate,
                                    e * (tile.tm + tile.tn) * kc / model.sm_operand_bandwidth) +
                           out_bytes * tile.tm * tile.tn / model.sm_operand_bandwidth +
                           model.tile_overhead_s;
      const double waves = std::ceil(ctas / sms);
      double hbm_bytes = e * b * (m * k + k * n + m * n);
      if (split > 1)
        hbm_bytes += 8 * b * m * n * double(split);
      best = std::min(best, std::max(waves * t_cta, hbm_bytes / hbm_rate));
    }
  }
  return model.kernel_overhead_s + best;
}

double tpu_mxu_matmul_s(const TpuMxuMatmul& model, const ChipSpec& chip, double memory_efficiency,
                        const MatmulShape& s) {
  const std::int64_t size = model.mxu_size;
  const double b = static_cast<double>(s.batch);
  const double m_pad = ceil_div(s.m, size) * double(size);
  const double blocks = b * ceil_div(s.k, size) * ceil_div(s.n, size);
  const double mxu_rate = chip.peak_bf16_flop_per_s / model.mxus * model.mxu_fraction;
  const double waves = std::ceil(blocks / model.mxus);
  const double compute_s = waves * 2 * double(size) * double(size) * m_pad / mxu_rate;
  const double hbm_bytes = 2 * b *
                           (static_cast<double>(s.m) * double(s.k) + double(s.k) * double(s.n) +
                            double(s.m) * double(s.n));
  const double memory_s = hbm_bytes / (chip.hbm_bandwidth_bytes_per_s * memory_efficiency);
  return model.op_overhead_s + std::max(compute_s, memory_s);
}

}  // namespace meshsim
