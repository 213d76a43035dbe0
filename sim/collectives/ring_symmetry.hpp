#pragma once
// Rotation symmetry of a ring collective (issue 15 "fewer events, same answer"). A ring whose
// edges run on links nothing else uses, whose pieces all carry the same bytes, and whose edges
// repeat with a period P (edge i and edge i + P cross the same sequence of hops: bandwidth,
// latency, link class) runs alike at positions i and i + P: each transfer of position i + P is
// issued and arrives when position i's does, on links of its own. Simulating positions 0..P-1
// (their transfers waiting for the representatives of their predecessors) gives the full run's
// times exactly, and every total is the representatives' times n / P. The reduced schedule is
// built directly, never the full one. Any failed precondition leaves the full schedule in charge.
#include <cstdint>
#include <string>

#include "sim/collectives/ring_phases.hpp"
#include "sim/collectives/schedule.hpp"
#include "sim/network/topology.hpp"

namespace meshsim::collectives {

struct ReducedRing {
  Schedule schedule;        // the transfers of ring positions 0..period-1 (same hint as the full)
  std::int64_t copies = 1;  // ring size / period: each transfer stands for this many
  int period = 0;
};

// "" and `out` filled when `plan` (one slice, one phase, one ring) reduces, else why not (one
// line). The reduced schedule's transfer count is copies times smaller than the full one's.
std::string reduce_ring_plan(const network::Topology& topology, const Group& group,
                             const RingPlan& plan, ReducedRing& out);

}  // namespace meshsim::collectives
