// Pod shifts of a three-level fat-tree (docs/network.md "Three levels"): Topology::leaf_group_gpus
// gives one pod there, and execution's leaf-group shift symmetry then simulates the first pod's
// replicas for all. The step must equal the one of every GPU simulated.
#include <catch2/catch.hpp>
#include <cstdint>
#include <string>
#include <vector>

#include "hardware_profiles/hardware.hpp"
#include "models/model.hpp"
#include "sim/execution/step.hpp"
#include "sim/network/topology.hpp"
#include "sim/plan/plan.hpp"
#include "tests/sim/execution/same_step.hpp"

using namespace meshsim;

TEST_CASE("three-level fat-tree: the first pod's replicas give the step of every GPU",
          "[network][symmetry]") {
  // H100 figures on leaves of 2 node ports and pods of 4 nodes (32 GPUs): 64-128 GPUs are 2-4
  // pods joined by cores.
  HardwareProfile hw = load_hardware("h100-sxm");
  hw.gpu.leaf_switch_ports = 2;
  hw.gpu.pod_nodes = 4;
  const ModelConfig model = load_model("vit-b16");
  int shifted = 0;
  for (const std::string mesh : {"16x4", "32x2", "64x1", "32x4", "128x1"}) {
    INFO("mesh " << mesh);
    PlanFlags flags;
    flags.mesh = mesh;
    flags.batch = "256";
    const Plan plan = finalize_plan(apply_plan_flags(Plan{}, flags), model, hw, 0);
    const std::int64_t chips = plan.mesh.chips();
    const auto topology = network::make_topology(hw, chips);
    REQUIRE(topology.pods() == chips / 32);
    REQUIRE(topology.leaf_group_gpus() == 32);
    const auto fast = execution::simulate_step(model, hw, plan);
    const auto full = testing::simulate_every_chip(model, hw, plan);
    INFO("symmetry " << fast.symmetry);
    CHECK(full.simulated_chips == chips);
    if (fast.simulated_chips < chips)
      ++shifted;
    // On three levels the shift block is a pod, and the note says so.
    if (fast.symmetry.find("shifts of the first") != std::string::npos)
      CHECK(fast.symmetry.find("shifts of the first pod's") != std::string::npos);
    // Every field of the step agrees with the full run's (times exactly, sums over chips to the
    // last bits).
    testing::check_same(fast, full);
  }
  // The meshes whose model axis shares a node's NVSwitch with the data axis use pod shifts.
  CHECK(shifted >= 3);
}

TEST_CASE(
    "three-level fat-tree: pipeline stages inside pods shift by leaf groups within each "
    "stage",
    "[network][symmetry][pipeline]") {
  // Pods of 2 leaf groups (4 nodes, 32 GPUs). A stage that fills a pod turns its leaf groups
  // within the pod, which the routes check (a permutation of one pod's groups maps the tree onto
  // itself); the first group's replicas of each stage stand for all. The step equals the one of
  // every GPU simulated, and the note says which shifts applied.
  HardwareProfile hw = load_hardware("h100-sxm");
  hw.gpu.leaf_switch_ports = 2;
  hw.gpu.pod_nodes = 4;
  const ModelConfig model = load_model("vit-b16");
  struct Case {
    std::string mesh, schedule;
    bool groups;  // stages inside pods: leaf-group shifts
  };
  for (const auto& c : std::vector<Case>{{"data=8,pipeline=2,model=4", "1f1b", true},
                                         {"data=8,pipeline=4,model=4", "gpipe", true},
                                         {"data=16,pipeline=2,model=2", "interleaved", true},
                                         {"data=16,pipeline=2,model=4", "1f1b", false}}) {
    PlanFlags flags;
    flags.mesh = c.mesh;
    flags.batch = "64";
    flags.microbatches = "4";
    flags.schedule = c.schedule;
    if (c.schedule == "interleaved")
      flags.virtual_stages = "2";
    const Plan plan = finalize_plan(apply_plan_flags(Plan{}, flags), model, hw, 0);
    const std::int64_t chips = plan.mesh.chips();
    REQUIRE(network::make_topology(hw, chips).pods() >= 2);
    const auto fast = execution::simulate_step(model, hw, plan);
    const auto full = testing::simulate_every_chip(model, hw, plan);
    INFO(c.mesh << ": " << fast.symmetry);
    const bool by_groups =
        fast.symmetry.find("by whole leaf groups within each stage's groups") != std::string::npos;
    CHECK(by_groups == c.groups);
    if (c.groups)
      CHECK(fast.simulated_chips * 2 <= chips / plan.mesh.pipeline);
    testing::check_same(fast, full);
  }
}
