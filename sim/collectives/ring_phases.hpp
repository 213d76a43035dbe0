#pragma once
// Ring-based collectives as a list of phases, each a set of rings running concurrently. The ring,
// bidirectional-ring, torus and hierarchical algorithms differ only in their phase lists; one
// builder turns phases into a Schedule and one function gives their closed-form time.
#include <cstdint>
#include <optional>
#include <utility>
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

// Steps of one ring pass over n members: n - 1, or 2 (n - 1) for an all-reduce.
int ring_steps(RingPass pass, int n);
// The shard ring position i forwards at `step` on the ring going `direction` (+1 or -1), modulo n:
// reduce-scatter i - step - 1, all-gather i - step (an all-reduce: its n - 1 reduce-scatter steps,
// then all-gather with position i holding shard i).
int ring_shard(RingPass pass, int n, int position, int step, int direction);
// The rings one ring of `phase` with n members runs, as (direction, bytes): one way with the whole
// ring buffer, or, bidirectional with more than 2 members, both ways with half each (the first
// half gets the odd byte).
std::vector<std::pair<int, std::int64_t>> ring_directions(const RingPhase& phase, int n);

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

// A ring-type collective as pipeline slices: the buffer is cut into slices.size() parts and slice s
// runs the phases of its part. Phase q of slice s starts at a member once that member has its
// results of phase q - 1 of slice s AND of phase q of slice s - 1: one slice at a time per phase
// and member, different phases on different slices at once, the way NCCL's chunks flow through
// the intra- and inter-node rings concurrently. One slice: the phases one after another.
struct RingPlan {
  std::vector<std::vector<RingPhase>> slices;
};

// Pipeline slices of a hierarchical collective with two or more phases: one per
// kHierarchicalSliceBytes of buffer, at least 1 and at most kMaxHierarchicalSlices, and no more
// than keep the sliced schedule within kMaxSlicedTransfers transfers (assumption,
// docs/fidelity.md: enough slices that the fill and drain of the pipeline cost little, few enough
// that the schedule stays small; a group too large to slice runs its phases one after another).
inline constexpr std::int64_t kHierarchicalSliceBytes = std::int64_t{4} << 20;
inline constexpr int kMaxHierarchicalSlices = 16;
inline constexpr std::int64_t kMaxSlicedTransfers = std::int64_t{1} << 16;

RingPlan plan_ring(RingAlgorithm algorithm, CollectiveOp op, const Group& group, std::int64_t bytes,
                   int chunks);

// The number of transfers build_ring_plan makes (computed without building them, so a caller can
// refuse a schedule too large to simulate; sim/limits.hpp).
std::uint64_t ring_plan_transfer_count(const RingPlan& plan);

Schedule build_ring_plan(const Group& group, const RingPlan& plan);

// Steps of one slice and the bytes one member puts on its busiest ring link over all slices.
CostHint ring_plan_hint(const RingPlan& plan);

// Closed form without contention, or nullopt when there are several slices (their phases share
// links), a phase's rings are not uniform (every ring edge the same hop latency and bottleneck
// bandwidth) or two of its edges share a link. Per phase, with steps s (n-1, or 2(n-1) for
// all-reduce), piece time c = w M / (n k B) (M halved when bidirectional, w the protocol's wire
// factor) and latency L (path latency plus the protocol's step latency):
//   T = max(s k c + L, s (c + L) + (k - 1) c);
// with k = 1 this is the textbook s (w M / (n B) + L). Phases add up. The protocol is the one the
// executor chooses (protocol.hpp); the per-call overhead is not included.
std::optional<double> ring_plan_closed_form_s(const network::Topology& topology, const Group& group,
                                              const RingPlan& plan);

}  // namespace meshsim::collectives
