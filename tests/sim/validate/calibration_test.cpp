#include "sim/validate/calibration.hpp"

#include <catch2/catch.hpp>
#include <cmath>
#include <fstream>

#include "common/error.hpp"
#include "sim/validate/validation.hpp"
#include "tests/cli_runner.hpp"
#include "tests/sim/validate/synthetic_measurements.hpp"

using namespace meshsim;
using meshsim::testing::h100_chip;
using meshsim::testing::known_model;
using meshsim::testing::synthetic_measurements;

namespace {

MeasurementSet to_set(const nlohmann::json& j) {
  // Through the real loader, so the generator's files are checked too.
  const std::string dir = meshsim::testing::scratch_dir("calibration");
  const std::string path = dir + "/synthetic.json";
  std::ofstream(path) << j.dump();
  return load_measurements(path);
}

}  // namespace

TEST_CASE("NNLS returns the exact solution when it is non-negative", "[validate][fit]") {
  // b = 2 a0 + 3 a1 exactly.
  const std::vector<std::vector<double>> rows{{1, 0}, {0, 1}, {1, 1}, {2, 1}};
  const std::vector<double> target{2, 3, 5, 7};
  const auto x = nonnegative_least_squares(rows, target);
  CHECK(x[0] == Approx(2).epsilon(1e-12));
  CHECK(x[1] == Approx(3).epsilon(1e-12));
}

TEST_CASE("NNLS clamps a coefficient that least squares would make negative", "[validate][fit]") {
  // Unconstrained solution is (3, -1); the constrained optimum sets x1 = 0 and fits x0 alone:
  // x0 = <a0, b> / <a0, a0> = (3*1 + 2*1 + 1*1) / 3 = 2.
  const std::vector<std::vector<double>> rows{{1, 0}, {1, 1}, {1, 2}};
  const std::vector<double> target{3, 2, 1};
  const auto x = nonnegative_least_squares(rows, target);
  CHECK(x[1] == 0.0);
  CHECK(x[0] == Approx(2).epsilon(1e-12));
  // KKT: the gradient A^T (A x - b) is >= 0 on the clamped coordinate.
  double grad1 = 0;
  for (std::size_t i = 0; i < rows.size(); ++i)
    grad1 += rows[i][1] * (rows[i][0] * x[0] + rows[i][1] * x[1] - target[i]);
  CHECK(grad1 >= -1e-12);
}

TEST_CASE("NNLS copes with collinear columns", "[validate][fit]") {
  const std::vector<std::vector<double>> rows{{1, 2}, {2, 4}, {3, 6}};
  const std::vector<double> target{2, 4, 6};
  const auto x = nonnegative_least_squares(rows, target);
  CHECK(x[0] >= 0);
  CHECK(x[1] >= 0);
  CHECK(x[0] + 2 * x[1] == Approx(2).epsilon(1e-9));
}

TEST_CASE("Noise-free synthetic measurements: the fit recovers the known model",
          "[validate][fit]") {
  const CalibratedCost truth = known_model();
  const MeasurementSet m = to_set(synthetic_measurements(truth, 0.0, 1));
  const CalibratedCost fit = fit_cost_model(m, h100_chip());
  CHECK(fit.fit_model_axes == std::vector<int>{1, 4, 16});
  CHECK(fit.matmul.overhead_s == Approx(truth.matmul.overhead_s).epsilon(1e-6));
  CHECK(fit.matmul.flop_coeff == Approx(truth.matmul.flop_coeff).epsilon(1e-6));
  CHECK(fit.matmul.inv_m_coeff == Approx(truth.matmul.inv_m_coeff).epsilon(1e-5));
  CHECK(fit.matmul.inv_n_coeff == Approx(truth.matmul.inv_n_coeff).epsilon(1e-5));
  CHECK(fit.matmul.inv_k_coeff == Approx(truth.matmul.inv_k_coeff).epsilon(1e-5));
  for (auto [got, want] : {std::pair{fit.norm, truth.norm}, std::pair{fit.softmax, truth.softmax},
                           std::pair{fit.elementwise, truth.elementwise}}) {
    CHECK(got.overhead_s == Approx(want.overhead_s).epsilon(1e-6));
    CHECK(got.byte_coeff == Approx(want.byte_coeff).epsilon(1e-6));
  }
  CHECK(fit.graph_factor == Approx(truth.graph_factor).epsilon(1e-6));
  // Attention matmuls have m = 256 always, so 1/m is not identifiable; their predictions are.
  CostModel got, want;
  got.calibrated = fit;
  want.calibrated = truth;
  for (const auto& shape : m.shapes)
    for (const auto& op : shape.ops)
      CHECK(isolated_op_time_s(got, h100_chip(), to_op(op)) ==
            Approx(isolated_op_time_s(want, h100_chip(), to_op(op))).epsilon(1e-6));
}

TEST_CASE("Noisy synthetic measurements: held-out errors stay near the noise", "[validate][fit]") {
  // +-3% uniform noise on every time; the fit sees k in {1,4,16} and is judged on k in {2,8}.
  HardwareProfile profile;
  profile.name = "synthetic-h100";
  profile.chip = h100_chip();
  const MeasurementSet m = to_set(synthetic_measurements(known_model(), 0.03, 7));
  const ValidationReport r = validate_measurements(m, profile, ValidationModel::Fit);
  CHECK(r.held_out_ops.count == 3 * 2 * 24);
  CHECK(r.held_out_ops.median_abs_error < 0.03);
  CHECK(r.held_out_matmuls.worst_abs_error < 0.06);
  CHECK(r.held_out_layers.worst_abs_error < 0.05);
  CHECK(r.matmul_target_met);
  CHECK(r.median_op_target_met);
  CHECK(r.layer_target_met);
}

TEST_CASE("The fit needs shapes at the fit model-axis sizes", "[validate][fit]") {
  const MeasurementSet m = to_set(synthetic_measurements(known_model(), 0.0, 1, {1}, {2, 8}));
  CHECK_THROWS_AS(fit_cost_model(m, h100_chip()), InputError);
}
