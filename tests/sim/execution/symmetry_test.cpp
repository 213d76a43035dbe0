// Replica symmetry (docs/execution.md "Replica symmetry"): simulating replica 0 alone, with the
// data-axis collectives memoized or run transfer by transfer, must give the same step as
// simulating every chip. Random valid plans on small models, both paths compared field by field.
#include <catch2/catch.hpp>
#include <random>
#include <string>
#include <vector>

#include "hardware_profiles/hardware.hpp"
#include "models/model.hpp"
#include "sim/execution/step.hpp"
#include "sim/plan/plan.hpp"
#include "tests/sim/execution/random_plan.hpp"
#include "tests/sim/execution/same_step.hpp"

using namespace meshsim;
using execution::StepResult;

namespace {

using testing::check_same;

// Chips a step simulates per chip the replica reductions keep: k with model-axis rotation (each
// model group's chip at index 0 stands for its k), else 1.
std::int64_t rotation_of(const StepResult& r, std::int64_t k) {
  return r.symmetry.find("model-axis rotation:") != std::string::npos ? k : 1;
}

// The default, every chip, and without the leaf-group shifts (leaf_group_symmetry off).
testing::ThreeWays run_three_ways(const ModelConfig& model, const HardwareProfile& hw,
                                  const Plan& plan) {
  execution::StepOptions no_groups;
  no_groups.leaf_group_symmetry = false;
  return testing::run_three_ways(model, hw, plan, no_groups);
}

}  // namespace

TEST_CASE("replica symmetry: replica 0 alone gives the step of every chip",
          "[execution][symmetry]") {
  testing::PlanDraws draws(20261126, {"tpu-v4", "h100-sxm", "tpu-v5e"}, 3, 4);
  int symmetric = 0;
  std::int64_t memoized = 0, stepwise = 0;
  for (int draw = 0; draw < 40; ++draw) {
    // Small per-chip batches (1-4 images per replica and microbatch) make the data axis the
    // bottleneck, so data-axis collectives overlap.
    auto p = draws.next();
    p.flags.gradient_dtype = draws.pick({"bf16", "fp32"});
    INFO(testing::PlanDraws::describe(p));
    const ModelConfig model = load_model(p.model);
    const HardwareProfile hw = load_hardware(p.hardware);
    const std::int64_t chips = p.chips, k = p.k;
    const auto& f = p.flags;
    const Plan plan = finalize_plan(apply_plan_flags(Plan{}, f), model, hw, 0);
    const auto fast = execution::simulate_step(model, hw, plan);
    const auto full = testing::simulate_every_chip(model, hw, plan);
    INFO("symmetry " << fast.symmetry);
    CHECK(full.simulated_chips == chips);
    CHECK(full.symmetry.rfind("off", 0) == 0);
    if (fast.symmetry.rfind("on", 0) == 0) {
      ++symmetric;
      // Replica 0 alone, or with shifts (torus, whole nodes) the replicas they keep.
      const auto kept = fast.simulated_chips * rotation_of(fast, k);
      if (fast.symmetry.find("shifts") == std::string::npos) {
        CHECK(kept == k);
      } else {
        CHECK(kept % k == 0);
        CHECK(kept <= chips / 2);
      }
      memoized += fast.memoized_data_collectives;
      stepwise += fast.stepwise_data_collectives;
    } else {
      CHECK(fast.simulated_chips * rotation_of(fast, k) == chips);
    }
    check_same(fast, full);
  }
  // The draws exercise the fast path and both ways of running its data-axis collectives.
  CHECK(symmetric >= 15);
  CHECK(memoized > 0);
  CHECK(stepwise > 0);
}

TEST_CASE("leaf-group symmetry: the first leaf group's replicas give the step of every GPU",
          "[execution][symmetry][leaf_group]") {
  // H100 figures on leaves of 2 node ports (16 GPUs per leaf group), so that 32-128 GPUs hold
  // 2-8 leaf groups and the full runs stay small. A model axis of 1, 2 or 4 GPUs shares each
  // node's NVSwitch ports with the data axis: no replica symmetry, but every leaf group is a
  // shift of the first.
  testing::PlanDraws draws(20261130, {"h100-sxm"}, 3, 4);
  HardwareProfile hw = load_hardware("h100-sxm");
  hw.gpu.leaf_switch_ports = 2;
  int shifted = 0;
  for (int draw = 0; draw < 24; ++draw) {
    auto p = draws.next();
    p.flags.gradient_dtype = draws.pick({"bf16", "fp32"});
    INFO(testing::PlanDraws::describe(p));
    const ModelConfig model = load_model(p.model);
    const Plan plan = finalize_plan(apply_plan_flags(Plan{}, p.flags), model, hw, 0);
    const auto [fast, full, without] = run_three_ways(model, hw, plan);
    INFO("symmetry " << fast.symmetry);
    CHECK(full.simulated_chips == p.chips);
    if (fast.symmetry.find("shifts of the first leaf group") != std::string::npos) {
      ++shifted;
      // One leaf group of 16 GPUs simulated, each of the others a shift of it.
      CHECK(fast.simulated_chips * rotation_of(fast, p.k) == 16);
      CHECK(fast.events < full.events);
      CHECK(without.symmetry.find("leaf group") == std::string::npos);
    }
    check_same(fast, full);
    check_same(without, full);
  }
  CHECK(shifted >= 8);
}

TEST_CASE("leaf-group symmetry: replicas alike, data collectives run as the first group's share",
          "[execution][symmetry][leaf_group]") {
  // A model axis of one node (8 GPUs): replicas alike on links of their own, and every data group
  // a rail the leaf-group shifts map onto itself (16 GPUs per leaf group, 2-8 groups).
  HardwareProfile hw = load_hardware("h100-sxm");
  hw.gpu.leaf_switch_ports = 2;
  const ModelConfig model = load_model("vit-l16");
  std::int64_t memoized = 0, stepwise = 0;
  const std::vector<std::string> meshes{"4x8", "8x8", "16x8"}, batches{"32", "256"};
  const std::string microbatches = "2";
  for (const auto& mesh : meshes) {
    for (const auto& batch : batches) {
      PlanFlags f;
      f.mesh = mesh;
      f.batch = batch;
      f.microbatches = microbatches;
      const Plan plan = finalize_plan(apply_plan_flags(Plan{}, f), model, hw, 0);
      const auto [fast, full, without] = run_three_ways(model, hw, plan);
      INFO(mesh << " batch " << batch << ": " << fast.symmetry);
      CHECK(fast.symmetry.find("data-axis collectives run as the first leaf group's share") !=
            std::string::npos);
      CHECK(fast.simulated_chips * rotation_of(fast, 8) == 8);
      CHECK(fast.events < without.events);
      CHECK(without.symmetry.find("leaf group") == std::string::npos);
      check_same(fast, full);
      check_same(without, full);
      CHECK(fast.memoized_data_collectives + fast.stepwise_data_collectives ==
            without.memoized_data_collectives + without.stepwise_data_collectives);
      memoized += fast.memoized_data_collectives;
      stepwise += fast.stepwise_data_collectives;
    }
  }
  // Both ways of running the reduced data collectives: memoized batches and transfer by transfer.
  CHECK(memoized > 0);
  CHECK(stepwise > 0);
}

TEST_CASE("replica symmetry: which reduction applies, and why not", "[execution][symmetry]") {
  struct Case {
    std::string model, hardware, mesh, batch, mapping;
    std::string note;  // how the note starts
    std::int64_t simulated;
    std::string microbatches = "2";
    std::string async = "on";
  };
  const std::vector<Case> cases{
      // The model axis takes half of z, so the data axis's z rings pass over model-axis links:
      // no links of their own, but every replica is a torus shift of replica 0.
      {"vit-b16", "tpu-v4", "32x2", "256",
       R"({"torus_shape": [4, 4, 4], "data": ["x", "y", "z:2"], "model": ["z:2"]})",
       "on: the other 31 data replicas are torus shifts", 2},
      // ViT-22B with the model axis on half of a 16-ring: data and model transfers share links
      // in the same picosecond, so the order in which collectives start must not depend on which
      // chip arrives last (a fixed order, docs/execution.md); sync and async.
      {"vit-22b", "tpu-v4", "32x8", "256",
       R"({"torus_shape": [4, 4, 16], "data": ["x", "y", "z:2"], "model": ["z:8"]})",
       "on: the other 31 data replicas are torus shifts", 8, "2", "off"},
      {"vit-22b", "tpu-v4", "32x8", "256",
       R"({"torus_shape": [4, 4, 16], "data": ["x", "y", "z:2"], "model": ["z:8"]})",
       "on: the other 31 data replicas are torus shifts", 8, "2", "on"},
      // A 4-GPU model axis shares each node's NVSwitch ports with the data axis's NVLink hops;
      // the two nodes of one leaf are shifts of each other (node shifts): one simulated.
      {"vit-b16", "h100-sxm", "4x4", "256", "",
       "on: the other 2 data replicas are shifts of the first node's 2 by whole nodes", 8},
      // 8-GPU model axis = one node: data groups are rails of their own, replicas alike.
      {"vit-l16", "h100-sxm", "4x8", "256", "", "on: 4 data replicas alike", 8},
      // TPU v5e: a 16x4 slice wraps on x only, and the replicas are shifts along x.
      {"vit-l16", "tpu-v5e", "16x4", "256", "", "on: the other 15 data replicas", 4},
      // An 8x8 v5e slice has no wrap-around, so no shifts, and with the model axis on half of x
      // the data rings cross its links: every chip is simulated.
      {"vit-l16", "tpu-v5e", "16x4", "256",
       R"({"torus_shape": [8, 8], "data": ["x:2", "y"], "model": ["x:4"]})", "off: data group", 64},
  };
  for (const auto& c : cases) {
    const ModelConfig model = load_model(c.model);
    const HardwareProfile hw = load_hardware(c.hardware);
    PlanFlags f;
    f.mesh = c.mesh;
    f.batch = c.batch;
    f.mapping = c.mapping;
    f.microbatches = c.microbatches;
    f.async = c.async;
    f.remat = c.model == "vit-22b" ? std::string("none") : std::string();
    const Plan plan = finalize_plan(apply_plan_flags(Plan{}, f), model, hw, 0);
    const auto fast = execution::simulate_step(model, hw, plan);
    INFO(c.model << " on " << c.hardware << " " << c.mesh << " async " << c.async << ": "
                 << fast.symmetry);
    CHECK(fast.symmetry.rfind(c.note, 0) == 0);
    const auto k = plan.mesh.model();
    CHECK(fast.simulated_chips * rotation_of(fast, k) == c.simulated);
    check_same(fast, testing::simulate_every_chip(model, hw, plan));
  }
}

TEST_CASE("leaf-group symmetry: a pipeline's stages each shift within their own leaf groups",
          "[execution][symmetry][leaf_group][pipeline]") {
  // Stage-major ranks put each stage on groups / p leaf groups (16 GPUs per group here): the
  // shifts turn each stage's groups alone, a replica's stages together.
  HardwareProfile hw = load_hardware("h100-sxm");
  hw.gpu.leaf_switch_ports = 2;
  const ModelConfig model = load_model("vit-l16");
  struct Case {
    std::string mesh, schedule, microbatches, fsdp;
    std::int64_t replicas;  // simulated: the first group of each stage's
  };
  const std::vector<Case> cases{
      {"data=8,pipeline=2,model=4", "1f1b", "4", "on", 4},
      {"data=16,pipeline=2,model=2", "gpipe", "2", "off", 8},
      {"data=16,pipeline=4,model=2", "interleaved", "4", "on", 8},
      {"data=4,pipeline=2,model=8", "1f1b", "4", "on", 2},
  };
  for (const auto& c : cases) {
    PlanFlags f;
    f.mesh = c.mesh;
    f.schedule = c.schedule;
    f.virtual_stages = c.schedule == "interleaved" ? "2" : "";
    f.microbatches = c.microbatches;
    f.fsdp = c.fsdp;
    f.batch = "64";
    const Plan plan = finalize_plan(apply_plan_flags(Plan{}, f), model, hw, 0);
    const auto [fast, full, without] = run_three_ways(model, hw, plan);
    INFO(c.mesh << " " << c.schedule << ": " << fast.symmetry);
    const auto w = plan.mesh.pipeline * plan.mesh.model();
    CHECK(fast.symmetry.find("by whole leaf groups") != std::string::npos);
    CHECK(fast.simulated_chips * rotation_of(fast, plan.mesh.model()) == c.replicas * w);
    CHECK(fast.events < without.events);
    check_same(fast, full);
    check_same(without, full);
    CHECK(fast.pipeline.bubble_s == full.pipeline.bubble_s);
  }
}

TEST_CASE("node shifts: the first node's replicas give the step of every GPU",
          "[execution][symmetry][node_shift]") {
  // On one leaf (32 nodes per leaf on H100) moving every GPU by one node, within each stage's
  // nodes, maps the routes the step takes onto routes: the first node's replicas stand for all.
  const HardwareProfile hw = load_hardware("h100-sxm");
  const ModelConfig model = load_model("vit-l16");
  struct Case {
    std::string mesh, schedule, async;
    std::int64_t kept;  // chips simulated before the model-axis rotation
  };
  const std::vector<Case> cases{
      {"16x4", "", "on", 8},
      {"32x2", "", "off", 8},
      {"data=8,pipeline=2,model=4", "1f1b", "on", 16},
      {"data=16,pipeline=4,model=2", "interleaved", "on", 32},
  };
  for (const auto& c : cases) {
    PlanFlags f;
    f.mesh = c.mesh;
    f.schedule = c.schedule;
    f.virtual_stages = c.schedule == "interleaved" ? "2" : "";
    f.microbatches = "4";
    f.async = c.async;
    f.batch = "128";
    const Plan plan = finalize_plan(apply_plan_flags(Plan{}, f), model, hw, 0);
    const auto [fast, full, without] = run_three_ways(model, hw, plan);
    INFO(c.mesh << ": " << fast.symmetry);
    CHECK(fast.symmetry.find("by whole nodes") != std::string::npos);
    CHECK(fast.simulated_chips * rotation_of(fast, plan.mesh.model()) == c.kept);
    CHECK(fast.events < without.events);
    check_same(fast, full);
    check_same(without, full);
    CHECK(fast.pipeline.bubble_s == full.pipeline.bubble_s);
  }
  // Over two leaves a data ring's hop from one leaf to the next is no shift of a hop inside a
  // leaf: node shifts are refused (the routes differ) and the leaf-group shifts apply.
  HardwareProfile small = hw;
  small.gpu.leaf_switch_ports = 2;
  const auto r =
      execution::simulate_step(model, small, testing::plan_of(model, small, "16x4", "64"));
  INFO(r.symmetry);
  CHECK(r.symmetry.find("shifts of the first leaf group's") != std::string::npos);
}
