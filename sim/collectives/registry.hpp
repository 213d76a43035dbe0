#pragma once
// Collective algorithms by name: one explicit table in registry.cpp (STYLE.md, after Ramulator 2).
// A new algorithm is one new file plus one line there.
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "sim/collectives/ring_symmetry.hpp"
#include "sim/collectives/schedule.hpp"
#include "sim/network/topology.hpp"

namespace meshsim::collectives {

struct CollectiveAlgorithm {
  std::string_view name;
  std::string_view summary;
  bool all_gather, reduce_scatter, all_reduce, all_to_all;  // which ops it implements
  // The schedule for `op` on `group`, `bytes` the full buffer per chip, `chunks` the pipelining
  // request (see docs/collectives.md).
  Schedule (*build)(CollectiveOp op, const Group& group, std::int64_t bytes, int chunks);
  // Closed-form time without contention on `topology`, or nullopt; nullptr when there is none.
  std::optional<double> (*closed_form_s)(CollectiveOp op, const Group& group,
                                         const network::Topology& topology, std::int64_t bytes,
                                         int chunks);
  // The number of transfers `build` would make, computed without building them (sim/limits.hpp).
  std::uint64_t (*transfer_count)(CollectiveOp op, const Group& group, std::int64_t bytes,
                                  int chunks);
  // Ring-type algorithms: the ring plan `build` turns into a schedule (ring_phases.hpp), for
  // callers that reduce it by a symmetry (reduce_by_rotation below, ring_reduced.hpp). nullptr:
  // none.
  RingPlan (*ring_plan)(CollectiveOp op, const Group& group, std::int64_t bytes,
                        int chunks) = nullptr;
  bool supports(CollectiveOp op) const;
};

std::span<const CollectiveAlgorithm> collective_algorithms();
// A ring-type algorithm's schedule reduced by rotation symmetry (ring_symmetry.hpp), built
// directly from its ring plan: "" and `out`, or why not (then `build` is the way).
std::string reduce_by_rotation(const CollectiveAlgorithm& algorithm, CollectiveOp op,
                               const Group& group, const network::Topology& topology,
                               std::int64_t bytes, int chunks, ReducedRing& out);
// Throws InputError (site "--algorithm") listing the algorithms that implement `op`.
const CollectiveAlgorithm& find_collective_algorithm(std::string_view name, CollectiveOp op);
// The algorithm a user gets without --algorithm: all-to-all "direct"; otherwise "torus" on a torus,
// "nvls" for an all-reduce inside one NVSwitch node of at least the profile's nvls_min_gpus GPUs
// (nvls.hpp), "hierarchical" on a GPU group spanning nodes, else "ring".
std::string_view default_collective_algorithm(CollectiveOp op, const network::Topology& topology,
                                              const Group& group);
// The same for a call of `bytes`: where NVLS applies, NVLS or ring, whichever closed form is less
// (as NCCL's tuner picks ring/LL for small all-reduces and NVLS for large ones).
std::string_view default_collective_algorithm(CollectiveOp op, const network::Topology& topology,
                                              const Group& group, std::int64_t bytes);

}  // namespace meshsim::collectives
