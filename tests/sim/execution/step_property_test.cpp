// Property test (issue 7): random valid plans, simulated end to end, never produce NaN, negative
// times, MFU above 1 or above HFU, a step faster than its physical lower bound, or memory that does
// not add up. Small models and machines (ViT-B/16 and ViT-L/16 on 16..256 chips) keep it fast.
#include <catch2/catch.hpp>
#include <cmath>
#include <random>
#include <string>
#include <vector>

#include "hardware_profiles/hardware.hpp"
#include "models/model.hpp"
#include "sim/execution/step.hpp"
#include "sim/plan/plan.hpp"
#include "tests/sim/execution/random_plan.hpp"

using namespace meshsim;

TEST_CASE("step property: random valid plans give sane, bounded results", "[execution][property]") {
  testing::PlanDraws draws(20261125, {"tpu-v4", "h100-sxm"}, 4, 8);
  int simulated = 0;
  for (int draw = 0; draw < 40; ++draw) {
    auto p = draws.next();
    p.flags.optimizer = draws.pick({"adam", "adafactor", "sgd"});
    INFO(testing::PlanDraws::describe(p));
    const ModelConfig model = load_model(p.model);
    const HardwareProfile hw = load_hardware(p.hardware);
    const auto& f = p.flags;
    const std::int64_t k = p.k;
    const Plan plan = finalize_plan(apply_plan_flags(Plan{}, f), model, hw, 0);
    const auto r = execution::simulate_step(model, hw, plan);
    ++simulated;
    for (double v : {r.step_time_s, r.mfu, r.hfu, r.tokens_per_s, r.compute_only_s, r.lower_bound_s,
                     r.model_axis.exposed_s, r.data_axis.exposed_s, r.memory.total_bytes}) {
      CHECK(std::isfinite(v));
      CHECK(v >= 0);
    }
    CHECK(r.step_time_s > 0);
    CHECK(r.mfu <= r.hfu * (1 + 1e-12));
    CHECK(r.hfu <= 1.0);
    CHECK(r.step_time_s >= r.lower_bound_s);
    CHECK(r.step_time_s >= r.compute_only_s);
    CHECK(r.slowest.compute_s + r.slowest.exposed_model_s + r.slowest.exposed_data_s <=
          r.step_time_s * (1 + 1e-9));
    const auto& m = r.memory;
    const double parts = m.weights_bytes + m.weight_gather_buffer_bytes + m.gradient_buffer_bytes +
                         m.master_weights_bytes + m.optimizer_state_bytes + m.gradients_bytes +
                         m.activations_bytes + m.runtime_reserve_bytes;
    CHECK(m.total_bytes == Approx(parts).epsilon(1e-12));
    CHECK(m.fits == (m.total_bytes <= m.capacity_bytes));
    if (k == 1)
      CHECK(r.model_axis.bytes_sent_per_chip == 0);
  }
  CHECK(simulated == 40);
}
