// NCCL protocols, NVLS and pipelined hierarchical collectives on the zoo profiles (issue 12).
#include "sim/collectives/protocol.hpp"

#include <catch2/catch.hpp>
#include <cstdint>
#include <numeric>
#include <string>
#include <vector>

#include "hardware_profiles/hardware.hpp"
#include "sim/collectives/executor.hpp"
#include "sim/collectives/nvls.hpp"
#include "sim/collectives/registry.hpp"
#include "sim/collectives/ring_phases.hpp"

using namespace meshsim::collectives;
using meshsim::load_hardware;
using meshsim::network::make_topology;
using meshsim::network::Topology;

namespace {

Group whole(const Topology& topology, int n) {
  Group g;
  g.chips.resize(static_cast<std::size_t>(n));
  std::iota(g.chips.begin(), g.chips.end(), 0);
  g.shape = topology.shape();
  return g;
}

int rank_of(std::string_view protocol) {
  return protocol == "ll" ? 0 : protocol == "ll128" ? 1 : protocol == "simple" ? 2 : 3;
}

const char* const kGpuProfiles[] = {"h100-sxm", "h200-sxm", "a100-sxm-80gb"};

}  // namespace

TEST_CASE("protocol: the choice moves LL -> LL128 -> Simple as the size grows, never back",
          "[collectives][protocol]") {
  for (const char* name : kGpuProfiles) {
    INFO(name);
    const auto topology = make_topology(load_hardware(name), 8);
    const auto group = whole(topology, 8);
    for (auto op :
         {CollectiveOp::AllReduce, CollectiveOp::AllGather, CollectiveOp::ReduceScatter}) {
      int previous = -1;
      for (std::int64_t bytes = 1024; bytes <= (std::int64_t{16} << 30); bytes *= 2) {
        const auto schedule = find_collective_algorithm("ring", op).build(op, group, bytes, 1);
        const auto protocol = protocol_for(topology, schedule);
        CHECK(rank_of(protocol.name) <= 2);
        CHECK(rank_of(protocol.name) >= previous);
        previous = rank_of(protocol.name);
      }
      CHECK(previous == 2);  // 16 GiB goes Simple: full bandwidth wins once latency is negligible
    }
  }
  // A torus has no protocol: the hop latency and the achievable ICI rate are the whole cost.
  const auto torus = make_topology(load_hardware("tpu-v4"), 8);
  const auto schedule = find_collective_algorithm("ring", CollectiveOp::AllReduce)
                            .build(CollectiveOp::AllReduce, whole(torus, 8), 1 << 20, 1);
  CHECK(protocol_for(torus, schedule).name == "none");
}

TEST_CASE("protocol: the least predicted time, as NCCL's tuner picks", "[collectives][protocol]") {
  meshsim::CollectiveCostSpec costs;
  costs.has_protocols = true;
  costs.ll_step_latency_s = 1e-6;
  costs.ll128_step_latency_s = 2e-6;
  costs.simple_step_latency_s = 10e-6;
  const double b = 100e9;
  // 10 steps: LL costs 10 us + 2 x/B, LL128 20 us + 16/15 x/B, Simple 100 us + x/B.
  CHECK(choose_protocol(costs, {Pricing::PointToPoint, 10, 1000}, b).name == "ll");
  // LL = LL128 at x = 10 us * B / (2 - 16/15) = 1.07 MB; LL128 = Simple at x = 80 us * B * 15.
  CHECK(choose_protocol(costs, {Pricing::PointToPoint, 10, 2'000'000}, b).name == "ll128");
  CHECK(choose_protocol(costs, {Pricing::PointToPoint, 10, 200'000'000}, b).name == "simple");
  CHECK(choose_protocol(costs, {Pricing::PointToPoint, 10, 200'000'000}, b).wire_factor == 1.0);
  CHECK(choose_protocol(costs, {Pricing::PointToPoint, 10, 1000}, b).wire_factor == 2.0);
}

TEST_CASE("NVLS: ring below nvls_min_gpus (5), NVLS from 5 on NVSwitch profiles, never on A100",
          "[collectives][nvls]") {
  const auto op = CollectiveOp::AllReduce;
  const std::int64_t bytes = std::int64_t{8} << 30;  // nccl_allreduce_h200_gpus_8gib.csv
  for (const char* name : {"h100-sxm", "h200-sxm"}) {
    INFO(name);
    const auto profile = load_hardware(name);
    REQUIRE(profile.collectives.nvls_min_gpus == 5);
    for (int n = 2; n <= 8; ++n) {
      const auto topology = make_topology(profile, n);
      const auto group = whole(topology, n);
      CHECK(nvls_applies(topology, group) == (n >= 5));
      CHECK(default_collective_algorithm(op, topology, group, bytes) == (n >= 5 ? "nvls" : "ring"));
    }
    // Across nodes NVLS (single-node NVLink SHARP) does not apply: hierarchical.
    const auto two_nodes = make_topology(profile, 16);
    CHECK(default_collective_algorithm(op, two_nodes, whole(two_nodes, 16), bytes) ==
          "hierarchical");
    // Small messages: ring with LL/LL128 beats NVLS's latency (NCCL logs ring/LL up to 1 MiB).
    const auto node = make_topology(profile, 8);
    CHECK(default_collective_algorithm(op, node, whole(node, 8), 32 * 1024) == "ring");
  }
  const auto a100 = load_hardware("a100-sxm-80gb");
  const auto topology = make_topology(a100, 8);
  CHECK_FALSE(nvls_applies(topology, whole(topology, 8)));
  CHECK(default_collective_algorithm(op, topology, whole(topology, 8), bytes) == "ring");
}

TEST_CASE("closed forms equal the simulation with protocols, NVLS and efficiencies",
          "[collectives][protocol]") {
  for (const char* name : kGpuProfiles) {
    const auto profile = load_hardware(name);
    const auto topology = make_topology(profile, 8);
    const auto group = whole(topology, 8);
    for (std::int64_t bytes : {std::int64_t{4096}, std::int64_t{3} << 20, std::int64_t{1} << 30}) {
      for (const char* algorithm : {"ring", "nvls"}) {
        const auto op = CollectiveOp::AllReduce;
        if (std::string(algorithm) == "nvls" && !nvls_applies(topology, group)) {
          continue;
        }
        INFO(name << " " << algorithm << " " << bytes);
        const auto& a = find_collective_algorithm(algorithm, op);
        const auto closed = a.closed_form_s(op, group, topology, bytes, 1);
        REQUIRE(closed.has_value());
        const auto result = run_collective(topology, a.build(op, group, bytes, 1));
        // Within 1 ns: the executor rounds each message's wire bytes up to a whole byte.
        CHECK(result.time_s == Approx(*closed).margin(1e-9));
      }
    }
  }
}

TEST_CASE("no collective beats the physical lower bound of its links' line rate",
          "[collectives][protocol]") {
  // Every member must send at least (n-1)/n of its buffer for any of these ops, and all-to-all,
  // all-gather and reduce-scatter carry exactly that over its one NVLink up-link; NVLS sends the
  // whole buffer. Line rate, not the achievable rate: the bound is physics, not calibration.
  for (const char* name : kGpuProfiles) {
    const auto profile = load_hardware(name);
    for (int n : {4, 8, 16}) {
      const auto topology = make_topology(profile, n);
      const auto group = whole(topology, n);
      const double line = profile.gpu.nvlink_bandwidth_bytes_per_s;
      const double nic_line = profile.gpu.nic_bandwidth_bytes_per_s;
      for (std::int64_t bytes :
           {std::int64_t{1} << 10, std::int64_t{1} << 20, std::int64_t{1} << 28}) {
        for (const auto& a : collective_algorithms()) {
          for (auto op : {CollectiveOp::AllReduce, CollectiveOp::AllGather,
                          CollectiveOp::ReduceScatter, CollectiveOp::AllToAll}) {
            if (!a.supports(op) || (a.name == "nvls" && !nvls_applies(topology, group))) {
              continue;
            }
            INFO(name << " " << a.name << " " << to_string(op) << " n=" << n << " " << bytes);
            const auto result = run_collective(topology, a.build(op, group, bytes, 1));
            const double share = static_cast<double>(bytes) * (n - 1) / n;
            double bound = share / line;
            if (n > 8 && op != CollectiveOp::AllToAll) {
              // Across nodes, each GPU's NIC carries (nodes-1)/nodes of its 1/8 of the buffer.
              const double nodes = n / 8.0;
              bound =
                  std::max(bound, static_cast<double>(bytes) / 8 * (nodes - 1) / nodes / nic_line);
            }
            CHECK(result.time_s >= bound);
            CHECK(result.min_slack_ps >= 0);
          }
        }
      }
    }
  }
}

TEST_CASE("hierarchical: slices pipeline the intra- and inter-node phases", "[collectives]") {
  const auto profile = load_hardware("a100-sxm-80gb");
  const int n = 32;  // 4 DGX A100 nodes
  const auto topology = make_topology(profile, n);
  const auto group = whole(topology, n);
  const auto op = CollectiveOp::AllReduce;
  const std::int64_t bytes = std::int64_t{1} << 30;
  const auto plan = plan_ring(RingAlgorithm::Hierarchical, op, group, bytes, 1);
  REQUIRE(plan.slices.size() == static_cast<std::size_t>(kMaxHierarchicalSlices));
  RingPlan serial;
  serial.slices.push_back(plan_ring_phases(RingAlgorithm::Hierarchical, op, group, bytes, 1));
  const auto pipelined_schedule = build_ring_plan(group, plan);
  const auto phased_schedule = build_ring_plan(group, serial);
  const auto pipelined = run_collective(topology, pipelined_schedule);
  const auto phased = run_collective(topology, phased_schedule);
  // The same payload on every link class, less time: the phases overlap. (The sliced plan has
  // more steps on its critical path, so its protocol may differ: compare bytes net of the wire
  // factor, each message rounded up to whole bytes.)
  const double wire_pipelined = protocol_for(topology, pipelined_schedule).wire_factor;
  const double wire_phased = protocol_for(topology, phased_schedule).wire_factor;
  for (std::size_t c = 0; c < pipelined.bytes_per_link_class.size(); ++c) {
    CHECK(static_cast<double>(pipelined.bytes_per_link_class[c]) / wire_pipelined ==
          Approx(static_cast<double>(phased.bytes_per_link_class[c]) / wire_phased).epsilon(1e-6));
  }
  CHECK(pipelined.time_s < 0.8 * phased.time_s);
  // The serial plan has a closed form (phases add up) and meets it; the sliced one has none.
  const auto closed = ring_plan_closed_form_s(topology, group, serial);
  REQUIRE(closed.has_value());
  CHECK(phased.time_s == Approx(*closed).epsilon(1e-6));
  CHECK_FALSE(ring_plan_closed_form_s(topology, group, plan).has_value());
  // Published: DGX A100 multi-node all-reduce busbw 192 GB/s (allreduce_dgx_a100_multinode in
  // cuda_validation/published/kernels_and_links.csv), large messages: within 10%.
  const double busbw = static_cast<double>(bytes) / pipelined.time_s * 2 * (n - 1) / n;
  CHECK(busbw == Approx(192e9).epsilon(0.10));
}

TEST_CASE("published NVLink figures: ring all-reduce busbw of 8 H200 / H100 at large sizes",
          "[collectives][protocol]") {
  // ring_allreduce_16gib_8xh200 = 367.61 GB/s (kernels_and_links.csv); H100 shares NVLink 4.
  for (const char* name : {"h200-sxm", "h100-sxm"}) {
    const auto topology = make_topology(load_hardware(name), 8);
    const std::int64_t bytes = std::int64_t{16} << 30;
    const auto result =
        run_collective(topology, find_collective_algorithm("ring", CollectiveOp::AllReduce)
                                     .build(CollectiveOp::AllReduce, whole(topology, 8), bytes, 1));
    CHECK(static_cast<double>(bytes) / result.time_s * 14 / 8 == Approx(367.61e9).epsilon(0.02));
  }
}

TEST_CASE("per-call overhead: charged once per call when asked, not link latency",
          "[collectives][protocol]") {
  const auto profile = load_hardware("h100-sxm");
  const auto topology = make_topology(profile, 8);
  const auto schedule = find_collective_algorithm("ring", CollectiveOp::AllGather)
                            .build(CollectiveOp::AllGather, whole(topology, 8), 1 << 20, 1);
  const auto plain = run_collective(topology, schedule, CallOverhead::Excluded);
  const auto charged = run_collective(topology, schedule, CallOverhead::Charged);
  CHECK(charged.time_s - plain.time_s == Approx(profile.collectives.call_overhead_s).epsilon(1e-6));
  CHECK(charged.bytes_per_link_class == plain.bytes_per_link_class);
}
