#include "sim/validate/matmul_fit.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <utility>

namespace meshsim {
namespace {

constexpr int kParams = 4;  // fraction, kernel overhead, tile overhead, SM operand bandwidth
constexpr int kGridPoints = 7;
constexpr int kRefineRounds = 12;
constexpr std::size_t kStarts = 12;  // grid points refined

struct Problem {
  const std::vector<GemmRow>& rows;
  std::vector<double> measured;
  const ChipSpec& chip;
  double memory_efficiency;
  int sms;
  MatmulDtype dtype;
};

GpuTileMatmul model_of(const std::array<double, kParams>& p, int sms) {
  GpuTileMatmul g;
  g.sms = sms;
  g.tensor_core_fraction = p[0];
  g.kernel_overhead_s = p[1];
  g.tile_overhead_s = p[2];
  g.sm_operand_bandwidth = p[3];
  return g;
}

double objective(const Problem& pr, const std::array<double, kParams>& p) {
  const GpuTileMatmul g = model_of(p, pr.sms);
  double sum = 0;
  for (std::size_t i = 0; i < pr.rows.size(); ++i) {
    const double t =
        gpu_tile_matmul_s(g, pr.chip, pr.memory_efficiency, pr.rows[i].shape, pr.dtype);
    const double e = std::log(t / pr.measured[i]);
    sum += e * e;
  }
  return sum;
}

}  // namespace

MatmulFitResult fit_gpu_tile_matmul(const std::vector<GemmRow>& rows, const ChipSpec& chip,
                                    double memory_efficiency, int sms, MatmulDtype dtype,
                                    const MatmulFitBounds& b) {
  Problem pr{rows, {}, chip, memory_efficiency, sms, dtype};
  for (const GemmRow& row : rows)
    pr.measured.push_back(gemm_measured_s(row, dtype));
  const std::array<double, kParams> lo{b.min_fraction, b.min_kernel_s, b.min_tile_s, b.min_sm_bw};
  const std::array<double, kParams> hi{b.max_fraction, b.max_kernel_s, b.max_tile_s, b.max_sm_bw};
  // The bandwidth spans decades: search it on a log scale, the others linearly.
  auto point = [&](const std::array<double, kParams>& u) {
    std::array<double, kParams> p{};
    for (int i = 0; i < kParams; ++i)
      p[i] = i == 3 ? lo[i] * std::pow(hi[i] / lo[i], u[i]) : lo[i] + (hi[i] - lo[i]) * u[i];
    return p;
  };
  // The objective is piecewise (tile choice, waves): refine the best few grid points, not one.
  std::vector<std::pair<double, std::array<double, kParams>>> starts;
  std::array<int, kParams> index{};
  for (;;) {
    std::array<double, kParams> u{};
    for (int i = 0; i < kParams; ++i)
      u[i] = double(index[i]) / (kGridPoints - 1);
    starts.emplace_back(objective(pr, point(u)), u);
    int d = 0;
    while (d < kParams && ++index[d] == kGridPoints)
      index[d++] = 0;
    if (d == kParams)
      break;
  }
  const auto starts_kept =
      static_cast<std::ptrdiff_t>(std::min<std::size_t>(kStarts, starts.size()));
  std::partial_sort(starts.begin(), starts.begin() + starts_kept, starts.end());
  double best = INFINITY;
  std::array<double, kParams> best_u{};
  for (std::ptrdiff_t s_i = 0; s_i < starts_kept; ++s_i) {
    auto [f_start, u] = starts[static_cast<std::size_t>(s_i)];
    double f_u = f_start;
    // Coordinate search in the unit cube, halving the step when no move improves.
    double step = 1.0 / (kGridPoints - 1);
    for (int round = 0; round < kRefineRounds; ++round) {
      bool improved = true;
      while (improved) {
        improved = false;
        for (int i = 0; i < kParams; ++i) {
          for (double sign : {-1.0, 1.0}) {
            std::array<double, kParams> v = u;
            v[i] = std::clamp(v[i] + sign * step, 0.0, 1.0);
            const double f = objective(pr, point(v));
            if (f < f_u) {
              f_u = f;
              u = v;
              improved = true;
            }
          }
        }
      }
      step /= 2;
    }
    if (f_u < best) {
      best = f_u;
      best_u = u;
    }
  }
  return {model_of(point(best_u), sms), best};
}

}  // namespace meshsim
