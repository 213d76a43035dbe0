// Issue 13: the stack fit recovers known parameters from runs meshsim generates itself with noise,
// and its leave-one-out predictions hold out each row for real.
#include "sim/validate/stack_fit.hpp"

#include <catch2/catch.hpp>
#include <cmath>
#include <random>
#include <string>
#include <vector>

#include "hardware_profiles/hardware.hpp"
#include "sim/validate/runs.hpp"

namespace {

using meshsim::HardwareProfile;
using meshsim::MeasuredRun;
using meshsim::MeasuredRunSet;

struct RowSpec {
  const char* id;
  const char* model;
  std::int64_t chips;
  const char* mesh;
  const char* batch;
  const char* fsdp;
  const char* remat;
};

// Plans on 8 and 16 A100s that each parameter moves differently: big and small batches (launch
// gap vs memory traffic), data parallel over InfiniBand without FSDP (gradient overlap), a plan
// fast enough per image that a slow input pipeline binds.
const std::vector<RowSpec> kRows = {
    {"b16_big", "vit-b16", 8, "8x1", "4096", "", "none"},
    {"b16_small", "vit-b16", 8, "8x1", "64", "", "none"},
    {"b16_dp16", "vit-b16", 16, "16x1", "256", "off", ""},
    {"l16_dp16", "vit-l16", 16, "16x1", "256", "off", ""},
    {"l16_full", "vit-l16", 8, "8x1", "1024", "", "full"},
    {"b16_4x2", "vit-b16", 8, "4x2", "512", "", ""},
};

meshsim::StackCost truth() {
  meshsim::StackCost s;
  s.launch_gap_s = 20e-6;
  s.memory_traffic_factor = 1.5;
  s.gradient_overlap = 0.3;
  s.input_time_per_image_s = 0.7e-3;
  return s;
}

// Runs "measured" on `hardware` with the `stack`, each images/s times (1 + noise), noise uniform
// in [-amplitude, amplitude] with a fixed seed.
MeasuredRunSet synthetic_runs(const HardwareProfile& hardware, const meshsim::StackCost& stack,
                              double amplitude) {
  MeasuredRunSet set;
  set.file = "synthetic.csv";
  for (const auto& r : kRows) {
    MeasuredRun run;
    run.id = r.id;
    run.model = r.model;
    run.hardware = hardware.name;
    run.chips = r.chips;
    run.flags.mesh = r.mesh;
    run.flags.batch = r.batch;
    run.flags.fsdp = r.fsdp;
    run.flags.remat = r.remat;
    run.measured_images_per_s = 1;  // set below
    run.line = static_cast<int>(set.runs.size()) + 2;
    set.runs.push_back(run);
  }
  HardwareProfile truth_profile = hardware;
  truth_profile.cost.stack = stack;
  std::mt19937_64 rng(13);
  std::uniform_real_distribution<double> noise(-amplitude, amplitude);
  const auto rows = meshsim::prepare_measured_runs(set, truth_profile);
  for (std::size_t i = 0; i < rows.size(); ++i) {
    set.runs[i].measured_images_per_s =
        meshsim::predict_prepared_run(rows[i], truth_profile).predicted_images_per_s *
        (1 + noise(rng));
  }
  return set;
}

}  // namespace

TEST_CASE("stack fit: parameters that generated noisy runs are recovered within the noise",
          "[stack_fit]") {
  const HardwareProfile a100 = meshsim::load_hardware("a100-sxm-80gb");
  const double amplitude = 0.01;
  const MeasuredRunSet set = synthetic_runs(a100, truth(), amplitude);
  const auto rows = meshsim::prepare_measured_runs(set, a100);
  const auto fit = meshsim::fit_stack(rows, a100, std::nullopt, meshsim::kAllStackParameters,
                                      /*alternatives=*/false);
  const meshsim::StackCost want = truth();
  for (int j = 0; j < meshsim::kStackParameters; ++j) {
    const auto& p = fit.parameters[static_cast<std::size_t>(j)];
    const auto& spec = meshsim::stack_parameters()[static_cast<std::size_t>(j)];
    INFO(spec.field << " fitted " << p.value << " +- " << p.std_error << ", truth "
                    << meshsim::stack_value(want, j));
    REQUIRE(p.fitted);
    REQUIRE(p.std_error > 0);
    // Within 3 standard errors (from the residuals) and within 5% of its bounds' width.
    const double off = std::abs(p.value - meshsim::stack_value(want, j));
    CHECK(off <= 3 * p.std_error + 1e-12);
    CHECK(off <= 0.05 * (spec.high - spec.low));
  }
  // The fitted rows are as close as the noise allows, and much closer than before the fit.
  for (std::size_t i = 0; i < fit.after.size(); ++i) {
    INFO(fit.after[i].id);
    CHECK(std::abs(fit.after[i].rel_error) <= 1.5 * amplitude);
    CHECK(std::abs(fit.before[i].rel_error) > 0.1);
  }
}

TEST_CASE("stack fit: fewer rows than parameters fit that many and keep the others",
          "[stack_fit]") {
  const HardwareProfile a100 = meshsim::load_hardware("a100-sxm-80gb");
  MeasuredRunSet set = synthetic_runs(a100, truth(), 0.0);
  set.runs.resize(2);
  const auto rows = meshsim::prepare_measured_runs(set, a100);
  const auto fit = meshsim::fit_stack(rows, a100);
  int fitted = 0;
  for (int j = 0; j < meshsim::kStackParameters; ++j) {
    const auto& p = fit.parameters[static_cast<std::size_t>(j)];
    fitted += p.fitted ? 1 : 0;
    if (!p.fitted) {
      CHECK(p.value == meshsim::stack_value(a100.cost.stack, j));  // the profile's value
      CHECK_FALSE(p.why_kept.empty());
    } else {
      CHECK_FALSE(p.constrained_by.empty());
    }
  }
  CHECK(fitted <= 2);
  CHECK(fitted >= 1);
  for (const auto& r : fit.after)
    CHECK(std::abs(r.rel_error) < 0.02);
  // --fit restricts the choice: only the memory traffic factor may move.
  meshsim::StackParameterMask only{false, true, false, false};
  const auto restricted = meshsim::fit_stack(rows, a100, std::nullopt, only, false);
  for (int j = 0; j < meshsim::kStackParameters; ++j)
    CHECK(restricted.parameters[static_cast<std::size_t>(j)].fitted == (j == 1));
}

TEST_CASE("stack fit: leave-one-out holds each row out of its own prediction", "[stack_fit]") {
  const HardwareProfile a100 = meshsim::load_hardware("a100-sxm-80gb");
  // Two parameters, so that five rows leave four to fit each held-out prediction.
  const meshsim::StackParameterMask two{true, true, false, false};
  meshsim::StackCost stack;
  stack.launch_gap_s = 15e-6;
  stack.memory_traffic_factor = 1.8;
  MeasuredRunSet set = synthetic_runs(a100, stack, 0.005);
  set.runs.resize(5);
  const auto rows = meshsim::prepare_measured_runs(set, a100);
  const auto held = meshsim::leave_one_out(rows, a100, two);
  REQUIRE(held.size() == rows.size());
  for (const auto& r : held) {
    INFO(r.id);
    CHECK(std::abs(r.rel_error) < 0.03);  // the model class holds the truth: small held-out error
  }
  // Moving row 0's measurement does not move its own held-out prediction (it was not fitted on
  // it), but does move the fit on all rows.
  MeasuredRunSet moved = set;
  moved.runs[0].measured_images_per_s *= 1.3;
  const auto moved_rows = meshsim::prepare_measured_runs(moved, a100);
  const auto held_moved = meshsim::leave_one_out(moved_rows, a100, two);
  CHECK(held_moved[0].predicted_images_per_s == Approx(held[0].predicted_images_per_s));
  CHECK(held_moved[0].rel_error != Approx(held[0].rel_error));
}
