#pragma once
// SYNTHETIC measurement files for tests only: the harness's op list at its per-chip shapes, with
// times generated from a known calibrated cost model plus seeded noise. Every file is labelled
// "synthetic": true; none is ever committed as a measurement (issue 8: never fabricate evidence).
#include <cmath>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <random>
#include <string>
#include <vector>

#include "hardware_profiles/cost_model.hpp"
#include "hardware_profiles/hardware.hpp"

namespace meshsim::testing {

// The H100 SXM figures of shared/docs/HARDWARE.md (989 TFLOP/s dense bf16, 3.35 TB/s HBM3).
inline ChipSpec h100_chip() {
  ChipSpec chip;
  chip.peak_bf16_flop_per_s = 989e12;
  chip.peak_fp32_flop_per_s = 67e12;
  chip.hbm_bytes = 80e9;
  chip.hbm_bandwidth_bytes_per_s = 3.35e12;
  return chip;
}

// A plausible known model; coefficients chosen so every time is above the physical bound.
inline CalibratedCost known_model() {
  CalibratedCost c;
  c.source = "synthetic";
  c.matmul = {true, 4e-6, 1.2, 400, 350, 450};
  c.batched_matmul = {true, 3e-6, 1.6, 0, 500, 600};
  c.norm = {true, 3e-6, 1.3};
  c.softmax = {true, 2.5e-6, 1.4};
  c.elementwise = {true, 2e-6, 1.2};
  c.graph_factor = 0.9;
  return c;
}

struct SyntheticOp {
  const char* name;
  const char* pass;
  const char* kind;
  std::int64_t batch, m, n, k;
  double flop, bytes;
};

// The ops of cuda_validation/harness.cu at b images, model axis k (same dims, FLOP and bytes).
inline std::vector<SyntheticOp> harness_ops(std::int64_t b, std::int64_t k) {
  const std::int64_t D = 6144, F = 24576, H = 48, T = 256, hd = 128;
  const std::int64_t M = b * T, Dk = D / k, Fk = F / k, Hk = H / k, N1 = 3 * Dk + Fk, N2 = Dk + Fk,
                     BH = b * Hk;
  auto mm = [](const char* name, const char* pass, std::int64_t bt, std::int64_t m, std::int64_t n,
               std::int64_t kk) {
    return SyntheticOp{name,
                       pass,
                       bt > 1 ? "batched_matmul" : "matmul",
                       bt,
                       m,
                       n,
                       kk,
                       2.0 * double(bt) * double(m) * double(n) * double(kk),
                       2.0 * double(bt) * double(m * kk + kk * n + m * n)};
  };
  const double e = 2, dM = double(M), dD = double(D), dDk = double(Dk), dFk = double(Fk),
               rows = double(BH * T), dT = double(T);
  return {
      {"ln", "forward", "norm", 1, M, D, 0, 4 * dM * dD, e * (2 * dM * dD + dD)},
      mm("fused_in_proj", "forward", 1, M, N1, D),
      {"qk_norm", "forward", "norm", 1, 2 * M * Hk, hd, 0, 8 * dM * dDk, e * 6 * dM * dDk},
      mm("attn_scores", "forward", BH, T, T, hd),
      {"softmax", "forward", "softmax", 1, BH * T, T, 0, 5 * rows * dT, e * 2 * rows * dT},
      mm("attn_values", "forward", BH, T, hd, T),
      {"merge_heads", "forward", "elementwise", 1, M, Dk, 0, 0, e * 2 * dM * dDk},
      {"gelu", "forward", "elementwise", 1, M, Fk, 0, 12 * dM * dFk, e * (2 * dM * dFk + dFk)},
      mm("fused_out_proj", "forward", 1, M, D, N2),
      {"residual", "forward", "elementwise", 1, M, Dk, 0, 2 * dM * dDk, e * (3 * dM * dDk + dDk)},
      mm("fused_out_proj", "backward_input", 1, M, N2, D),
      mm("fused_out_proj", "backward_weight", 1, N2, D, M),
      {"gelu", "backward_input", "elementwise", 1, M, Fk, 0, 16 * dM * dFk,
       e * (3 * dM * dFk + dFk) + 4 * dFk},
      {"merge_heads", "backward_input", "elementwise", 1, M, Dk, 0, 0, e * 2 * dM * dDk},
      mm("attn_values", "backward_input", BH, T, T, hd),
      mm("attn_values", "backward_weight", BH, T, hd, T),
      {"softmax", "backward_input", "softmax", 1, BH * T, T, 0, 4 * rows * dT, e * 3 * rows * dT},
      mm("attn_scores", "backward_input", BH, T, hd, T),
      mm("attn_scores", "backward_weight", BH, T, hd, T),
      {"qk_norm", "backward_input", "norm", 1, 2 * M * Hk, hd, 0, 16 * dM * dDk, e * 8 * dM * dDk},
      mm("fused_in_proj", "backward_input", 1, M, D, N1),
      mm("fused_in_proj", "backward_weight", 1, D, N1, M),
      {"ln", "backward_input", "norm", 1, M, D, 0, 8 * dM * dD, e * (3 * dM * dD + dD)},
      {"residual", "backward_input", "elementwise", 1, M, Dk, 0, 2 * dM * dDk,
       e * 3 * dM * dDk + 4 * dDk},
  };
}

inline OpKind synthetic_kind(const std::string& kind) {
  if (kind == "matmul")
    return OpKind::Matmul;
  if (kind == "batched_matmul")
    return OpKind::BatchedMatmul;
  if (kind == "norm")
    return OpKind::Norm;
  if (kind == "softmax")
    return OpKind::Softmax;
  return OpKind::Elementwise;
}

inline nlohmann::json timing(double median_s, double flop, double bytes) {
  return {{"median_s", median_s},
          {"min_s", median_s * 0.99},
          {"max_s", median_s * 1.02},
          {"repeats", 30},
          {"tflop_per_s", flop / median_s / 1e12},
          {"gb_per_s", bytes / median_s / 1e9}};
}

// A whole SYNTHETIC measurement file: ops timed by `truth` (isolated), layers = graph factor x sum,
// each time multiplied by (1 + u), u uniform in [-noise, noise] from `seed`.
inline nlohmann::json synthetic_measurements(const CalibratedCost& truth, double noise,
                                             std::uint64_t seed,
                                             std::vector<std::int64_t> batches = {1, 4, 16},
                                             std::vector<std::int64_t> axes = {1, 2, 4, 8, 16}) {
  const ChipSpec chip = h100_chip();
  CostModel cost;
  cost.calibrated = truth;
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> u(-noise, noise);
  nlohmann::json j;
  j["schema"] = "meshsim.cuda-measurements/v1";
  j["generator"] = "tests/sim/validate/synthetic_measurements.hpp (SYNTHETIC, not measured)";
  j["synthetic"] = true;
  j["date"] = "2026-01-01T00:00:00Z";
  j["device"] = {{"name", "SYNTHETIC NVIDIA H100 80GB HBM3"},
                 {"sm_count", 132},
                 {"compute_capability", "9.0"},
                 {"memory_bytes", 80e9},
                 {"l2_bytes", 52428800},
                 {"pci_bus_id", "synthetic"},
                 {"driver_version", nullptr},
                 {"cuda_driver_api_version", 13000},
                 {"cuda_runtime_version", 13000},
                 {"cublaslt_version", 130000}};
  j["clocks_before"] = nullptr;
  j["clocks_after"] = nullptr;
  j["model"] = {{"name", "vit-22b"}};
  j["method"] = {{"note", "synthetic"}};
  j["all_checks_passed"] = true;
  j["shapes"] = nlohmann::json::array();
  for (std::int64_t b : batches) {
    for (std::int64_t k : axes) {
      nlohmann::json shape;
      shape["batch_images"] = b;
      shape["model_axis"] = k;
      shape["tokens"] = b * 256;
      shape["correctness"] = {{"passed", true}, {"nonfinite_outputs", 0}, {"tolerance", 1.0 / 64}};
      shape["clocks_after"] = nullptr;
      shape["ops"] = nlohmann::json::array();
      double layer = 0, flop = 0, bytes = 0;
      for (const SyntheticOp& s : harness_ops(b, k)) {
        Op op;
        op.kind = synthetic_kind(s.kind);
        op.batch = s.batch;
        op.m = s.m;
        op.n = s.n;
        op.k = s.k;
        op.flop = s.flop;
        op.bytes_read = s.bytes;
        const double t = isolated_op_time_s(cost, chip, op);
        layer += t;
        flop += s.flop;
        bytes += s.bytes;
        nlohmann::json o = timing(t * (1 + u(rng)), s.flop, s.bytes);
        o["op"] = s.name;
        o["pass"] = s.pass;
        o["kind"] = s.kind;
        o["batch"] = s.batch;
        o["m"] = s.m;
        o["n"] = s.n;
        o["k"] = s.k;
        o["flop"] = s.flop;
        o["bytes"] = s.bytes;
        o["max_rel_error"] = 0.004;
        o["check_samples"] = 384;
        shape["ops"].push_back(o);
      }
      nlohmann::json l = timing(truth.graph_factor * layer * (1 + u(rng)), flop, bytes);
      l["flop"] = flop;
      l["bytes"] = bytes;
      l["kernels"] = 26;
      shape["layer"] = l;
      j["shapes"].push_back(shape);
    }
  }
  return j;
}

}  // namespace meshsim::testing
