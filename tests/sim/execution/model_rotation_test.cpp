// Model-axis rotation (docs/execution.md "Model-axis rotation"): on a GPU cluster, each model
// group's chip at index 0 simulated alone, standing for its k chips, must give the step of every
// chip. Random plans and pipelines, compared field by field with every chip simulated and with the
// rotation off; and the cases where it must not apply, with the reason in the note.
#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "hardware_profiles/hardware.hpp"
#include "models/model.hpp"
#include "sim/execution/step.hpp"
#include "sim/plan/plan.hpp"
#include "sim/report/layer_timeline.hpp"
#include "tests/sim/execution/random_plan.hpp"
#include "tests/sim/execution/same_step.hpp"

using namespace meshsim;
using execution::StepResult;
using testing::check_same;

namespace {

bool rotated(const StepResult& r) {
  return r.symmetry.find("model-axis rotation:") != std::string::npos;
}

// The default, every chip, and without the rotation (model_rotation off).
testing::ThreeWays run_three_ways(const ModelConfig& model, const HardwareProfile& hw,
                                  const Plan& plan) {
  execution::StepOptions no_rotation;
  no_rotation.model_rotation = false;
  return testing::run_three_ways(model, hw, plan, no_rotation);
}

// A DATAxMODEL1xMODEL2 plan (`microbatches` "" for the default) turned along one model axis:
// the symmetry note names `turn` ("model-axis rotation (model1): ..."), `factor` times fewer chips
// run than without the rotation, fewer events, and every field is the same as with every chip
// simulated and with the rotation off.
void check_two_axis_turn(const ModelConfig& model, const HardwareProfile& hw,
                         const std::string& mesh, const std::string& async, const std::string& fsdp,
                         const std::string& batch, const std::string& microbatches,
                         const std::string& turn, std::int64_t factor) {
  PlanFlags f;
  f.mesh = mesh;
  f.batch = batch;
  f.microbatches = microbatches;
  f.async = async;
  f.fsdp = fsdp;
  const Plan plan = finalize_plan(apply_plan_flags(Plan{}, f), model, hw, 0);
  const auto [fast, full, unrotated] = run_three_ways(model, hw, plan);
  INFO(mesh << " async " << async << " fsdp " << fsdp << ": " << fast.symmetry);
  CHECK(fast.symmetry.find(turn) != std::string::npos);
  CHECK(fast.simulated_chips * factor == unrotated.simulated_chips);
  CHECK(fast.events < unrotated.events);
  check_same(fast, full);
  check_same(fast, unrotated);
}

}  // namespace

TEST_CASE("model-axis rotation: model index 0 alone gives the step of every GPU",
          "[execution][symmetry][rotation]") {
  // H100 on leaves of 2 node ports (16 GPUs per leaf group) so that the leaf-group shifts and the
  // rotation combine on 32-128 GPUs; A100 alone. Model axes of 2, 4 and 8 GPUs, inside a node.
  testing::PlanDraws draws(20261130, {"h100-sxm", "a100-sxm-80gb"}, 3, 4);
  int rotations = 0;
  for (int draw = 0; draw < 24; ++draw) {
    auto p = draws.next();
    if (p.k == 1)
      p = draws.next();
    p.flags.gradient_dtype = draws.pick({"bf16", "fp32"});
    INFO(testing::PlanDraws::describe(p));
    const ModelConfig model = load_model(p.model);
    HardwareProfile hw = load_hardware(p.hardware);
    if (p.hardware == "h100-sxm")
      hw.gpu.leaf_switch_ports = 2;
    const Plan plan = finalize_plan(apply_plan_flags(Plan{}, p.flags), model, hw, 0);
    const auto [fast, full, unrotated] = run_three_ways(model, hw, plan);
    INFO("symmetry " << fast.symmetry);
    CHECK(full.simulated_chips == p.chips);
    CHECK(!rotated(unrotated));
    if (rotated(fast)) {
      ++rotations;
      CHECK(fast.simulated_chips * p.k == unrotated.simulated_chips);
      CHECK(fast.events < unrotated.events);
    }
    check_same(fast, full);
    check_same(fast, unrotated);
  }
  CHECK(rotations >= 12);
}

TEST_CASE("model-axis rotation: pipelines, every schedule, equal every chip simulated",
          "[execution][symmetry][rotation][pipeline]") {
  const ModelConfig model = load_model("vit-l16");
  const HardwareProfile hw = load_hardware("h100-sxm");
  struct Case {
    std::string mesh, schedule, virtual_stages, async, fsdp;
  };
  const std::vector<Case> cases{
      {"data=2,pipeline=2,model=8", "1f1b", "", "on", "on"},
      {"data=4,pipeline=2,model=4", "gpipe", "", "off", "off"},
      {"data=2,pipeline=4,model=4", "interleaved", "2", "on", "on"},
      {"data=1,pipeline=4,model=2", "1f1b", "", "on", "off"},
  };
  for (const auto& c : cases) {
    PlanFlags f;
    f.mesh = c.mesh;
    f.schedule = c.schedule;
    f.virtual_stages = c.virtual_stages;
    f.microbatches = "4";
    f.batch = "64";
    f.async = c.async;
    f.fsdp = c.fsdp;
    const Plan plan = finalize_plan(apply_plan_flags(Plan{}, f), model, hw, 0);
    const auto [fast, full, unrotated] = run_three_ways(model, hw, plan);
    INFO(c.mesh << " " << c.schedule << ": " << fast.symmetry);
    CHECK(rotated(fast));
    check_same(fast, full);
    check_same(fast, unrotated);
    CHECK(fast.pipeline.bubble_s == full.pipeline.bubble_s);
    CHECK(fast.pipeline.send_bytes_per_chip == Approx(full.pipeline.send_bytes_per_chip));
    REQUIRE(fast.pipeline.per_stage.size() == full.pipeline.per_stage.size());
    for (std::size_t s = 0; s < full.pipeline.per_stage.size(); ++s)
      CHECK(fast.pipeline.per_stage[s].compute_s == full.pipeline.per_stage[s].compute_s);
  }
}

TEST_CASE("model-axis rotation: where it does not apply, and why",
          "[execution][symmetry][rotation]") {
  const ModelConfig model = load_model("vit-l16");
  const HardwareProfile hw = load_hardware("h100-sxm");
  auto plan_of = [&](const std::string& mesh) { return testing::plan_of(model, hw, mesh, "64"); };
  // A model axis of 16 GPUs spans two nodes: turning it by one position carries an NVSwitch hop
  // onto a route between nodes, so it turns by a node's 8 GPUs, and the first 8 stand for 16.
  {
    const auto plan = plan_of("2x16");
    const auto r = execution::simulate_step(model, hw, plan);
    INFO(r.symmetry);
    CHECK(r.symmetry.find("model-axis rotation by 8 positions: each model group's first 8 chips "
                          "stand for its 16") != std::string::npos);
    CHECK(r.simulated_chips == 16);
    check_same(r, testing::simulate_every_chip(model, hw, plan));
  }
  // A trace of several chips needs every traced chip simulated.
  {
    execution::TraceOptions trace;
    trace.enabled = true;
    trace.chips = 8;
    const auto r = execution::simulate_step(model, hw, plan_of("4x4"), trace);
    INFO(r.symmetry);
    CHECK(r.symmetry.find("model-axis rotation off: a trace of 8 chips") != std::string::npos);
    CHECK(r.simulated_chips == 16);
  }
  // TPU tori are reduced by their own shifts; a model axis of 1 has nothing to turn.
  for (const auto& [hardware, mesh] :
       std::vector<std::pair<std::string, std::string>>{{"tpu-v4", "16x4"}, {"h100-sxm", "16x1"}}) {
    const HardwareProfile profile = load_hardware(hardware);
    const auto r =
        execution::simulate_step(model, profile, testing::plan_of(model, profile, mesh, "64"));
    INFO(hardware << " " << mesh << ": " << r.symmetry);
    CHECK(r.symmetry.find("model-axis rotation") == std::string::npos);
  }
}

TEST_CASE("model-axis rotation: by a divisor of k, with and without pipelines",
          "[execution][symmetry][rotation]") {
  // Model axes of 16 GPUs over two nodes turn by 8; the traced first chip keeps its layer
  // timeline (receives from chips that do not run recorded on the chip that stands for them).
  const ModelConfig model = load_model("vit-l16");
  const HardwareProfile hw = load_hardware("h100-sxm");
  for (const std::string mesh : {"4x16", "data=2,pipeline=2,model=16"}) {
    PlanFlags f;
    f.mesh = mesh;
    f.batch = "64";
    f.microbatches = "2";
    f.schedule = mesh.find("pipeline") != std::string::npos ? "1f1b" : "";
    const Plan plan = finalize_plan(apply_plan_flags(Plan{}, f), model, hw, 0);
    const auto [fast, full, unrotated] = run_three_ways(model, hw, plan);
    INFO(mesh << ": " << fast.symmetry);
    CHECK(fast.symmetry.find("rotation by 8 positions") != std::string::npos);
    CHECK(fast.simulated_chips * 2 == unrotated.simulated_chips);
    check_same(fast, full);
    check_same(fast, unrotated);
    // The first chip's layer timeline, traced, is the full trace's.
    const auto traced = execution::simulate_step(model, hw, plan, report::layer_timeline_trace());
    const auto every =
        testing::simulate_every_chip(model, hw, plan, report::layer_timeline_trace());
    CHECK(traced.symmetry == fast.symmetry);
    CHECK(report::layer_timeline_json(traced) == report::layer_timeline_json(every));
  }
}

TEST_CASE("model-axis rotation: two model axes turn along model1",
          "[execution][symmetry][rotation]") {
  // 2-D weight sharding on H100 (2-node leaf groups, so that leaf-group shifts combine with the
  // turn): model1 groups turn by the least divisor of k1 that works, model2 groups that do not
  // run are turns of those that do. Compared field by field with every chip simulated and with
  // the rotation off.
  const ModelConfig model = load_model("vit-l16");
  HardwareProfile hw = load_hardware("h100-sxm");
  hw.gpu.leaf_switch_ports = 2;
  struct Case {
    std::string mesh, async, fsdp;
    std::int64_t k1;
  };
  for (const auto& c : std::vector<Case>{{"4x4x2", "on", "on", 4},
                                         {"2x2x4", "off", "on", 2},
                                         {"4x2x2", "on", "off", 2},
                                         {"2x8x2", "off", "off", 8},
                                         {"2x4x4", "on", "on", 4}})
    check_two_axis_turn(model, hw, c.mesh, c.async, c.fsdp, "64", "",
                        "model-axis rotation (model1): each model1 group's chip at index 0 "
                        "stands for its " +
                            std::to_string(c.k1),
                        c.k1);
}

TEST_CASE("model-axis rotation: a decoder with two model axes turns along model2",
          "[execution][symmetry][rotation]") {
  // A decoder's LM head runs collectives over the whole model group, which a turn of model1 does
  // not carry onto itself (its ring, in index order m1 + k1 m2, would lose its order), but a turn
  // of model2 does: every position moves k1 on. Model2 groups turn, model1 groups that do not
  // run are turns of those that do, and the whole group's collectives run as the running
  // members' transfers. Compared field by field with every chip simulated and with the rotation
  // off; FSDP on and off, sync and async.
  ModelConfig decoder = load_model("lm-22b");
  decoder.depth = 4;
  HardwareProfile hw = load_hardware("h100-sxm");
  hw.gpu.leaf_switch_ports = 2;
  struct Case {
    std::string mesh, async, fsdp;
    std::int64_t k2;
  };
  for (const auto& c : std::vector<Case>{{"2x4x2", "off", "on", 2},
                                         {"4x2x2", "on", "off", 2},
                                         {"2x2x4", "off", "off", 4},
                                         {"2x2x2", "on", "on", 2}})
    check_two_axis_turn(decoder, hw, c.mesh, c.async, c.fsdp, "8", "2",
                        "model-axis rotation (model2): each model2 group's chip at index 0 "
                        "stands for its " +
                            std::to_string(c.k2),
                        c.k2);
  // Model2 across nodes (k1 = 8 fills a node, model2 = 4 nodes): it turns node by node. With a
  // model2 of 4 GPUs in two nodes (2 per node) its ring is a snake over {2, 2} and the whole
  // group's ring, in index order, is not turned onto itself: off, saying why.
  ModelConfig llama = load_model("llama3-8b");
  llama.depth = 4;
  const HardwareProfile h100 = load_hardware("h100-sxm");
  {
    const Plan plan = testing::plan_of(llama, h100, "2x8x4", "16");
    const auto [fast, full, unrotated] = run_three_ways(llama, h100, plan);
    INFO(fast.symmetry);
    CHECK(fast.symmetry.find("model-axis rotation (model2): each model2 group's chip at index 0 "
                             "stands for its 4, 16 of 64 chips simulated") != std::string::npos);
    check_same(fast, full);
    check_same(fast, unrotated);
  }
  {
    const Plan plan = testing::plan_of(llama, h100, "4x4x4", "16");
    const auto r = execution::simulate_step(llama, h100, plan);
    INFO(r.symmetry);
    CHECK(r.symmetry.find("model-axis rotation off: the LM head's collectives run over both "
                          "model axes; along model2: ") != std::string::npos);
    check_same(r, testing::simulate_every_chip(llama, h100, plan));
  }
}
