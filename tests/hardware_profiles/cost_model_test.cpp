#include "hardware_profiles/cost_model.hpp"

#include <catch2/catch.hpp>

#include "hardware_profiles/cost_model_json.hpp"
#include "hardware_profiles/hardware.hpp"
#include "tests/sim/validate/synthetic_measurements.hpp"

using namespace meshsim;

namespace {

Op matmul(std::int64_t m, std::int64_t n, std::int64_t k) {
  Op op;
  op.kind = OpKind::Matmul;
  op.m = m;
  op.n = n;
  op.k = k;
  op.flop = 2.0 * double(m) * double(n) * double(k);
  op.bytes_read = 2.0 * double(m * k + k * n);
  op.bytes_written = 2.0 * double(m * n);
  return op;
}

}  // namespace

TEST_CASE("Uncalibrated op time is the roofline plus overhead", "[cost_model]") {
  const ChipSpec chip = meshsim::testing::h100_chip();
  CostModel cost;
  cost.matmul_efficiency = 0.8;
  cost.memory_efficiency = 0.9;
  cost.kernel_overhead_s = 3e-6;
  const Op op = matmul(8192, 8192, 8192);
  CHECK(op_time_s(cost, chip, op) == Approx(op.flop / (989e12 * 0.8) + 3e-6));
}

TEST_CASE("Calibrated op time follows the fitted form and never beats the bound", "[cost_model]") {
  const ChipSpec chip = meshsim::testing::h100_chip();
  CostModel cost;
  cost.calibrated = meshsim::testing::known_model();
  const MatmulFit& f = cost.calibrated->matmul;
  const Op op = matmul(4096, 43008, 6144);
  const double x = op.flop / chip.peak_bf16_flop_per_s;
  const double want = f.overhead_s + x * (f.flop_coeff + f.inv_m_coeff / 4096 +
                                          f.inv_n_coeff / 43008 + f.inv_k_coeff / 6144);
  CHECK(isolated_op_time_s(cost, chip, op) == Approx(want));
  CHECK(op_time_s(cost, chip, op) == Approx(0.9 * want));
  // An absurd fit (everything zero) is held at the physical lower bound.
  cost.calibrated->matmul = {true, 0, 0, 0, 0, 0};
  CHECK(op_time_s(cost, chip, op) == Approx(op_lower_bound_s(chip, op)));
  CHECK(op_lower_bound_s(chip, op) >= op.flop / chip.peak_bf16_flop_per_s);
}

TEST_CASE("Cost model JSON: three fields alone, or with a calibration that round-trips",
          "[cost_model]") {
  nlohmann::json plain = {
      {"matmul_efficiency", 0.8}, {"memory_efficiency", 0.9}, {"kernel_overhead", "3 us"}};
  JsonObject plain_object(plain, "test.json", "/cost_model");
  const CostModel a = parse_cost_model(plain_object);
  plain_object.reject_unknown_fields();
  CHECK(!a.calibrated);
  CHECK(a.kernel_overhead_s == Approx(3e-6));

  CalibratedCost c = meshsim::testing::known_model();
  c.fit_model_axes = {1, 4, 16};
  nlohmann::json with = plain;
  with["calibrated"] = calibrated_cost_to_json(c);
  JsonObject with_object(with, "test.json", "/cost_model");
  const CostModel b = parse_cost_model(with_object);
  with_object.reject_unknown_fields();
  REQUIRE(b.calibrated);
  CHECK(b.calibrated->fit_model_axes == c.fit_model_axes);
  CHECK(b.calibrated->matmul.overhead_s == Approx(c.matmul.overhead_s).epsilon(1e-8));
  CHECK(b.calibrated->matmul.inv_k_coeff == Approx(c.matmul.inv_k_coeff).epsilon(1e-8));
  CHECK(b.calibrated->softmax.byte_coeff == Approx(c.softmax.byte_coeff).epsilon(1e-8));
  CHECK(b.calibrated->graph_factor == Approx(c.graph_factor));

  with["calibrated"]["matmul"]["flop_coef"] = 1;
  JsonObject typo(with, "test.json", "/cost_model");
  CHECK_THROWS_AS(parse_cost_model(typo), InputError);
}
