#pragma once
// Ring-based collectives as a list of phases, each a set of rings running concurrently. The ring,
// bidirectional-ring, torus and hierarchical algorithms differ only in their phase lists; one
// builder turns phases into a Schedule and one function gives their closed-form time.
#include <cstdint>
#include <optional>
#include <vector>

#include "sim/collectives/schedule.hpp"
#include "sim/network/topology.hpp"

namespace meshsim::collectives {

enum class RingPass { ReduceScatter, AllGather, AllReduce };

struct RingPhase {
  std::vector<std::vector<int>> rings;  // each ring: group member indices in ring order
  RingPass pass = RingPass::AllGather;
  bool bidirectional = false;  // half the bytes each way (only when the ring has > 2 members)
  std::int64_t ring_buffer_bytes = 0;  // M: the full (gathered / reduced) buffer of one ring
  int pieces_per_shard = 1;            // k: each of the n shards of M goes as k pipelined pieces
};

// Ring order over a mesh shape (dimension 0 fastest): the boustrophedon (reflected mixed-radix Gray
// code) walk, so consecutive members are neighbours in the mesh; with an even last dimension the
// walk ends next to its start.
std::vector<int> snake_order(const std::vector<int>& shape);

// Pieces per shard for a ring of n members when the buffer should be cut into at least `chunks`
// pieces: ceil(chunks / n), at least 1 (docs/collectives: a ring already cuts it into n shards).
int pieces_per_shard(int chunks, int ring_size);

enum class RingAlgorithm { Ring, BidirectionalRing, Torus, Hierarchical };
// The phases of a ring-type algorithm for op (not all-to-all) on `group` with `bytes` the full
// buffer per chip.
std::vector<RingPhase> plan_ring_phases(RingAlgorithm algorithm, CollectiveOp op,
                                        const Group& group, std::int64_t bytes, int chunks);

// The number of transfers build_ring_phases makes from `phases` (computed without building them,
// so a caller can refuse a schedule too large to simulate; sim/limits.hpp).
std::uint64_t ring_phases_transfer_count(const std::vector<RingPhase>& phases);

// Appends the phases' transfers; phase q+1 at a member waits for all that member's last receives of
// phase q (a barrier per member, not per piece).
Schedule build_ring_phases(const Group& group, const std::vector<RingPhase>& phases);

// Closed form without contention, or nullopt when a phase's rings are not uniform (every ring edge
// the same hop latency and bottleneck bandwidth) or two of its edges share a link. Per phase, with
// steps s (n-1, or 2(n-1) for all-reduce), piece time c = M / (n k B) (M halved when bidirectional)
// and path latency L:  T = max(s k c + L, s (c + L) + (k - 1) c); with k = 1 this is the textbook
// s (M / (n B) + L). Phases add up.
std::optional<double> ring_phases_closed_form_s(const network::Topology& topology,
                                                const Group& group,
                                                const std::vector<RingPhase>& phases);

}  // namespace meshsim::collectives
