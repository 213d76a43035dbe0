// Routing on the flattened topology: arithmetic on coordinates plus table look-ups, no graph.
#include <cstdint>
#include <vector>

#include "sim/network/topology.hpp"

namespace meshsim::network {

void Topology::route(std::int32_t src, std::int32_t dst, std::vector<std::int32_t>& out) const {
  out.clear();
  if (src == dst) {
    return;
  }
  if (kind_ == TopologyKind::Torus) {
    route_torus(src, dst, out);
  } else {
    route_gpu(src, dst, out);
  }
}

// Dimension-order routing: correct dimension 0 completely, then 1, then 2. In a dimension that
// wraps, go the shorter way; at exactly half-way round, go the + way (deterministic).
void Topology::route_torus(std::int32_t src, std::int32_t dst,
                           std::vector<std::int32_t>& out) const {
  // Coordinates come from a table (no divisions on the hot path). While dimension d is corrected,
  // the current chip's d-coordinate is still src's, since only earlier dimensions have moved.
  const int dims = static_cast<int>(shape_.size());
  const std::int16_t* from_coord = &torus_coord_[static_cast<std::size_t>(src * dims)];
  const std::int16_t* to_coord = &torus_coord_[static_cast<std::size_t>(dst * dims)];
  std::int32_t at = src;
  for (int d = 0; d < dims; ++d) {
    const int from = from_coord[d];
    const int to = to_coord[d];
    if (from == to) {
      continue;
    }
    const int n = shape_[static_cast<std::size_t>(d)];
    int plus_steps = to - from;
    int direction = 0;  // 0 = +, 1 = -
    int steps = plus_steps;
    if (torus_wraps_[static_cast<std::size_t>(d)]) {
      plus_steps = (plus_steps + n) % n;
      direction = plus_steps <= n - plus_steps ? 0 : 1;
      steps = direction == 0 ? plus_steps : n - plus_steps;
    } else if (plus_steps < 0) {
      steps = -plus_steps;
      direction = 1;
    }
    for (int s = 0; s < steps; ++s) {
      const std::int32_t link =
          torus_link_[static_cast<std::size_t>(at * 2 * dims + 2 * d + direction)];
      out.push_back(link);
      at = links_[static_cast<std::size_t>(link)].to;
    }
  }
}

// Up/down routing. Same node: GPU -> NVSwitch -> GPU. Other node: up the source GPU's NIC to its
// rail leaf; if the destination hangs off the same leaf, straight down; in the same pod, up to a
// spine and down; in another pod (three-level tree), up to a spine of the source's pod, a core,
// down to the spine of the same index in the destination's pod and its leaf. The upper switches
// are chosen by destination ("D-mod-k"): the spine by the destination node's port on its leaf
// modulo the spine count, so that shifts along a rail spread over all spines; the core (among the
// spine's uplinks) by the destination leaf's index inside its pod (rail * groups per pod + group)
// modulo the uplinks. Both depend only on the destination's position inside its pod, so a shift
// by whole pods maps routes onto routes.
void Topology::route_gpu(std::int32_t src, std::int32_t dst, std::vector<std::int32_t>& out) const {
  const int g = gpus_per_node_;
  const auto s = static_cast<std::size_t>(src);
  const auto t = static_cast<std::size_t>(dst);
  const std::int32_t src_node = src / g, dst_node = dst / g;
  if (src_node == dst_node) {
    out.push_back(gpu_to_nvswitch_[s]);
    out.push_back(nvswitch_to_gpu_[t]);
    return;
  }
  const std::int32_t up = gpu_to_leaf_[s];
  const std::int32_t down = leaf_to_gpu_[t];
  out.push_back(up);
  const std::int32_t src_leaf = links_[static_cast<std::size_t>(up)].to;
  const std::int32_t dst_leaf = links_[static_cast<std::size_t>(down)].from;
  if (src_leaf != dst_leaf) {
    const std::int32_t leaf0 = chip_count_ + nodes_;
    const int spine = (dst_node % leaf_ports_) % spines_;
    const auto src_up = static_cast<std::size_t>((src_leaf - leaf0) * spines_ + spine);
    const auto dst_up = static_cast<std::size_t>((dst_leaf - leaf0) * spines_ + spine);
    out.push_back(leaf_to_spine_[src_up]);
    if (pods_ > 1) {
      const std::int32_t src_pod = src_node / pod_nodes_, dst_pod = dst_node / pod_nodes_;
      if (src_pod != dst_pod) {
        const int leaf_in_pod = (dst % g) * pod_groups_ + (dst_node % pod_nodes_) / leaf_ports_;
        const int u = leaf_in_pod % core_uplinks_;
        const auto u_of = [&](std::int32_t pod) {
          return static_cast<std::size_t>((pod * spines_ + spine) * core_uplinks_ + u);
        };
        out.push_back(spine_to_core_[u_of(src_pod)]);
        out.push_back(core_to_spine_[u_of(dst_pod)]);
      }
    }
    out.push_back(spine_to_leaf_[dst_up]);
  }
  out.push_back(down);
}

std::int32_t Topology::leaf_group_gpus() const {
  if (kind_ != TopologyKind::GpuCluster || nodes_ < 2)
    return 0;
  if (pods_ > 1)  // three levels: shifts by whole pods, all full
    return nodes_ % pod_nodes_ == 0 ? pod_nodes_ * gpus_per_node_ : 0;
  if (leaves_per_rail_ < 2 || nodes_ % leaf_ports_ != 0)
    return 0;
  return leaf_ports_ * gpus_per_node_;
}

std::int32_t Topology::leaf_group_size() const {
  if (kind_ != TopologyKind::GpuCluster || nodes_ < 2 || leaf_ports_ <= 0 ||
      nodes_ % leaf_ports_ != 0)
    return 0;
  return leaf_ports_ * gpus_per_node_;
}

std::vector<std::int32_t> Topology::leaf_group_link_map(int cycle) const {
  const std::int32_t block = leaf_group_gpus();
  if (block == 0)
    return {};
  const std::int32_t blocks = chip_count_ / block;
  const std::int32_t run = cycle > 0 ? cycle : blocks;  // blocks per run
  // Index i of a run of `run` blocks of `size` items each -> the same item of the run's first.
  auto first_of_run = [run](std::int64_t i, std::int64_t size) {
    return i / (size * run) * (size * run) + i % size;
  };
  std::vector<std::int32_t> map(links_.size(), -1);
  for (std::int32_t c = 0; c < chip_count_; ++c) {
    const auto from = static_cast<std::size_t>(c);
    const auto to = static_cast<std::size_t>(first_of_run(c, block));
    map[static_cast<std::size_t>(gpu_to_nvswitch_[from])] = gpu_to_nvswitch_[to];
    map[static_cast<std::size_t>(nvswitch_to_gpu_[from])] = nvswitch_to_gpu_[to];
    map[static_cast<std::size_t>(gpu_to_leaf_[from])] = gpu_to_leaf_[to];
    map[static_cast<std::size_t>(leaf_to_gpu_[from])] = leaf_to_gpu_[to];
  }
  // Leaf groups per block: 1 on a two-level tree, a pod's on a three-level one.
  const int block_groups = block / (leaf_ports_ * gpus_per_node_);
  const int leaves = gpus_per_node_ * leaves_per_rail_;
  for (int leaf = 0; leaf < leaves; ++leaf) {
    const int rail = leaf / leaves_per_rail_;
    const int first = rail * leaves_per_rail_ +
                      static_cast<int>(first_of_run(leaf % leaves_per_rail_, block_groups));
    for (int s = 0; s < spines_; ++s) {
      const auto from = static_cast<std::size_t>(leaf * spines_ + s);
      const auto to = static_cast<std::size_t>(first * spines_ + s);
      map[static_cast<std::size_t>(leaf_to_spine_[from])] = leaf_to_spine_[to];
      map[static_cast<std::size_t>(spine_to_leaf_[from])] = spine_to_leaf_[to];
    }
  }
  // Core links by their spine end: spine s of pod p -> spine s of pod 0, the same core.
  const auto per_pod = static_cast<std::size_t>(spines_) * static_cast<std::size_t>(core_uplinks_);
  for (std::size_t i = 0; i < spine_to_core_.size(); ++i) {
    const auto j = static_cast<std::size_t>(
        first_of_run(static_cast<std::int64_t>(i), static_cast<std::int64_t>(per_pod)));
    map[static_cast<std::size_t>(spine_to_core_[i])] = spine_to_core_[j];
    map[static_cast<std::size_t>(core_to_spine_[i])] = core_to_spine_[j];
  }
  return map;
}

}  // namespace meshsim::network
