#pragma once
// Physical topologies (DESIGN §4 "Network"): chips, switches and directed links with bandwidth and
// latency. Built as Boost.Graph graphs inside topology.cpp, then flattened into the plain arrays
// below (links, per-chip link tables) that routing and the simulation's hot path use. Full duplex:
// each direction of a cable is its own Link.
#include <cstdint>
#include <string>
#include <vector>

#include "hardware_profiles/hardware.hpp"

namespace meshsim::network {

enum class LinkClass : std::uint8_t { Ici, NvLink, Nic, LeafSpine };
inline constexpr int kLinkClassCount = 4;
const char* to_string(LinkClass link_class);  // "ici", "nvlink", "nic", "leaf-spine"

struct Link {
  std::int32_t from = 0;  // vertex ids: chips are 0..chip_count-1, switches after them
  std::int32_t to = 0;
  double bandwidth_bytes_per_s = 0;  // this direction
  std::int64_t latency_ps = 0;       // paid once per hop
  LinkClass link_class = LinkClass::Ici;
};

enum class TopologyKind { Torus, GpuCluster };

class Topology {
 public:
  TopologyKind kind() const { return kind_; }
  std::int32_t chip_count() const { return chip_count_; }
  std::int32_t vertex_count() const { return vertex_count_; }
  const std::vector<Link>& links() const { return links_; }
  // One line for reports: "8x8x16 torus, wrap-around on x y z", "4 nodes x 8 GPUs, ...".
  const std::string& description() const { return description_; }

  // Mesh shape of the whole machine, dimension 0 fastest (chip id = sum coord_k * stride_k).
  // Torus: the slice shape. GPU cluster: {gpus per node, nodes} (or {gpus} for one node).
  const std::vector<int>& shape() const { return shape_; }
  const std::vector<bool>& wraparound() const { return wraparound_; }  // torus only, per dimension

  // Writes the links from chip `src` to chip `dst` into `out` (cleared first; empty when equal).
  // Torus: dimension-order routing (x, then y, then z), each dimension the shorter way round when
  // it wraps (ties go the + way). GPU cluster: NVSwitch inside a node; up/down on the fat-tree.
  void route(std::int32_t src, std::int32_t dst, std::vector<std::int32_t>& out) const;

  // Torus only: the link leaving chip `chip` in dimension `dim` towards + (sign 0) or - (sign 1),
  // -1 where there is none (translations of the torus map these tables onto themselves).
  std::int32_t torus_link(std::int32_t chip, int dim, int sign) const {
    const auto dims = shape_.size();
    return torus_link_[static_cast<std::size_t>(chip) * 2 * dims +
                       2 * static_cast<std::size_t>(dim) + static_cast<std::size_t>(sign)];
  }
  // Torus only: dimension d wraps around with a cable of its own (longer than 2).
  bool torus_wraps(int dim) const { return torus_wraps_[static_cast<std::size_t>(dim)] != 0; }

  // Hop counts from one vertex to every vertex by breadth-first search on the graph (Boost.Graph):
  // the yardstick that routing's path lengths are tested against. -1 = unreachable.
  std::vector<int> bfs_hops(std::int32_t from_vertex) const;

  // How collectives use this machine (profile section "collectives"; defaults: line rate, no
  // protocol, no NVLS). make_topology applies it: every link's bandwidth becomes its class's
  // achievable bandwidth, and collectives read the protocol, NVLS and overhead figures here. Once
  // per topology (a second call is a logic error).
  const CollectiveCostSpec& collective_costs() const { return costs_; }
  void apply_collective_costs(const CollectiveCostSpec& costs);
  // GPU cluster: GPUs per NVSwitch node (0 on a torus).
  int gpus_per_node() const { return gpus_per_node_; }
  // GPU cluster of more than one node: pods of the fat-tree (1 = two-level, >= 2 = three-level,
  // the last possibly partial); 0 otherwise.
  int pods() const { return pods_; }
  // The translation block of a GPU cluster, used by execution's leaf-group shift symmetry
  // (docs/execution.md "Replica symmetry"); 0 when there is none.
  // - Two-level tree (one pod) of two or more full leaf groups (a leaf group: the
  //   leaf_switch_ports nodes that share their rails' leaves): the GPUs of one group. Shifting
  //   every GPU by one group maps nodes, leaves (rail r, group j -> j + 1 mod groups), the spine
  //   choice (by the destination node's leaf port) and so every route onto themselves.
  // - Three-level tree (pods joined by cores) of two or more pods, all full: the GPUs of one POD.
  //   A shift by one leaf group does not map this tree onto itself (it moves a pod's last group
  //   into the next pod), but a shift by one pod maps nodes, leaves, spines (pod p -> p + 1 mod
  //   pods) and, since the spine and core choices depend only on the destination's position
  //   inside its pod, every route onto a route. A partial last pod: 0.
  std::int32_t leaf_group_gpus() const;
  // GPU cluster of two or more nodes filling whole leaf groups: the GPUs of one leaf group (the
  // leaf_switch_ports nodes whose GPUs hang off the same leaf of each rail), on two or three
  // levels alike; 0 otherwise. (On three levels a shift by one leaf group is no symmetry of the
  // whole tree; execution checks the routes of its own shifts: node_shift_symmetry.)
  std::int32_t leaf_group_size() const;
  // Per link, the link of the first block (leaf group, or pod on a three-level tree) it is a shift
  // of; core links are named by their spine end (spine s of pod p -> spine s of pod 0, same core).
  // Empty when leaf_group_gpus() is 0.
  // `cycle` > 0: shifts by whole blocks within each run of `cycle` consecutive blocks (a
  // permutation of the blocks, as any is a symmetry of the tree: a pipeline's stages each fill
  // `cycle` blocks), each link standing for its shift in the first block of its run; 0: one run.
  std::vector<std::int32_t> leaf_group_link_map(int cycle = 0) const;

 private:
  friend Topology make_torus(const std::vector<int>&, const std::vector<bool>&, double, double);
  friend Topology make_gpu_cluster(const GpuClusterInterconnect&, std::int64_t);
  void route_torus(std::int32_t src, std::int32_t dst, std::vector<std::int32_t>& out) const;
  void route_gpu(std::int32_t src, std::int32_t dst, std::vector<std::int32_t>& out) const;

  TopologyKind kind_ = TopologyKind::Torus;
  std::int32_t chip_count_ = 0;
  std::int32_t vertex_count_ = 0;
  std::vector<Link> links_;
  std::string description_;
  std::vector<int> shape_;
  std::vector<bool> wraparound_;
  CollectiveCostSpec costs_;
  bool costs_applied_ = false;
  // Torus: link index of chip c's neighbour in dimension d, direction s (0 = +, 1 = -), at
  // [c * 2 * dims + 2 * d + s]; -1 where there is none.
  std::vector<std::int32_t> torus_link_;
  std::vector<std::int16_t> torus_coord_;  // [c * dims + d]: chip c's coordinate in dimension d
  std::vector<std::uint8_t> torus_wraps_;  // per dimension: wraps and longer than 2
  // GPU cluster tables, indexed by GPU, leaf (rail * leaves_per_rail + group) or leaf * spines + s
  // (the spine s of the leaf's pod), and (pod * spines + s) * core_uplinks + u for the core tier.
  int gpus_per_node_ = 0, nodes_ = 0, leaves_per_rail_ = 0, spines_ = 0, leaf_ports_ = 0;
  // Three-level tree only (pods_ > 1): nodes per pod, leaf groups per pod, uplinks per spine (one
  // to each core of its plane: core s * core_uplinks + u joins spine s of every pod).
  int pods_ = 0, pod_nodes_ = 0, pod_groups_ = 0, core_uplinks_ = 0;
  std::vector<std::int32_t> gpu_to_nvswitch_, nvswitch_to_gpu_, gpu_to_leaf_, leaf_to_gpu_;
  std::vector<std::int32_t> leaf_to_spine_, spine_to_leaf_, spine_to_core_, core_to_spine_;
};

// A torus (or a ring: shape {n}) with every link of one bandwidth and latency. `wraparound[d]` says
// whether dimension d closes into a ring.
Topology make_torus(const std::vector<int>& shape, const std::vector<bool>& wraparound,
                    double link_bandwidth_bytes_per_s, double link_latency_s);
inline Topology make_ring(int chips, double link_bandwidth_bytes_per_s, double link_latency_s) {
  return make_torus({chips}, {true}, link_bandwidth_bytes_per_s, link_latency_s);
}
// NVSwitch islands of gpus_per_node plus a rail-optimized fat-tree (see docs/network.md): two
// levels, or three (pods of gpu.pod_nodes nodes joined by core switches) when the nodes exceed one
// pod.
Topology make_gpu_cluster(const GpuClusterInterconnect& gpu, std::int64_t gpus);

// The slice shape chosen for `chips` chips of a torus profile (dimension 0 fastest, ascending);
// the rule is in docs/network.md. Throws InputError when no slice of that size exists.
std::vector<int> torus_slice_shape(const TorusInterconnect& torus, std::int64_t chips);

// The machine of `chips` chips of a profile. Throws InputError (site "--group") when the profile
// cannot hold that many or they cannot form a slice.
Topology make_topology(const HardwareProfile& profile, std::int64_t chips);

}  // namespace meshsim::network
