#pragma once
// A ring plan's schedule reduced by a symmetry of its members (issue 15: "build reduced schedules
// directly instead of building the full schedule and reducing it"). The caller knows a group of
// maps of the machine onto itself (torus shifts, shifts by whole leaf groups) and gives, per group
// member, the member that stands for it (`rep`: the member its own shift carries it back to), and,
// per generator of the group, where that map carries each member back to. When every generator
// carries every ring of every phase onto a ring of the phase with the same order (position i onto
// position i + d, one offset d per ring), and the pieces it moves between carry equal bytes, so
// does every map of the group, and every transfer stands for its image at the same step and piece:
// the kept members' (rep = itself) transfers alone, each dependency on another member's transfer
// replaced by its representative's, run as the full schedule's kept transfers do. This is the
// schedule execution::reduce_schedule derives from the full one, built without the full one.
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "sim/collectives/ring_phases.hpp"
#include "sim/collectives/schedule.hpp"

namespace meshsim::collectives {

struct MemberShifts {
  std::vector<int> rep;                      // per member: the kept member standing for it
  std::vector<std::vector<int>> generators;  // per generator, per member: where it goes back to
};

// "" and `out` (the kept members' transfers in build_ring_plan's order) when `shifts` is a
// symmetry of `plan` as above; else why not (one line).
std::string build_ring_plan_reduced(const Group& group, const RingPlan& plan,
                                    const MemberShifts& shifts, Schedule& out);

// The number of transfers build_ring_plan_reduced makes for `shifts` (computed without building
// them, and without checking the shifts), so a caller can refuse a schedule too large to build.
std::uint64_t ring_plan_reduced_count(const RingPlan& plan, const MemberShifts& shifts);

// The distinct (source chip, destination chip) pairs of build_ring_plan's transfers, computed
// from the rings without building them, sorted.
std::vector<std::pair<std::int32_t, std::int32_t>> ring_plan_pairs(const Group& group,
                                                                   const RingPlan& plan);

}  // namespace meshsim::collectives
