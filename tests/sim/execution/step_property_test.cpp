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

using namespace meshsim;

TEST_CASE("step property: random valid plans give sane, bounded results", "[execution][property]") {
  std::mt19937_64 rng(20261125);
  const std::vector<std::string> models{"vit-b16", "vit-l16"};
  const std::vector<std::string> hardware{"tpu-v4", "h100-sxm"};
  const std::vector<std::string> on_off{"on", "off"};
  const std::vector<std::string> remats{"none", "selective", "full"};
  const std::vector<std::string> optimizers{"adam", "adafactor", "sgd"};
  auto pick = [&](const std::vector<std::string>& v) {
    return v[std::uniform_int_distribution<std::size_t>(0, v.size() - 1)(rng)];
  };
  int simulated = 0;
  for (int draw = 0; draw < 40; ++draw) {
    const ModelConfig model = load_model(pick(models));
    const HardwareProfile hw = load_hardware(pick(hardware));
    const std::int64_t chips = std::int64_t{16} << std::uniform_int_distribution<int>(0, 4)(rng);
    // Model axes dividing the 12 (B) or 16 (L) heads and every feature count: 1, 2, 4.
    const std::int64_t k = std::int64_t{1} << std::uniform_int_distribution<int>(0, 2)(rng);
    const std::int64_t data = chips / k;
    const std::int64_t mb = std::int64_t{1} << std::uniform_int_distribution<int>(0, 2)(rng);
    const std::int64_t batch = data * mb * std::uniform_int_distribution<std::int64_t>(1, 8)(rng);
    PlanFlags f;
    f.mesh = std::to_string(data) + "x" + std::to_string(k);
    f.batch = std::to_string(batch);
    f.microbatches = std::to_string(mb);
    f.async = pick(on_off);
    f.bidirectional = pick(on_off);
    f.fsdp = pick(on_off);
    f.remat = pick(remats);
    f.optimizer = pick(optimizers);
    INFO(model.name << " on " << hw.name << ": mesh " << f.mesh << " batch " << f.batch << " mb "
                    << f.microbatches << " async " << f.async << " fsdp " << f.fsdp << " remat "
                    << f.remat << " " << f.optimizer);
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
