#include "sim/collectives/ring_symmetry.hpp"

#include <catch2/catch.hpp>
#include <cstdint>
#include <numeric>
#include <random>
#include <string>
#include <vector>

#include "hardware_profiles/hardware.hpp"
#include "sim/collectives/executor.hpp"
#include "sim/collectives/registry.hpp"

using namespace meshsim::collectives;
using meshsim::network::Topology;

namespace {

Group whole(const Topology& topology) {
  Group group;
  group.chips.resize(static_cast<std::size_t>(topology.chip_count()));
  std::iota(group.chips.begin(), group.chips.end(), 0);
  group.shape = topology.shape();
  return group;
}

// Runs the collective in full and reduced (when it reduces) and compares every result field.
// Returns whether it reduced.
bool check_reduced_equals_full(const Topology& topology, const std::string& algorithm,
                               CollectiveOp op, std::int64_t bytes, int chunks) {
  const auto group = whole(topology);
  const auto& a = find_collective_algorithm(algorithm, op);
  REQUIRE(a.ring_plan != nullptr);
  ReducedRing reduced;
  const auto why = reduce_by_rotation(a, op, group, topology, bytes, chunks, reduced);
  const auto full = run_collective(topology, a.build(op, group, bytes, chunks));
  CAPTURE(topology.description(), algorithm, to_string(op), bytes, chunks, why);
  if (!why.empty())
    return false;
  CHECK(reduced.copies * reduced.period == group.size());
  CHECK(reduced.schedule.size() * static_cast<std::size_t>(reduced.copies) ==
        a.transfer_count(op, group, bytes, chunks));
  const auto small =
      run_collective(topology, reduced.schedule, CallOverhead::Excluded, reduced.copies);
  CHECK(small.time_s == full.time_s);
  CHECK(small.bytes_sent == full.bytes_sent);
  CHECK(small.bytes_delivered == full.bytes_delivered);
  CHECK(small.bytes_per_link_class == full.bytes_per_link_class);
  CHECK(small.max_link_bytes == full.max_link_bytes);
  CHECK(small.transfers == full.transfers);
  CHECK(small.min_slack_ps == full.min_slack_ps);
  CHECK(small.protocol.name == full.protocol.name);
  CHECK(small.protocol.wire_factor == full.protocol.wire_factor);
  // Fewer events: one per simulated transfer.
  CHECK(small.events * static_cast<std::uint64_t>(reduced.copies) == full.events);
  // Bytes conserved: every byte sent is delivered.
  CHECK(small.bytes_delivered == small.bytes_sent);
  return true;
}

}  // namespace

TEST_CASE("ring rotation symmetry: reduced and full runs agree field by field on random cases",
          "[collectives][ring_symmetry]") {
  const auto h100 = meshsim::load_hardware("h100-sxm");
  const auto v4 = meshsim::load_hardware("tpu-v4");
  const auto v5e = meshsim::load_hardware("tpu-v5e");
  std::mt19937_64 rng(15);
  const std::vector<std::string> algorithms{"ring", "bidirectional-ring", "torus", "hierarchical"};
  const std::vector<CollectiveOp> ops{CollectiveOp::AllGather, CollectiveOp::ReduceScatter,
                                      CollectiveOp::AllReduce};
  int reduced = 0, cases = 0;
  for (int trial = 0; trial < 60; ++trial) {
    const int kind = static_cast<int>(rng() % 3);
    const auto& profile = kind == 0 ? h100 : kind == 1 ? v4 : v5e;
    const std::vector<int> sizes = kind == 0 ? std::vector<int>{2, 4, 8, 16, 32, 64, 512}
                                             : std::vector<int>{4, 8, 16, 32, 64, 128};
    const int chips = sizes[rng() % sizes.size()];
    const auto topology = meshsim::network::make_topology(profile, chips);
    const auto& algorithm = algorithms[rng() % algorithms.size()];
    const auto op = ops[rng() % ops.size()];
    // Often a multiple of every piece count (equal pieces), sometimes not (no reduction).
    const std::int64_t bytes = rng() % 4 == 0 ? static_cast<std::int64_t>(rng() % 100000 + 1)
                                              : (std::int64_t{1} << (10 + rng() % 16)) * 3;
    const int chunks = std::vector<int>{1, 2, 4, 64}[rng() % 4];
    ++cases;
    if (check_reduced_equals_full(topology, algorithm, op, bytes, chunks))
      ++reduced;
  }
  // The comparison is not vacuous: most cases reduce.
  CHECK(cases == 60);
  CHECK(reduced >= 20);
}

TEST_CASE("ring rotation symmetry: a ring of uniform ICI links reduces to one member",
          "[collectives][ring_symmetry]") {
  // 1-D ring of 64: every edge one ICI hop of its own; rotation by one position maps it onto
  // itself.
  const auto ring = meshsim::network::make_ring(64, 4.5e10, 1e-6);
  const auto group = whole(ring);
  ReducedRing reduced;
  const auto plan =
      plan_ring(RingAlgorithm::Ring, CollectiveOp::AllReduce, group, std::int64_t{1} << 30, 1);
  REQUIRE(reduce_ring_plan(ring, group, plan, reduced).empty());
  CHECK(reduced.period == 1);
  CHECK(reduced.copies == 64);
  CHECK(reduced.schedule.size() == 2 * 63);  // 2 (p-1) steps of one member
  CHECK(check_reduced_equals_full(ring, "ring", CollectiveOp::AllReduce, std::int64_t{1} << 30, 1));
}

TEST_CASE("ring rotation symmetry: refused preconditions say why", "[collectives][ring_symmetry]") {
  const auto ring = meshsim::network::make_ring(8, 4.5e10, 1e-6);
  const auto group = whole(ring);
  ReducedRing reduced;
  // Pieces of unequal size: 1001 bytes over 8 shards.
  CHECK(reduce_ring_plan(ring, group,
                         plan_ring(RingAlgorithm::Ring, CollectiveOp::AllGather, group, 1001, 1),
                         reduced) == "the pieces differ in size");
  // NVSwitch: a bidirectional ring's two edges out of a GPU share its port.
  const auto node = meshsim::network::make_topology(meshsim::load_hardware("h100-sxm"), 8);
  const auto gpus = whole(node);
  CHECK(reduce_ring_plan(node, gpus,
                         plan_ring(RingAlgorithm::BidirectionalRing, CollectiveOp::AllGather, gpus,
                                   std::int64_t{1} << 20, 1),
                         reduced) == "two ring edges share a link");
  // Several phases (torus on a 2-D slice) are not a single ring.
  const auto torus = meshsim::network::make_torus({4, 4}, {true, true}, 4.5e10, 1e-6);
  CHECK(reduce_ring_plan(torus, whole(torus),
                         plan_ring(RingAlgorithm::Torus, CollectiveOp::AllReduce, whole(torus),
                                   std::int64_t{1} << 20, 1),
                         reduced) == "more than one phase");
}
