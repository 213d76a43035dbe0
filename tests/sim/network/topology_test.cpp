#include "sim/network/topology.hpp"

#include <catch2/catch.hpp>
#include <cstdint>
#include <vector>

#include "common/error.hpp"

using namespace meshsim::network;

namespace {
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
  meshsim::GpuClusterInterconnect gpu;
  gpu.gpus_per_node = 8;
  gpu.nvlink_bandwidth_bytes_per_s = 450e9;
  gpu.nvlink_latency_s = 3e-6;
  gpu.nic_bandwidth_bytes_per_s = 50e9;
  gpu.network_latency_s = 10e-6;
  gpu.leaf_switch_ports = 4;  // small leaves so that 16 nodes need 4 leaves per rail
  gpu.oversubscription = 2;   // 2 uplinks per leaf
  const auto t = make_gpu_cluster(gpu, 128);
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
