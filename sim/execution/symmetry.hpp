#pragma once
// Replica symmetry (docs/execution.md "Replica symmetry"): when every data replica (the k chips of
// one data index) runs on links of its own, laid out like replica 0's, and every data-axis group's
// collectives run on links of their own, all replicas follow the same timeline and the step can be
// simulated on replica 0 alone, with the data-axis collectives run in full on their own links.
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "sim/collectives/ring_reduced.hpp"
#include "sim/collectives/schedule.hpp"
#include "sim/execution/placement.hpp"
#include "sim/network/topology.hpp"

namespace meshsim::execution {

// Returns "" when the step is replica-symmetric, else why not (one line, for reports).
// `model_pairs`: the (source, destination) model indices of every point-to-point exchange inside a
// replica (ring sends and the transfers of model-axis collectives, which the caller has checked
// are the same in every replica). `data_links[m]`: every link the data-axis collectives of data
// group m use.
std::string replica_symmetry_violation(
    const network::Topology& topology, const Placement& placement,
    const std::vector<std::pair<std::int32_t, std::int32_t>>& model_pairs,
    const std::vector<std::vector<std::int32_t>>& data_links);

// Translation symmetry of a torus: when data replica d's chips are replica 0's shifted by a torus
// offset o(d), the offsets form a group (o(a) + o(b) is some o(c)), and every dimension a shift
// moves along closes into a ring, then shifting by o(d) maps the machine, its routes and the mesh
// onto themselves. Every link then stands for one link of replica 0's chips (`link_rep`), and a
// collective whose schedule the shifts map onto itself can be run as replica 0's members' transfers
// alone (reduce_schedule).
struct TranslationSymmetry {
  std::vector<std::int32_t> link_rep;    // per link: the link leaving replica 0 it stands for
  std::vector<std::int32_t> replica;     // per chip: its data replica d
  std::vector<std::vector<int>> offset;  // per replica: o(d), per torus dimension
  std::vector<int> shape;
  std::vector<std::int32_t> generators;  // replicas whose offsets generate every offset
};

// "" and `out` filled when the placement is translation-symmetric, else why not.
std::string translation_symmetry(const network::Topology& topology, const Placement& placement,
                                 TranslationSymmetry& out);

// Leaf-group translation of a GPU cluster (network::Topology::leaf_group_gpus): when the mesh
// fills the cluster and data replica d = b R + r is replica r shifted by b leaf groups (R replicas
// per group), the first group's R replicas stand for every group. With `stages` > 1 pipeline
// stages (stage-major ranks: each stage fills groups / stages groups, docs/plans.md "Mapping") the
// shifts turn the groups of each stage alone, and a replica's chips (one per stage) are shifted
// together. `out` then describes the shifts as a translation of the shape {GPUs per group, groups
// per stage, stages}: `replica` holds each GPU's group within its stage, and `replicas_per_group`
// receives R. "" or why not.
std::string leaf_group_symmetry(const network::Topology& topology, const Placement& placement,
                                TranslationSymmetry& out, std::int64_t& replicas_per_group,
                                std::int64_t stages = 1);

// Node shifts of a GPU cluster: as leaf_group_symmetry with a node for a leaf group (replica
// d = b R + r is replica r moved by b whole nodes within its stage's nodes). Whether moving every
// GPU by one node within its stage's nodes maps the machine onto itself depends on the routes the
// step uses (the last node of a leaf group moves into the next group's leaf only as a permutation
// of its stage's nodes), so `out.link_rep` is left empty: the caller checks the routes with
// rotation_link_rep (model_rotation.hpp) and shift_image(out), which also gives the link map.
// "" or why not.
std::string node_shift_symmetry(const network::Topology& topology, const Placement& placement,
                                std::int64_t stages, TranslationSymmetry& out,
                                std::int64_t& replicas_per_node);

// Leaf-group shifts decided from routes, as node shifts are (three-level trees, issue 15): the
// same with a leaf group for a node. A three-level tree maps onto itself under a permutation of
// the leaf groups of one pod, not of the whole machine (a pod's last group would move into the
// next pod), so where each stage's leaf groups lie in one pod the route check succeeds and gives
// the link map; where a stage crosses pods it fails at a route between pods. `out.link_rep` is
// left empty. "" or why not.
std::string leaf_group_route_symmetry(const network::Topology& topology, const Placement& placement,
                                      std::int64_t stages, TranslationSymmetry& out,
                                      std::int64_t& replicas_per_group);

// Per chip (0 .. product of sym.shape): the chip the shifts' first generator carries it to.
std::vector<std::int32_t> shift_image(const TranslationSymmetry& sym);

// `b` is `a` with every transfer's chips carried by `map` (same bytes, same dependencies).
template <class Map>
bool is_mapped_copy(const collectives::Schedule& a, const collectives::Schedule& b,
                    const Map& map) {
  if (a.size() != b.size() || a.deps != b.deps || a.dep_offsets != b.dep_offsets)
    return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    const auto &x = a.transfers[i], &y = b.transfers[i];
    if (x.bytes != y.bytes || map(x.src_chip) != y.src_chip || map(x.dst_chip) != y.dst_chip)
      return false;
  }
  return true;
}

// Per member of `group`: the member its chip is shifted back onto (the shift of the chip's
// replica undone; members of replica 0 stand for themselves), and per generator of the shifts
// (`sym.generators`) where it takes each member back to, for collectives::build_ring_plan_reduced.
// "" or why not (a shifted-back chip outside the group).
std::string shift_members(const collectives::Group& group, const TranslationSymmetry& sym,
                          collectives::MemberShifts& out);

// Replica 0's members' transfers of `schedule` (shift 0: `replica` 0), with each dependency on a
// transfer of replica d replaced by the replica-0 transfer it is shifted from (same arrival time,
// by symmetry). Returns
// "" or why the schedule is not mapped onto itself by the shifts.
std::string reduce_schedule(const collectives::Schedule& schedule, const TranslationSymmetry& sym,
                            collectives::Schedule& out);

}  // namespace meshsim::execution
