// Topology construction. Boost.Graph holds the graph while it is built and for breadth-first
// search; the simulation only sees the flattened Link array and the per-chip link tables.
#include "sim/network/topology.hpp"

#include <algorithm>
#include <boost/graph/adjacency_list.hpp>
#include <boost/graph/breadth_first_search.hpp>
#include <cmath>
#include <cstdint>
#include <limits>
#include <stdexcept>
#include <string>
#include <vector>

#include "common/error.hpp"

namespace meshsim::network {
namespace {

struct LinkProperties {
  std::int32_t id = 0;
  Link link;
};
using Graph = boost::adjacency_list<boost::vecS, boost::vecS, boost::directedS, boost::no_property,
                                    LinkProperties>;

// Builds the Boost graph; each add_link is one direction of a cable and gets the next link id.
class GraphBuilder {
 public:
  explicit GraphBuilder(std::int32_t vertices) : graph_(static_cast<std::size_t>(vertices)) {}
  std::int32_t add_link(std::int32_t from, std::int32_t to, double bandwidth_bytes_per_s,
                        double latency_s, LinkClass link_class) {
    const auto latency_ps = static_cast<std::int64_t>(std::llround(latency_s * 1e12));
    boost::add_edge(
        static_cast<std::size_t>(from), static_cast<std::size_t>(to),
        LinkProperties{next_id_, Link{from, to, bandwidth_bytes_per_s, latency_ps, link_class}},
        graph_);
    return next_id_++;
  }
  // The flat link array, indexed by link id.
  std::vector<Link> flatten() const {
    std::vector<Link> links(static_cast<std::size_t>(next_id_));
    for (auto [it, end] = boost::edges(graph_); it != end; ++it) {
      const LinkProperties& p = graph_[*it];
      links[static_cast<std::size_t>(p.id)] = p.link;
    }
    return links;
  }

 private:
  Graph graph_;
  std::int32_t next_id_ = 0;
};

std::string join_shape(const std::vector<int>& shape) {
  std::string text;
  for (std::size_t d = 0; d < shape.size(); ++d) {
    if (d > 0) {
      text += 'x';
    }
    text += std::to_string(shape[d]);
  }
  return text;
}

}  // namespace

const char* to_string(LinkClass link_class) {
  switch (link_class) {
    case LinkClass::Ici:
      return "ici";
    case LinkClass::NvLink:
      return "nvlink";
    case LinkClass::Nic:
      return "nic";
    case LinkClass::LeafSpine:
      return "leaf-spine";
  }
  return "?";
}

Topology make_torus(const std::vector<int>& shape, const std::vector<bool>& wraparound,
                    double link_bandwidth_bytes_per_s, double link_latency_s) {
  Topology t;
  t.kind_ = TopologyKind::Torus;
  t.shape_ = shape;
  t.wraparound_ = wraparound;
  std::int64_t chips = 1;
  for (int n : shape) {
    chips *= n;
  }
  t.chip_count_ = static_cast<std::int32_t>(chips);
  t.vertex_count_ = t.chip_count_;
  const int dims = static_cast<int>(shape.size());
  t.torus_link_.assign(static_cast<std::size_t>(chips) * 2 * static_cast<std::size_t>(dims), -1);
  GraphBuilder builder(t.chip_count_);
  t.torus_coord_.resize(static_cast<std::size_t>(chips) * static_cast<std::size_t>(dims));
  for (int d = 0; d < dims; ++d) {
    t.torus_wraps_.push_back(wraparound[static_cast<std::size_t>(d)] &&
                             shape[static_cast<std::size_t>(d)] > 2);
  }
  std::int64_t stride = 1;
  for (int d = 0; d < dims; ++d) {
    const int n = shape[static_cast<std::size_t>(d)];
    for (std::int32_t chip = 0; chip < t.chip_count_; ++chip) {
      const int coord = static_cast<int>((chip / stride) % n);
      t.torus_coord_[static_cast<std::size_t>(chip * dims + d)] = static_cast<std::int16_t>(coord);
      const bool has_plus = coord + 1 < n || (wraparound[static_cast<std::size_t>(d)] && n > 2);
      if (!has_plus) {
        continue;
      }
      // One cable per (chip, chip + 1 in d), both directions. With n == 2 the wrap-around cable
      // would join the same two chips again; we keep one (the + and - neighbours coincide).
      const std::int32_t next =
          static_cast<std::int32_t>(chip + ((coord + 1 < n) ? stride : -stride * (n - 1)));
      const auto forward =
          builder.add_link(chip, next, link_bandwidth_bytes_per_s, link_latency_s, LinkClass::Ici);
      const auto backward =
          builder.add_link(next, chip, link_bandwidth_bytes_per_s, link_latency_s, LinkClass::Ici);
      t.torus_link_[static_cast<std::size_t>(chip * 2 * dims + 2 * d)] = forward;
      t.torus_link_[static_cast<std::size_t>(next * 2 * dims + 2 * d + 1)] = backward;
      if (n == 2) {
        t.torus_link_[static_cast<std::size_t>(chip * 2 * dims + 2 * d + 1)] = forward;
        t.torus_link_[static_cast<std::size_t>(next * 2 * dims + 2 * d)] = backward;
      }
    }
    stride *= n;
  }
  t.links_ = builder.flatten();
  t.description_ = join_shape(shape) + " torus, wrap-around on";
  bool any = false;
  for (int d = 0; d < dims; ++d) {
    if (wraparound[static_cast<std::size_t>(d)] && shape[static_cast<std::size_t>(d)] > 2) {
      t.description_ += std::string(" ") + "xyzuvw"[d % 6];
      any = true;
    }
  }
  if (!any) {
    t.description_ += " no dimension";
  }
  return t;
}

Topology make_gpu_cluster(const GpuClusterInterconnect& gpu, std::int64_t gpus) {
  Topology t;
  t.kind_ = TopologyKind::GpuCluster;
  const int g = gpu.gpus_per_node;
  t.gpus_per_node_ = g;
  t.chip_count_ = static_cast<std::int32_t>(gpus);
  t.nodes_ = static_cast<int>((gpus + g - 1) / g);
  t.shape_ = gpus <= g ? std::vector<int>{static_cast<int>(gpus)} : std::vector<int>{g, t.nodes_};
  const bool multi_node = t.nodes_ > 1;
  t.leaf_ports_ = std::max(1, gpu.leaf_switch_ports);
  t.leaves_per_rail_ = multi_node ? (t.nodes_ + t.leaf_ports_ - 1) / t.leaf_ports_ : 0;
  // Each leaf has ports / oversubscription uplinks, one to each spine (1 = non-blocking).
  t.spines_ = multi_node ? std::max(1, static_cast<int>(std::ceil(
                                           t.leaf_ports_ / std::max(1.0, gpu.oversubscription))))
                         : 0;
  // Pods of whole leaf groups (the loader requires pod_nodes to be a multiple of the leaf ports;
  // a hand-made profile is rounded down to whole groups, at least one). More nodes than one pod:
  // a third tier.
  const int pod_groups = std::max(1, gpu.pod_nodes / t.leaf_ports_);
  const bool three_tier = multi_node && gpu.pod_nodes > 0 && t.nodes_ > pod_groups * t.leaf_ports_;
  t.pods_ = !multi_node ? 0 : three_tier ? (t.leaves_per_rail_ + pod_groups - 1) / pod_groups : 1;
  t.pod_groups_ = three_tier ? pod_groups : t.leaves_per_rail_;
  t.pod_nodes_ = t.pod_groups_ * t.leaf_ports_;
  // Each spine has (leaves of a full pod) / oversubscription uplinks, one to each core of its
  // plane; core s * core_uplinks + u joins spine s of every pod.
  t.core_uplinks_ = three_tier
                        ? std::max(1, static_cast<int>(std::ceil(
                                          g * t.pod_groups_ / std::max(1.0, gpu.oversubscription))))
                        : 0;
  const int leaves = g * t.leaves_per_rail_;
  const int spines = multi_node ? t.pods_ * t.spines_ : 0;
  const int cores = three_tier ? t.spines_ * t.core_uplinks_ : 0;
  const std::int32_t nvswitch0 = t.chip_count_;
  const std::int32_t leaf0 = nvswitch0 + t.nodes_;
  const std::int32_t spine0 = leaf0 + leaves;
  const std::int32_t core0 = spine0 + spines;
  t.vertex_count_ = core0 + cores;
  GraphBuilder builder(t.vertex_count_);
  // Latencies: the profile gives GPU-to-GPU figures; NVLink's is split over its 2 hops (GPU ->
  // NVSwitch -> GPU) and the network's over the 4 hops of a path through a spine (a path through
  // a core has 6 such hops).
  const double nvlink_hop_s = gpu.nvlink_latency_s / 2;
  const double network_hop_s = gpu.network_latency_s / 4;
  const auto n_gpus = static_cast<std::size_t>(gpus);
  t.gpu_to_nvswitch_.resize(n_gpus);
  t.nvswitch_to_gpu_.resize(n_gpus);
  t.gpu_to_leaf_.assign(n_gpus, -1);
  t.leaf_to_gpu_.assign(n_gpus, -1);
  for (std::int32_t chip = 0; chip < t.chip_count_; ++chip) {
    const std::int32_t node = chip / g;
    const auto c = static_cast<std::size_t>(chip);
    t.gpu_to_nvswitch_[c] = builder.add_link(
        chip, nvswitch0 + node, gpu.nvlink_bandwidth_bytes_per_s, nvlink_hop_s, LinkClass::NvLink);
    t.nvswitch_to_gpu_[c] = builder.add_link(
        nvswitch0 + node, chip, gpu.nvlink_bandwidth_bytes_per_s, nvlink_hop_s, LinkClass::NvLink);
    if (multi_node) {
      // Rail-optimized: GPU r of every node hangs off the leaves of rail r.
      const std::int32_t leaf = leaf0 + (chip % g) * t.leaves_per_rail_ + node / t.leaf_ports_;
      t.gpu_to_leaf_[c] = builder.add_link(chip, leaf, gpu.nic_bandwidth_bytes_per_s, network_hop_s,
                                           LinkClass::Nic);
      t.leaf_to_gpu_[c] = builder.add_link(leaf, chip, gpu.nic_bandwidth_bytes_per_s, network_hop_s,
                                           LinkClass::Nic);
    }
  }
  const auto n_up = static_cast<std::size_t>(leaves) * static_cast<std::size_t>(t.spines_);
  t.leaf_to_spine_.resize(n_up);
  t.spine_to_leaf_.resize(n_up);
  for (int leaf = 0; leaf < leaves; ++leaf) {
    // The spines of the leaf's pod (pod 0 on a two-level tree).
    const std::int32_t pod_spine0 =
        spine0 + (leaf % t.leaves_per_rail_) / t.pod_groups_ * t.spines_;
    for (int s = 0; s < t.spines_; ++s) {
      const auto i = static_cast<std::size_t>(leaf * t.spines_ + s);
      t.leaf_to_spine_[i] =
          builder.add_link(leaf0 + leaf, pod_spine0 + s, gpu.nic_bandwidth_bytes_per_s,
                           network_hop_s, LinkClass::LeafSpine);
      t.spine_to_leaf_[i] =
          builder.add_link(pod_spine0 + s, leaf0 + leaf, gpu.nic_bandwidth_bytes_per_s,
                           network_hop_s, LinkClass::LeafSpine);
    }
  }
  // The core tier: the same link class and rate as leaf-spine (docs/network.md).
  const auto n_core = static_cast<std::size_t>(spines) * static_cast<std::size_t>(t.core_uplinks_);
  t.spine_to_core_.resize(n_core);
  t.core_to_spine_.resize(n_core);
  for (int spine = 0; spine < spines; ++spine) {
    const int s = spine % t.spines_;
    for (int u = 0; u < t.core_uplinks_; ++u) {
      const auto i = static_cast<std::size_t>(spine) * static_cast<std::size_t>(t.core_uplinks_) +
                     static_cast<std::size_t>(u);
      const std::int32_t core = core0 + s * t.core_uplinks_ + u;
      t.spine_to_core_[i] = builder.add_link(spine0 + spine, core, gpu.nic_bandwidth_bytes_per_s,
                                             network_hop_s, LinkClass::LeafSpine);
      t.core_to_spine_[i] = builder.add_link(core, spine0 + spine, gpu.nic_bandwidth_bytes_per_s,
                                             network_hop_s, LinkClass::LeafSpine);
    }
  }
  t.links_ = builder.flatten();
  t.description_ = std::to_string(t.nodes_) + " node(s) x " +
                   std::to_string(std::min<std::int64_t>(gpus, g)) + " GPUs on NVSwitch";
  if (three_tier) {
    t.description_ += ", three-level rail-optimized fat-tree: " + std::to_string(t.pods_) +
                      " pods of up to " + std::to_string(t.pod_nodes_) + " nodes, " +
                      std::to_string(leaves) + " leaves, " + std::to_string(spines) + " spines, " +
                      std::to_string(cores) + " cores";
  } else if (multi_node) {
    t.description_ += ", rail-optimized fat-tree: " + std::to_string(leaves) + " leaves, " +
                      std::to_string(t.spines_) + " spines";
  }
  return t;
}

std::vector<int> Topology::bfs_hops(std::int32_t from_vertex) const {
  Graph graph(static_cast<std::size_t>(vertex_count_));
  for (std::size_t i = 0; i < links_.size(); ++i) {
    boost::add_edge(static_cast<std::size_t>(links_[i].from),
                    static_cast<std::size_t>(links_[i].to),
                    LinkProperties{static_cast<std::int32_t>(i), links_[i]}, graph);
  }
  std::vector<int> hops(static_cast<std::size_t>(vertex_count_), -1);
  hops[static_cast<std::size_t>(from_vertex)] = 0;
  boost::breadth_first_search(
      graph, static_cast<std::size_t>(from_vertex),
      boost::visitor(boost::make_bfs_visitor(boost::record_distances(
          boost::make_iterator_property_map(hops.begin(), boost::get(boost::vertex_index, graph)),
          boost::on_tree_edge()))));
  return hops;
}

std::vector<int> torus_slice_shape(const TorusInterconnect& torus, std::int64_t chips) {
  const int dims = std::max(1, torus.dimensions);
  std::vector<int> max_shape = torus.max_shape;
  max_shape.resize(static_cast<std::size_t>(dims), std::numeric_limits<int>::max());
  std::sort(max_shape.begin(), max_shape.end());
  const int w = std::max(1, torus.wraparound_multiple);
  // Rule (docs/network.md): among ascending shapes whose product is `chips` and whose sorted dims
  // fit the sorted largest slice, prefer (1) the fewest dimensions of size >= 3 without wrap-around
  // (size not a multiple of wraparound_multiple), then (2) the smallest diameter, then (3) the
  // lexicographically smallest shape.
  std::vector<int> best, current;
  std::int64_t best_unwrapped = 0, best_diameter = 0;
  auto score = [&](const std::vector<int>& shape, std::int64_t& unwrapped, std::int64_t& diameter) {
    unwrapped = diameter = 0;
    for (int n : shape) {
      const bool wraps = n % w == 0;
      unwrapped += (n >= 3 && !wraps) ? 1 : 0;
      diameter += wraps ? n / 2 : n - 1;
    }
  };
  auto search = [&](auto&& self, std::int64_t remaining, int min_dim) -> void {
    const auto d = current.size();
    if (d + 1 == static_cast<std::size_t>(dims)) {
      if (remaining < min_dim || remaining > max_shape[d]) {
        return;
      }
      current.push_back(static_cast<int>(remaining));
      std::int64_t unwrapped, diameter;
      score(current, unwrapped, diameter);
      if (best.empty() || unwrapped < best_unwrapped ||
          (unwrapped == best_unwrapped && diameter < best_diameter)) {
        best = current;
        best_unwrapped = unwrapped;
        best_diameter = diameter;
      }
      current.pop_back();
      return;
    }
    for (std::int64_t n = min_dim; n <= std::min<std::int64_t>(remaining, max_shape[d]); ++n) {
      if (remaining % n == 0) {
        current.push_back(static_cast<int>(n));
        self(self, remaining / n, static_cast<int>(n));
        current.pop_back();
      }
    }
  };
  if (chips >= 1 && chips <= std::numeric_limits<std::int32_t>::max()) {
    search(search, chips, 1);
  }
  if (best.empty()) {
    const std::string largest = join_shape(torus.max_shape);
    throw InputError({"--group", "", "group"},
                     "no " + std::to_string(dims) + "-D torus slice has this many chips",
                     std::to_string(chips),
                     "a chip count that factors into " + std::to_string(dims) +
                         " dimensions within the largest slice " + largest);
  }
  return best;
}

Topology make_topology(const HardwareProfile& profile, std::int64_t chips) {
  if (profile.kind == InterconnectKind::Torus) {
    const auto& torus = profile.torus;
    if (torus.max_chips > 0 && chips > torus.max_chips) {
      throw InputError({"--group", "", "group"},
                       "more chips than the largest " + profile.name + " slice",
                       std::to_string(chips), "at most " + std::to_string(torus.max_chips));
    }
    const auto shape = torus_slice_shape(torus, chips);
    std::vector<bool> wrap;
    for (int n : shape) {
      wrap.push_back(n % std::max(1, torus.wraparound_multiple) == 0);
    }
    Topology t = make_torus(shape, wrap, torus.link_bandwidth_bytes_per_s, torus.link_latency_s);
    t.apply_collective_costs(profile.collectives);
    return t;
  }
  const auto& gpu = profile.gpu;
  if (gpu.max_gpus > 0 && chips > gpu.max_gpus) {
    throw InputError({"--group", "", "group"},
                     "more GPUs than the " + profile.name + " cluster holds", std::to_string(chips),
                     "at most " + std::to_string(gpu.max_gpus));
  }
  if (chips > gpu.gpus_per_node && chips % gpu.gpus_per_node != 0) {
    throw InputError({"--group", "", "group"}, "a group larger than one node must fill whole nodes",
                     std::to_string(chips),
                     "at most " + std::to_string(gpu.gpus_per_node) + " or a multiple of it");
  }
  Topology t = make_gpu_cluster(gpu, chips);
  t.apply_collective_costs(profile.collectives);
  return t;
}

void Topology::apply_collective_costs(const CollectiveCostSpec& costs) {
  if (costs_applied_) {
    throw std::logic_error("Topology: collective costs applied twice (link rates would compound)");
  }
  costs_applied_ = true;
  costs_ = costs;
  for (auto& link : links_) {
    switch (link.link_class) {
      case LinkClass::Ici:
        link.bandwidth_bytes_per_s *= costs.ici_efficiency;
        break;
      case LinkClass::NvLink:
        link.bandwidth_bytes_per_s *= costs.nvlink_efficiency;
        break;
      case LinkClass::Nic:
        link.bandwidth_bytes_per_s *= costs.nic_efficiency;
        break;
      case LinkClass::LeafSpine:
        link.bandwidth_bytes_per_s *= costs.leaf_spine_efficiency;
        break;
    }
  }
}

}  // namespace meshsim::network
