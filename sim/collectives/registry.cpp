#include "sim/collectives/registry.hpp"

#include <array>
#include <string>

#include "common/error.hpp"
#include "sim/collectives/all_to_all.hpp"
#include "sim/collectives/nvls.hpp"
#include "sim/collectives/ring_phases.hpp"

namespace meshsim::collectives {
namespace {

template <RingAlgorithm A>
Schedule build_ring_type(CollectiveOp op, const Group& group, std::int64_t bytes, int chunks) {
  return build_ring_plan(group, plan_ring(A, op, group, bytes, chunks));
}
template <RingAlgorithm A>
std::optional<double> closed_form_ring_type(CollectiveOp op, const Group& group,
                                            const network::Topology& topology, std::int64_t bytes,
                                            int chunks) {
  return ring_plan_closed_form_s(topology, group, plan_ring(A, op, group, bytes, chunks));
}
template <RingAlgorithm A>
std::uint64_t count_ring_type(CollectiveOp op, const Group& group, std::int64_t bytes, int chunks) {
  return ring_plan_transfer_count(plan_ring(A, op, group, bytes, chunks));
}
template <RingAlgorithm A>
RingPlan plan_ring_type(CollectiveOp op, const Group& group, std::int64_t bytes, int chunks) {
  return plan_ring(A, op, group, bytes, chunks);
}
std::uint64_t count_all_to_all(CollectiveOp, const Group& group, std::int64_t, int chunks) {
  return all_to_all_transfer_count(group, chunks);
}
Schedule build_direct(CollectiveOp, const Group& group, std::int64_t bytes, int chunks) {
  return all_to_all_direct(group, bytes, chunks);
}
Schedule build_nvls(CollectiveOp, const Group& group, std::int64_t bytes, int chunks) {
  return nvls_all_reduce(group, bytes, chunks);
}
std::optional<double> closed_form_nvls(CollectiveOp, const Group& group,
                                       const network::Topology& topology, std::int64_t bytes,
                                       int chunks) {
  return nvls_closed_form_s(topology, group, bytes, chunks);
}
std::uint64_t count_nvls(CollectiveOp, const Group& group, std::int64_t, int chunks) {
  return nvls_transfer_count(group, chunks);
}
Schedule build_pairwise(CollectiveOp, const Group& group, std::int64_t bytes, int chunks) {
  return all_to_all_pairwise(group, bytes, chunks);
}

// The table. Columns: name, summary, AG, RS, AR, A2A, schedule builder, closed form, transfer
// count, ring plan.
constexpr std::array kAlgorithms = {
    CollectiveAlgorithm{"ring", "one unidirectional ring over the group (snake order)", true, true,
                        true, false, build_ring_type<RingAlgorithm::Ring>,
                        closed_form_ring_type<RingAlgorithm::Ring>,
                        count_ring_type<RingAlgorithm::Ring>, plan_ring_type<RingAlgorithm::Ring>},
    CollectiveAlgorithm{"bidirectional-ring", "two rings, one each way, half the bytes each", true,
                        true, true, false, build_ring_type<RingAlgorithm::BidirectionalRing>,
                        closed_form_ring_type<RingAlgorithm::BidirectionalRing>,
                        count_ring_type<RingAlgorithm::BidirectionalRing>,
                        plan_ring_type<RingAlgorithm::BidirectionalRing>},
    CollectiveAlgorithm{
        "torus", "one bidirectional ring per mesh dimension, dimension by dimension", true, true,
        true, false, build_ring_type<RingAlgorithm::Torus>,
        closed_form_ring_type<RingAlgorithm::Torus>, count_ring_type<RingAlgorithm::Torus>,
        plan_ring_type<RingAlgorithm::Torus>},
    CollectiveAlgorithm{
        "hierarchical", "rings inside the node (dimension 0), then across nodes, then inside again",
        true, true, true, false, build_ring_type<RingAlgorithm::Hierarchical>,
        closed_form_ring_type<RingAlgorithm::Hierarchical>,
        count_ring_type<RingAlgorithm::Hierarchical>, plan_ring_type<RingAlgorithm::Hierarchical>},
    CollectiveAlgorithm{"nvls",
                        "NVLink SHARP inside one NVSwitch node: each GPU sends its buffer to the "
                        "switch once and receives the sum once",
                        false, false, true, false, build_nvls, closed_form_nvls, count_nvls},
    CollectiveAlgorithm{"direct", "every block sent at once", false, false, false, true,
                        build_direct, nullptr, count_all_to_all},
    CollectiveAlgorithm{"pairwise", "p-1 rounds, member i sends to i+s in round s", false, false,
                        false, true, build_pairwise, nullptr, count_all_to_all},
};

}  // namespace

bool CollectiveAlgorithm::supports(CollectiveOp op) const {
  switch (op) {
    case CollectiveOp::AllGather:
      return all_gather;
    case CollectiveOp::ReduceScatter:
      return reduce_scatter;
    case CollectiveOp::AllReduce:
      return all_reduce;
    case CollectiveOp::AllToAll:
      return all_to_all;
  }
  return false;
}

std::string reduce_by_rotation(const CollectiveAlgorithm& algorithm, CollectiveOp op,
                               const Group& group, const network::Topology& topology,
                               std::int64_t bytes, int chunks, ReducedRing& out) {
  if (algorithm.ring_plan == nullptr)
    return "not a ring-type algorithm";
  return reduce_ring_plan(topology, group, algorithm.ring_plan(op, group, bytes, chunks), out);
}

std::span<const CollectiveAlgorithm> collective_algorithms() {
  return kAlgorithms;
}

const CollectiveAlgorithm& find_collective_algorithm(std::string_view name, CollectiveOp op) {
  std::string allowed;
  for (const auto& algorithm : kAlgorithms) {
    if (!algorithm.supports(op)) {
      continue;
    }
    if (algorithm.name == name) {
      return algorithm;
    }
    if (!allowed.empty()) {
      allowed += ", ";
    }
    allowed += algorithm.name;
  }
  throw InputError({"--algorithm", "", "algorithm"},
                   std::string("unknown algorithm for ") + to_string(op), std::string(name),
                   allowed);
}

std::string_view default_collective_algorithm(CollectiveOp op, const network::Topology& topology,
                                              const Group& group) {
  if (op == CollectiveOp::AllToAll) {
    return "direct";
  }
  if (topology.kind() == network::TopologyKind::Torus) {
    return "torus";
  }
  if (op == CollectiveOp::AllReduce && nvls_applies(topology, group)) {
    return "nvls";
  }
  return group.shape.size() > 1 ? "hierarchical" : "ring";
}

std::string_view default_collective_algorithm(CollectiveOp op, const network::Topology& topology,
                                              const Group& group, std::int64_t bytes) {
  const auto name = default_collective_algorithm(op, topology, group);
  if (name != "nvls") {
    return name;
  }
  // NCCL's tuner: ring (with its best protocol) or NVLS, whichever is predicted faster.
  const auto nvls = nvls_closed_form_s(topology, group, bytes, 1);
  const auto ring =
      find_collective_algorithm("ring", op).closed_form_s(op, group, topology, bytes, 1);
  return ring && nvls && *ring < *nvls ? "ring" : "nvls";
}

}  // namespace meshsim::collectives
