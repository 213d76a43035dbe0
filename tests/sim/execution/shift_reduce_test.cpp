// Reduced data-axis schedules built directly (collectives::build_ring_plan_reduced, issue 15)
// against the full schedule reduced transfer by transfer (execution::reduce_schedule): wherever
// the direct builder accepts the shifts, both must be the same schedule, transfer for transfer
// and dependency for dependency, on leaf-group shifts of GPU clusters and torus shifts of TPU
// slices, for every ring-type op and for buffers that do and do not split into equal pieces.
#include <algorithm>
#include <catch2/catch.hpp>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "hardware_profiles/hardware.hpp"
#include "models/model.hpp"
#include "sim/collectives/registry.hpp"
#include "sim/collectives/ring_reduced.hpp"
#include "sim/execution/placement.hpp"
#include "sim/execution/symmetry.hpp"
#include "sim/plan/plan.hpp"

using namespace meshsim;
using collectives::CollectiveOp;

namespace {

struct Tally {
  int direct = 0, refused = 0;
};

// Every data group's collectives on `mesh`, both ways.
void compare_data_groups(const HardwareProfile& hw, const std::string& mesh, bool leaf_groups,
                         Tally& tally) {
  const ModelConfig model = load_model("vit-l16");
  PlanFlags f;
  f.mesh = mesh;
  f.batch = "256";
  const Plan plan = finalize_plan(apply_plan_flags(Plan{}, f), model, hw, 0);
  const auto topology = execution::build_topology(hw, plan);
  const auto placement = execution::place(plan, topology);
  execution::TranslationSymmetry sym;
  std::int64_t per_group = 1;
  const auto why = leaf_groups ? execution::leaf_group_symmetry(topology, placement, sym, per_group)
                               : execution::translation_symmetry(topology, placement, sym);
  INFO(mesh << " on " << hw.name << ": " << why);
  REQUIRE(why.empty());
  for (std::int64_t j = 0; j < placement.model; ++j) {
    const auto group = placement.data_group(j);
    collectives::MemberShifts shifts;
    REQUIRE(execution::shift_members(group, sym, shifts).empty());
    for (auto op :
         {CollectiveOp::AllGather, CollectiveOp::ReduceScatter, CollectiveOp::AllReduce}) {
      // 3 * 2^20 splits into equal pieces for these groups; a prime does not.
      for (std::int64_t bytes : {std::int64_t{3} << 20, std::int64_t{1000003}}) {
        const auto name = collectives::default_collective_algorithm(op, topology, group, bytes);
        const auto& algorithm = collectives::find_collective_algorithm(name, op);
        if (algorithm.ring_plan == nullptr)
          continue;
        const auto ring_plan = algorithm.ring_plan(op, group, bytes, 1);
        INFO(collectives::to_string(op) << " " << bytes << " B by " << name << ", group " << j);
        // The ring edges are the full schedule's distinct (source, destination) pairs.
        {
          std::vector<std::pair<std::int32_t, std::int32_t>> pairs;
          for (const auto& tr : collectives::build_ring_plan(group, ring_plan).transfers)
            pairs.emplace_back(tr.src_chip, tr.dst_chip);
          std::sort(pairs.begin(), pairs.end());
          pairs.erase(std::unique(pairs.begin(), pairs.end()), pairs.end());
          CHECK(collectives::ring_plan_pairs(group, ring_plan) == pairs);
        }
        collectives::Schedule direct, derived;
        const auto direct_why =
            collectives::build_ring_plan_reduced(group, ring_plan, shifts, direct);
        const auto derived_why = execution::reduce_schedule(
            collectives::build_ring_plan(group, ring_plan), sym, derived);
        if (!direct_why.empty()) {
          ++tally.refused;
          continue;
        }
        ++tally.direct;
        REQUIRE(derived_why.empty());
        REQUIRE(direct.size() == derived.size());
        CHECK(direct.size() < collectives::ring_plan_transfer_count(ring_plan));
        bool same = direct.deps == derived.deps && direct.dep_offsets == derived.dep_offsets;
        for (std::size_t i = 0; same && i < direct.size(); ++i) {
          const auto &a = direct.transfers[i], &b = derived.transfers[i];
          same = a.src_chip == b.src_chip && a.dst_chip == b.dst_chip && a.bytes == b.bytes;
        }
        CHECK(same);
        CHECK(direct.hint.steps == derived.hint.steps);
        CHECK(direct.hint.member_bytes == derived.hint.member_bytes);
      }
    }
  }
}

}  // namespace

TEST_CASE("shift-reduced ring schedules built directly equal the full ones reduced",
          "[execution][symmetry][shift_reduce]") {
  Tally tally;
  // H100 with leaves of 2 node ports: 16 GPUs per leaf group, 2-8 groups.
  HardwareProfile gpu = load_hardware("h100-sxm");
  gpu.gpu.leaf_switch_ports = 2;
  for (const std::string mesh : {"8x4", "16x2", "32x1", "16x4", "32x4", "8x8", "16x8", "64x2"})
    compare_data_groups(gpu, mesh, true, tally);
  // TPU v4 slices: replicas are torus shifts of replica 0.
  const HardwareProfile tpu = load_hardware("tpu-v4");
  for (const std::string mesh : {"16x4", "32x2", "8x8", "64x1"})
    compare_data_groups(tpu, mesh, false, tally);
  // Both kinds of machine and every op were built directly; the prime-sized buffers rotated
  // between ring positions are refused (their pieces differ in size).
  CHECK(tally.direct >= 60);
  CHECK(tally.refused > 0);
}

TEST_CASE("shift-reduced ring schedules: maps that are no symmetry are refused",
          "[execution][symmetry][shift_reduce]") {
  collectives::Group group = collectives::make_group({0, 1, 2, 3, 4, 5, 6, 7});
  const auto plan = collectives::plan_ring(collectives::RingAlgorithm::Ring,
                                           CollectiveOp::AllGather, group, 8 << 10, 1);
  collectives::Schedule out;
  // A rotation by two positions: members 2..7 stand in for 0..5 (period 2).
  collectives::MemberShifts rotation{{0, 1, 0, 1, 0, 1, 0, 1}, {{6, 7, 0, 1, 2, 3, 4, 5}}};
  CHECK(collectives::build_ring_plan_reduced(group, plan, rotation, out).empty());
  CHECK(out.size() == 2u * 7u);  // 2 kept positions x 7 steps
  // A reflection keeps no ring order.
  collectives::MemberShifts reflection{{0, 1, 2, 3, 3, 2, 1, 0}, {{7, 6, 5, 4, 3, 2, 1, 0}}};
  CHECK(collectives::build_ring_plan_reduced(group, plan, reflection, out) ==
        "a shift does not keep a ring's order");
  // Representatives that are not their own.
  collectives::MemberShifts chained{{1, 2, 2, 3, 4, 5, 6, 7}, {}};
  CHECK(collectives::build_ring_plan_reduced(group, plan, chained, out) ==
        "the member map is not a choice of representatives");
}
