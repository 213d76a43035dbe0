// Property test (issue 7): random valid plans for ViT-22B and ViT-e on TPU v4 and H100, drawn
// with a fixed seed, go through apply_plan_flags + finalize_plan + memory_per_chip. Every one must
// be accepted and give memory that adds up: no NaN, no negative part, total = the sum of the
// parts, fits = (total <= capacity), headroom and overflow consistent, the batch split exactly.
#include <catch2/catch.hpp>
#include <cmath>
#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "hardware_profiles/hardware.hpp"
#include "models/model.hpp"
#include "sim/plan/memory.hpp"
#include "sim/plan/plan.hpp"

using namespace meshsim;

namespace {

template <typename T>
const T& pick(std::mt19937_64& rng, const std::vector<T>& items) {
  return items[std::uniform_int_distribution<std::size_t>(0, items.size() - 1)(rng)];
}

// Powers of two that divide every feature count the model axis splits (heads, D, F and every
// linear's input and output): the model-axis sizes a valid plan may use.
std::vector<std::int64_t> valid_model_axes(const ModelConfig& model, std::int64_t chips) {
  std::vector<std::int64_t> axes;
  for (std::int64_t k = 1; k <= chips && k <= 64; k *= 2) {
    bool divides = model.heads % k == 0 && model.width % k == 0 && model.mlp_dim % k == 0;
    for (const Linear& linear : layer_linears(model))
      divides = divides && linear.in_features % k == 0 && linear.out_features % k == 0;
    if (divides)
      axes.push_back(k);
  }
  return axes;
}

struct Draw {
  PlanFlags flags;
  std::int64_t chips = 0, data = 0, microbatches = 0, global_batch = 0;
  std::string text;  // for failure messages
};

Draw draw_plan(std::mt19937_64& rng, const ModelConfig& model) {
  Draw d;
  d.chips = std::int64_t{1} << std::uniform_int_distribution<int>(6, 10)(rng);  // 64 .. 1024
  const std::int64_t k = pick(rng, valid_model_axes(model, d.chips));
  d.data = d.chips / k;
  // A second model axis splits k in two when asked (and k > 1).
  std::string mesh = std::to_string(d.data) + "x" + std::to_string(k);
  if (k >= 4 && std::bernoulli_distribution(0.3)(rng)) {
    const std::int64_t k2 = k >= 8 && std::bernoulli_distribution(0.5)(rng) ? 4 : 2;
    mesh = std::to_string(d.data) + "x" + std::to_string(k / k2) + "x" + std::to_string(k2);
  }
  d.microbatches = std::int64_t{1} << std::uniform_int_distribution<int>(0, 3)(rng);
  d.global_batch =
      d.data * d.microbatches * std::uniform_int_distribution<std::int64_t>(1, 64)(rng);
  const std::vector<std::string> on_off{"on", "off"};
  PlanFlags& f = d.flags;
  f.mesh = mesh;
  f.sharding = pick(rng, std::vector<std::string>{"auto", "row", "column"});
  f.async = pick(rng, on_off);
  f.bidirectional = pick(rng, on_off);
  f.fsdp = pick(rng, on_off);
  f.remat = pick(rng, std::vector<std::string>{"none", "full", "selective"});
  f.optimizer = pick(rng, std::vector<std::string>{"adam", "adafactor", "sgd"});
  f.master_weights = pick(rng, on_off);
  f.gradient_dtype = pick(rng, std::vector<std::string>{"bf16", "fp32"});
  f.weight_grad_input = pick(rng, std::vector<std::string>{"keep", "regather"});
  f.microbatches = std::to_string(d.microbatches);
  f.batch = std::to_string(d.global_batch);
  d.text = "--mesh " + f.mesh + " --sharding " + f.sharding + " --async " + f.async +
           " --bidirectional " + f.bidirectional + " --fsdp " + f.fsdp + " --remat " + f.remat +
           " --optimizer " + f.optimizer + " --master-weights " + f.master_weights +
           " --grad-dtype " + f.gradient_dtype + " --weight-grad-input " + f.weight_grad_input +
           " --microbatches " + f.microbatches + " --batch " + f.batch;
  return d;
}

void check_memory(const MemoryBreakdown& m, const HardwareProfile& hw, const ModelConfig& model,
                  const Draw& d) {
  const std::vector<double> parts{m.weights_bytes,         m.weight_gather_buffer_bytes,
                                  m.gradient_buffer_bytes, m.master_weights_bytes,
                                  m.optimizer_state_bytes, m.gradients_bytes,
                                  m.activations_bytes,     m.runtime_reserve_bytes};
  double sum = 0;
  for (double part : parts) {
    CHECK(std::isfinite(part));
    CHECK(part >= 0);
    sum += part;
  }
  CHECK(std::isfinite(m.total_bytes));
  CHECK(m.total_bytes == Approx(sum).epsilon(1e-12));
  CHECK(m.capacity_bytes == hw.chip.hbm_bytes);
  CHECK(m.fits == (m.total_bytes <= m.capacity_bytes));
  CHECK(m.headroom_bytes >= 0);
  CHECK(m.overflow_bytes >= 0);
  if (m.fits) {
    CHECK(m.headroom_bytes == Approx(m.capacity_bytes - m.total_bytes));
    CHECK(m.overflow_bytes == 0);
  } else {
    CHECK(m.overflow_bytes == Approx(m.total_bytes - m.capacity_bytes));
    CHECK(m.headroom_bytes == 0);
  }
  // The global batch splits exactly into data-axis groups and microbatches.
  CHECK(m.microbatch_images * d.data * d.microbatches == d.global_batch);
  CHECK(m.microbatch_tokens == m.microbatch_images * model.tokens);
  // A chip owns a positive share of the parameters, never more than all of them.
  CHECK(m.params_per_chip > 0);
  CHECK(m.params_per_chip <= static_cast<double>(count_params(model).total));
  CHECK(m.kept_bytes_per_layer >= 0);
  CHECK(m.recompute_bytes_one_layer >= 0);
}

}  // namespace

TEST_CASE("plan property: random valid plans are accepted and their memory adds up",
          "[plan][hardening]") {
  constexpr int kDrawsPerPair = 200;
  std::mt19937_64 rng(20260707);  // fixed seed: the same draws every run
  int accepted = 0, fitting = 0;
  for (const char* model_name : {"vit-22b", "vit-e14"}) {
    const ModelConfig model = load_model(model_name);
    for (const char* hw_name : {"tpu-v4", "h100-sxm"}) {
      const HardwareProfile hw = load_hardware(hw_name);
      for (int i = 0; i < kDrawsPerPair; ++i) {
        const Draw d = draw_plan(rng, model);
        INFO(model_name << " on " << hw_name << ", " << d.chips << " chips: " << d.text);
        Plan plan;
        try {
          plan = finalize_plan(apply_plan_flags(Plan{}, d.flags), model, hw, d.chips);
        } catch (const InputError& e) {
          FAIL("a valid plan was rejected: " << e.what());
        }
        CHECK(plan.mesh.chips() == d.chips);
        const MemoryBreakdown m = memory_per_chip(model, hw, plan);
        check_memory(m, hw, model, d);
        ++accepted;
        fitting += m.fits ? 1 : 0;
      }
    }
  }
  CHECK(accepted == 4 * kDrawsPerPair);
  // The draws cover both outcomes (small plans fit, ViT-22B without sharding does not).
  CHECK(fitting > 0);
  CHECK(fitting < accepted);
}

TEST_CASE("plan property: more sharding never needs more memory per chip", "[plan][hardening]") {
  // Metamorphic pairs over random valid plans: FSDP on vs off (optimizer state, master weights
  // and gradients per chip), and twice the microbatches (activations).
  std::mt19937_64 rng(7);
  const ModelConfig model = load_model("vit-22b");
  const HardwareProfile hw = load_hardware("tpu-v4");
  for (int i = 0; i < 100; ++i) {
    Draw d = draw_plan(rng, model);
    INFO(d.text);
    d.flags.fsdp = "off";
    const Plan base = finalize_plan(apply_plan_flags(Plan{}, d.flags), model, hw, d.chips);
    const MemoryBreakdown off = memory_per_chip(model, hw, base);
    d.flags.fsdp = "on";
    const Plan sharded = finalize_plan(apply_plan_flags(Plan{}, d.flags), model, hw, d.chips);
    const MemoryBreakdown on = memory_per_chip(model, hw, sharded);
    CHECK(on.optimizer_state_bytes + on.master_weights_bytes + on.gradients_bytes <=
          off.optimizer_state_bytes + off.master_weights_bytes + off.gradients_bytes);
    if (d.global_batch % (2 * d.data * d.microbatches) == 0) {
      d.flags.microbatches = std::to_string(2 * d.microbatches);
      const Plan more = finalize_plan(apply_plan_flags(Plan{}, d.flags), model, hw, d.chips);
      CHECK(memory_per_chip(model, hw, more).activations_bytes <= on.activations_bytes);
    }
  }
}
