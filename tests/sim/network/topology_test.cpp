#include "sim/network/topology.hpp"

#include <catch2/catch.hpp>
#include <cstdint>
#include <vector>

#include "common/error.hpp"
#include "hardware_profiles/hardware.hpp"
#include "tests/sim/network/small_cluster.hpp"

using namespace meshsim::network;

namespace {

using meshsim::testing::small_cluster;

meshsim::TorusInterconnect tpu_v4_torus() {
  // TPU v4 ICI (docs/HARDWARE.md, scaling-book): 4.5e10 B/s one way per link, ~1 us per hop,
  // wrap-around on multiples of 4, largest slice 16x16x16 (4096 chips).
  meshsim::TorusInterconnect t;
  t.dimensions = 3;
  t.link_bandwidth_bytes_per_s = 4.5e10;
  t.link_latency_s = 1e-6;
  t.wraparound_multiple = 4;
  t.max_shape = {16, 16, 16};
  t.max_chips = 4096;
  return t;
}
}  // namespace

TEST_CASE("topology: torus slice factorization rule", "[network]") {
  const auto v4 = tpu_v4_torus();
  CHECK(torus_slice_shape(v4, 1024) == std::vector<int>{8, 8, 16});  // the example
  CHECK(torus_slice_shape(v4, 64) == std::vector<int>{4, 4, 4});
  CHECK(torus_slice_shape(v4, 4096) == std::vector<int>{16, 16, 16});
  CHECK(torus_slice_shape(v4, 16) == std::vector<int>{1, 4, 4});  // both real dims wrap
  meshsim::TorusInterconnect v5e;
  v5e.dimensions = 2;
  v5e.wraparound_multiple = 16;
  v5e.max_shape = {16, 16};
  CHECK(torus_slice_shape(v5e, 256) == std::vector<int>{16, 16});
  CHECK_THROWS_AS(torus_slice_shape(v4, 17), meshsim::InputError);  // 17 > 16: no slice
}

TEST_CASE("topology: torus link counts and wrap-around", "[network]") {
  const auto t = make_torus({4, 4, 4}, {true, true, true}, 1e9, 1e-6);
  CHECK(t.chip_count() == 64);
  CHECK(t.links().size() == 64 * 6);  // 6 links per chip, each direction its own link
  const auto line = make_torus({5}, {false}, 1e9, 1e-6);
  CHECK(line.links().size() == 8);  // 4 cables, two directions
  const auto pair = make_ring(2, 1e9, 1e-6);
  CHECK(pair.links().size() == 2);
}

TEST_CASE("topology: dimension-order routes are shortest paths", "[network]") {
  for (const auto& t : {make_torus({4, 4, 4}, {true, true, true}, 1e9, 1e-6),
                        make_torus({3, 5}, {false, true}, 1e9, 1e-6),
                        make_torus({2, 3, 6}, {false, false, true}, 1e9, 1e-6)}) {
    std::vector<std::int32_t> path;
    for (std::int32_t src = 0; src < t.chip_count(); ++src) {
      const auto hops = t.bfs_hops(src);
      for (std::int32_t dst = 0; dst < t.chip_count(); ++dst) {
        t.route(src, dst, path);
        REQUIRE(static_cast<int>(path.size()) == hops[static_cast<std::size_t>(dst)]);
        std::int32_t at = src;
        for (auto link : path) {
          REQUIRE(t.links()[static_cast<std::size_t>(link)].from == at);
          at = t.links()[static_cast<std::size_t>(link)].to;
        }
        REQUIRE(at == dst);
      }
    }
  }
}

TEST_CASE("topology: dimension order means x before y before z", "[network]") {
  const auto t = make_torus({4, 4, 4}, {true, true, true}, 1e9, 1e-6);
  std::vector<std::int32_t> path;
  // From (0,0,0) to (1,3,2): +x once, -y once (3 is one step the - way), +z twice.
  t.route(0, 1 + 4 * 3 + 16 * 2, path);
  REQUIRE(path.size() == 4);
  const auto& l = t.links();
  CHECK(l[static_cast<std::size_t>(path[0])].to == 1);
  CHECK(l[static_cast<std::size_t>(path[1])].to == 1 + 4 * 3);
  CHECK(l[static_cast<std::size_t>(path[2])].to == 1 + 4 * 3 + 16);
  // Exactly half-way round goes the + way: (0) -> (2) on a 4-ring.
  const auto ring = make_ring(4, 1e9, 1e-6);
  ring.route(0, 2, path);
  REQUIRE(path.size() == 2);
  CHECK(ring.links()[static_cast<std::size_t>(path[0])].to == 1);
}

TEST_CASE("topology: GPU cluster, NVSwitch islands and a rail-optimized fat-tree", "[network]") {
  // Small leaves (4 ports) so that 16 nodes need 4 leaves per rail; oversubscription 2: 2 uplinks
  // per leaf.
  const auto t = make_gpu_cluster(small_cluster(4, 0, 2), 128);
  CHECK(t.shape() == std::vector<int>{8, 16});
  // vertices: 128 GPUs, 16 NVSwitches, 8 rails x 4 leaves, 2 spines
  CHECK(t.vertex_count() == 128 + 16 + 32 + 2);
  std::vector<std::int32_t> path;
  t.route(0, 5, path);  // same node
  REQUIRE(path.size() == 2);
  CHECK(t.links()[static_cast<std::size_t>(path[0])].link_class == LinkClass::NvLink);
  t.route(3, 8 + 3, path);  // same rail, same leaf
  REQUIRE(path.size() == 2);
  CHECK(t.links()[static_cast<std::size_t>(path[0])].link_class == LinkClass::Nic);
  t.route(3, 8 * 9 + 3, path);  // same rail, another leaf: via a spine
  REQUIRE(path.size() == 4);
  CHECK(t.links()[static_cast<std::size_t>(path[1])].link_class == LinkClass::LeafSpine);
  t.route(3, 8 + 4, path);  // another rail: leaves of different rails meet at a spine
  CHECK(path.size() == 4);
  // Up/down routes are shortest among GPU-to-GPU paths that do not pass through other GPUs
  // (GPUs do not forward), and they connect source to destination.
  for (std::int32_t src : {0, 13, 77}) {
    for (std::int32_t dst = 0; dst < t.chip_count(); ++dst) {
      t.route(src, dst, path);
      std::int32_t at = src;
      for (auto link : path) {
        REQUIRE(t.links()[static_cast<std::size_t>(link)].from == at);
        at = t.links()[static_cast<std::size_t>(link)].to;
      }
      REQUIRE(at == dst);
    }
  }
}

TEST_CASE("topology: make_topology rejects groups the machine cannot hold", "[network]") {
  meshsim::HardwareProfile p;
  p.name = "tpu-v4";
  p.kind = meshsim::InterconnectKind::Torus;
  p.torus = tpu_v4_torus();
  CHECK(make_topology(p, 1024).shape() == std::vector<int>{8, 8, 16});
  CHECK_THROWS_AS(make_topology(p, 8192), meshsim::InputError);
  p.kind = meshsim::InterconnectKind::GpuCluster;
  p.gpu.gpus_per_node = 8;
  p.gpu.max_gpus = 1024;
  p.gpu.nvlink_bandwidth_bytes_per_s = 1;
  p.gpu.nic_bandwidth_bytes_per_s = 1;
  CHECK_THROWS_AS(make_topology(p, 12), meshsim::InputError);  // not whole nodes
  CHECK_THROWS_AS(make_topology(p, 2048), meshsim::InputError);
  CHECK(make_topology(p, 4).shape() == std::vector<int>{4});
}

namespace {

// Vertex tiers of a GPU cluster by the documented layout (GPUs, NVSwitches, leaves, spines,
// cores): 0 GPU, 1 leaf, 2 spine, 3 core; -1 an NVSwitch.
struct Tiers {
  std::int32_t gpus, nvswitch0, leaf0, spine0, core0, end;
  int of(std::int32_t v) const {
    if (v < gpus)
      return 0;
    if (v < leaf0)
      return -1;
    return v < spine0 ? 1 : v < core0 ? 2 : 3;
  }
};

// Checks every GPU pair: the route joins source to destination, its length is the BFS shortest
// path, and it goes up the tiers then down (every network link between adjacent tiers, NVLink
// only between a GPU and its NVSwitch).
void check_routes_shortest_and_up_down(const Topology& t, const Tiers& tiers) {
  std::vector<std::int32_t> path;
  for (std::int32_t src = 0; src < t.chip_count(); ++src) {
    const auto hops = t.bfs_hops(src);
    for (std::int32_t dst = 0; dst < t.chip_count(); ++dst) {
      t.route(src, dst, path);
      INFO("route " << src << " -> " << dst);
      REQUIRE(static_cast<int>(path.size()) == hops[static_cast<std::size_t>(dst)]);
      std::int32_t at = src;
      bool down = false;
      for (auto id : path) {
        const Link& l = t.links()[static_cast<std::size_t>(id)];
        REQUIRE(l.from == at);
        const int a = tiers.of(l.from), b = tiers.of(l.to);
        if (l.link_class == LinkClass::NvLink) {
          REQUIRE(a + b == -1);  // a GPU and an NVSwitch
        } else {
          REQUIRE(a >= 0);
          REQUIRE(b >= 0);
          REQUIRE((b == a + 1 || b == a - 1));
          if (b < a)
            down = true;
          else
            REQUIRE_FALSE(down);  // never up again after going down
        }
        at = l.to;
      }
      REQUIRE(at == dst);
    }
  }
}

// The shift symmetry of leaf_group_gpus / leaf_group_link_map(cycle): `shift(v)` moves every
// vertex by one block, within runs of `cycle` blocks (0: all of them). Checks that the map sends
// every link to a link of the first block of its run, of the same kind, that every such link
// stands for one link per block of the run, and that for every GPU pair the route of the shifted
// pair is the shift of the route, link by link, and maps onto the same links.
template <typename Shift>
void check_block_shift(const Topology& t, Shift shift, int cycle = 0) {
  const std::int32_t block = t.leaf_group_gpus();
  REQUIRE(block > 0);
  const std::int32_t n = t.chip_count();
  const std::int32_t blocks = cycle > 0 ? cycle : n / block;  // per run
  REQUIRE(blocks >= 2);
  const std::int32_t run = block * blocks;
  auto moved = [&](std::int32_t gpu) { return gpu / run * run + (gpu % run + block) % run; };
  const auto map = t.leaf_group_link_map(cycle);
  REQUIRE(map.size() == t.links().size());
  std::vector<int> preimages(map.size(), 0);
  for (std::size_t i = 0; i < map.size(); ++i) {
    REQUIRE(map[i] >= 0);
    const auto m = static_cast<std::size_t>(map[i]);
    CHECK(map[m] == map[i]);  // an image is a first-block link: it stands for itself
    const Link &a = t.links()[i], &b = t.links()[m];
    CHECK(a.link_class == b.link_class);
    CHECK(a.bandwidth_bytes_per_s == b.bandwidth_bytes_per_s);
    CHECK(a.latency_ps == b.latency_ps);
    ++preimages[m];
  }
  for (std::size_t i = 0; i < map.size(); ++i)
    if (preimages[i] > 0)
      CHECK(preimages[i] == blocks);
  std::vector<std::int32_t> path, shifted;
  for (std::int32_t src = 0; src < n; ++src) {
    for (std::int32_t dst = 0; dst < n; ++dst) {
      t.route(src, dst, path);
      t.route(moved(src), moved(dst), shifted);
      INFO("route " << src << " -> " << dst);
      REQUIRE(path.size() == shifted.size());
      for (std::size_t k = 0; k < path.size(); ++k) {
        const Link& l = t.links()[static_cast<std::size_t>(path[k])];
        const Link& s = t.links()[static_cast<std::size_t>(shifted[k])];
        CHECK(s.from == shift(l.from));
        CHECK(s.to == shift(l.to));
        CHECK(map[static_cast<std::size_t>(shifted[k])] == map[static_cast<std::size_t>(path[k])]);
      }
    }
  }
}

}  // namespace

TEST_CASE("topology: a cluster of at most one pod is the two-level tree of today", "[network]") {
  // 16 nodes on leaves of 4 ports: 4 leaves per rail, 2 spines (oversubscription 2). A pod of 16
  // nodes or more (or none) changes nothing: same vertices, links, order and description.
  const auto flat = make_gpu_cluster(small_cluster(4, 0, 2), 128);
  for (int pod_nodes : {16, 20, 64}) {
    INFO("pod_nodes " << pod_nodes);
    const auto t = make_gpu_cluster(small_cluster(4, pod_nodes, 2), 128);
    CHECK(t.pods() == 1);
    CHECK(t.vertex_count() == flat.vertex_count());
    CHECK(t.description() == flat.description());
    REQUIRE(t.links().size() == flat.links().size());
    for (std::size_t i = 0; i < t.links().size(); ++i) {
      CHECK(t.links()[i].from == flat.links()[i].from);
      CHECK(t.links()[i].to == flat.links()[i].to);
      CHECK(t.links()[i].link_class == flat.links()[i].link_class);
    }
  }
  // Today's count: NVLink and NIC both ways per GPU, both ways per leaf and spine.
  CHECK(flat.links().size() == 2 * 128 + 2 * 128 + 2 * (8 * 4) * 2);
  CHECK(flat.description() ==
        "16 node(s) x 8 GPUs on NVSwitch, rail-optimized fat-tree: 32 leaves, 2 spines");
  // The h100-sxm profile's largest pod, 2048 nodes, is still one two-level tree.
  const auto h100 = make_topology(meshsim::load_hardware("h100-sxm"), 16384);
  CHECK(h100.pods() == 1);
  CHECK(h100.links().size() == 2 * 16384 + 2 * 16384 + 2 * (8 * 64) * 32);
  CHECK(h100.vertex_count() == 16384 + 2048 + 512 + 32);
  CHECK(h100.leaf_group_gpus() == 32 * 8);
}

TEST_CASE("topology: three-level fat-tree, routes are shortest up/down paths", "[network]") {
  // Leaves of 2 ports, pods of 4 nodes (2 leaves per rail per pod), 8 GPUs per node.
  for (double oversubscription : {1.0, 2.0}) {
    for (int nodes : {12, 11, 5}) {
      INFO("oversubscription " << oversubscription << ", " << nodes << " nodes");
      const auto t = make_gpu_cluster(small_cluster(2, 4, oversubscription), 8 * nodes);
      const int pods = (nodes + 3) / 4, lpr = (nodes + 1) / 2;
      const int spines = oversubscription == 1.0 ? 2 : 1;
      // Each spine has (leaves of a full pod) / oversubscription uplinks, one to each core.
      const int uplinks = oversubscription == 1.0 ? 16 : 8;
      CHECK(t.pods() == pods);
      const Tiers tiers{8 * nodes,
                        8 * nodes,
                        8 * nodes + nodes,
                        8 * nodes + nodes + 8 * lpr,
                        8 * nodes + nodes + 8 * lpr + pods * spines,
                        8 * nodes + nodes + 8 * lpr + pods * spines + spines * uplinks};
      CHECK(t.vertex_count() == tiers.end);
      CHECK(t.links().size() ==
            static_cast<std::size_t>(2 * 8 * nodes + 2 * 8 * nodes + 2 * 8 * lpr * spines +
                                     2 * pods * spines * uplinks));
      CHECK(t.description() == std::to_string(nodes) +
                                   " node(s) x 8 GPUs on NVSwitch, three-level rail-optimized "
                                   "fat-tree: " +
                                   std::to_string(pods) + " pods of up to 4 nodes, " +
                                   std::to_string(8 * lpr) + " leaves, " +
                                   std::to_string(pods * spines) + " spines, " +
                                   std::to_string(spines * uplinks) + " cores");
      check_routes_shortest_and_up_down(t, tiers);
      // Another pod: NIC, leaf-spine, spine-core, core-spine, spine-leaf, NIC (the core tier
      // reuses the leaf-spine class).
      std::vector<std::int32_t> path;
      t.route(3, 8 * 4 + 5, path);
      REQUIRE(path.size() == 6);
      CHECK(t.links()[static_cast<std::size_t>(path[0])].link_class == LinkClass::Nic);
      for (std::size_t k = 1; k < 5; ++k)
        CHECK(t.links()[static_cast<std::size_t>(path[k])].link_class == LinkClass::LeafSpine);
      CHECK(tiers.of(t.links()[static_cast<std::size_t>(path[2])].to) == 3);
      // Only full pods, two or more, make a shift block.
      CHECK(t.leaf_group_gpus() == (nodes == 12 ? 32 : 0));
      CHECK(t.leaf_group_link_map().empty() == (nodes != 12));
    }
  }
}

TEST_CASE("topology: a shift by one pod maps the three-level tree's routes onto routes",
          "[network]") {
  // 3 full pods of 4 nodes: every vertex moves by one pod (cores stay), every route with it.
  const int nodes = 12, pod = 4, lpr = 6, spines = 2;
  const auto t = make_gpu_cluster(small_cluster(2, pod, 1), 8 * nodes);
  REQUIRE(t.leaf_group_gpus() == 8 * pod);
  const std::int32_t gpus = 8 * nodes, nv0 = gpus, leaf0 = nv0 + nodes, spine0 = leaf0 + 8 * lpr,
                     core0 = spine0 + 3 * spines;
  check_block_shift(t, [&](std::int32_t v) -> std::int32_t {
    if (v < nv0)
      return (v + 8 * pod) % gpus;
    if (v < leaf0)
      return nv0 + (v - nv0 + pod) % nodes;
    if (v < spine0) {  // rail r, group j -> group j + 2 (2 leaf groups per pod)
      const int rail = (v - leaf0) / lpr, group = (v - leaf0) % lpr;
      return leaf0 + rail * lpr + (group + 2) % lpr;
    }
    if (v < core0)
      return spine0 + (v - spine0 + spines) % (3 * spines);
    return v;
  });
  // A shift by one leaf group is no symmetry here: it moves a pod's last group into the next pod.
  std::vector<std::int32_t> a, b;
  t.route(8 * 2, 0, a);             // node 2 (group 1 of pod 0) -> node 0, inside pod 0
  t.route(8 * 4, 8 * 2, b);         // shifted by one group: node 4 (pod 1) -> node 2 (pod 0)
  CHECK(a.size() + 2 == b.size());  // through a core
}

TEST_CASE("topology: a shift by one leaf group maps the two-level tree's routes onto routes",
          "[network]") {
  // 16 nodes on leaves of 4 ports, one pod: 4 leaf groups of 32 GPUs.
  const auto t = make_gpu_cluster(small_cluster(4, 0, 1), 128);
  REQUIRE(t.leaf_group_gpus() == 32);
  const std::int32_t gpus = 128, nv0 = gpus, leaf0 = nv0 + 16, spine0 = leaf0 + 32;
  check_block_shift(t, [&](std::int32_t v) -> std::int32_t {
    if (v < nv0)
      return (v + 32) % gpus;
    if (v < leaf0)
      return nv0 + (v - nv0 + 4) % 16;
    if (v < spine0) {
      const int rail = (v - leaf0) / 4, group = (v - leaf0) % 4;
      return leaf0 + rail * 4 + (group + 1) % 4;
    }
    return v;
  });
}

TEST_CASE("topology: shifts within runs of leaf groups map the two-level tree's routes onto routes",
          "[network]") {
  // 16 nodes on leaves of 4 ports: 4 leaf groups of 32 GPUs, turned in runs of 2 (a pipeline of
  // 2 stages, each on 2 groups): group g -> the other group of its run, spines stay.
  const auto t = make_gpu_cluster(small_cluster(4, 0, 1), 128);
  REQUIRE(t.leaf_group_gpus() == 32);
  const std::int32_t gpus = 128, nv0 = gpus, leaf0 = nv0 + 16, spine0 = leaf0 + 32;
  check_block_shift(
      t,
      [&](std::int32_t v) -> std::int32_t {
        if (v < nv0)
          return v / 64 * 64 + (v % 64 + 32) % 64;
        if (v < leaf0)
          return nv0 + (v - nv0) / 8 * 8 + ((v - nv0) % 8 + 4) % 8;
        if (v < spine0) {
          const int rail = (v - leaf0) / 4, group = (v - leaf0) % 4;
          return leaf0 + rail * 4 + group / 2 * 2 + (group + 1) % 2;
        }
        return v;
      },
      2);
}

TEST_CASE("topology: the h100-sxm profile builds 100,000 GPUs as pods joined by cores",
          "[network]") {
  const auto hw = meshsim::load_hardware("h100-sxm");
  REQUIRE(hw.gpu.max_gpus >= 100000);
  // One node past a pod: a second pod of one node (a partial pod, so no pod-shift block).
  const auto t = make_topology(hw, 16384 + 8);
  CHECK(t.pods() == 2);
  CHECK(t.leaf_group_gpus() == 0);
  CHECK(t.description() ==
        "2049 node(s) x 8 GPUs on NVSwitch, three-level rail-optimized fat-tree: 2 pods of up to "
        "2048 nodes, 520 leaves, 64 spines, 16384 cores");
  std::vector<std::int32_t> path;
  t.route(0, 16384 + 7, path);  // pod 0 to the last GPU, in pod 1
  CHECK(path.size() == 6);
  t.route(16384 + 7, 8 * 2047, path);  // back into pod 0
  CHECK(path.size() == 6);
}
