#include "sim/collectives/ring_phases.hpp"

#include <catch2/catch.hpp>
#include <cstdint>
#include <numeric>
#include <vector>

#include "sim/collectives/executor.hpp"
#include "sim/collectives/registry.hpp"

using namespace meshsim::collectives;
using meshsim::network::make_ring;
using meshsim::network::make_torus;

namespace {
constexpr double kBandwidth = 4.5e10;  // TPU v4 ICI, one direction (docs/HARDWARE.md)
constexpr double kLatency = 1e-6;

Group iota_group(int p) {
  std::vector<std::int32_t> chips(static_cast<std::size_t>(p));
  std::iota(chips.begin(), chips.end(), 0);
  return make_group(chips);
}

double simulate(const meshsim::network::Topology& topology, const char* algorithm, CollectiveOp op,
                const Group& group, std::int64_t bytes, int chunks = 1) {
  const auto schedule = find_collective_algorithm(algorithm, op).build(op, group, bytes, chunks);
  return run_collective(topology, schedule).time_s;
}
}  // namespace

TEST_CASE("ring collectives match the closed forms on p = 2..1024", "[collectives]") {
  // DESIGN §4: ring AG / RS take (p-1)/p * S/B + (p-1) a without contention; AR twice that.
  const std::int64_t bytes = std::int64_t{1} << 30;
  for (int p : {2, 3, 4, 7, 8, 33, 64, 256, 1024}) {
    const auto ring = make_ring(p, kBandwidth, kLatency);
    const auto group = iota_group(p);
    const double one_pass =
        (p - 1.0) / p * static_cast<double>(bytes) / kBandwidth + (p - 1) * kLatency;
    CAPTURE(p);
    CHECK(simulate(ring, "ring", CollectiveOp::AllGather, group, bytes) ==
          Approx(one_pass).epsilon(0.01));
    CHECK(simulate(ring, "ring", CollectiveOp::ReduceScatter, group, bytes) ==
          Approx(one_pass).epsilon(0.01));
    if (p <= 256) {
      CHECK(simulate(ring, "ring", CollectiveOp::AllReduce, group, bytes) ==
            Approx(2 * one_pass).epsilon(0.01));
    }
    if (p >= 3) {
      // Bidirectional ring: half the bytes each way, so half the bandwidth term.
      const double bidirectional =
          (p - 1.0) / p * static_cast<double>(bytes) / (2 * kBandwidth) + (p - 1) * kLatency;
      CHECK(simulate(ring, "bidirectional-ring", CollectiveOp::AllGather, group, bytes) ==
            Approx(bidirectional).epsilon(0.01));
    }
  }
  // The 1024-chip all-reduce once (2 x 1023 x 1024 transfers).
  const auto ring = make_ring(1024, kBandwidth, kLatency);
  const double one_pass = 1023.0 / 1024 * static_cast<double>(bytes) / kBandwidth + 1023 * kLatency;
  CHECK(simulate(ring, "ring", CollectiveOp::AllReduce, iota_group(1024), bytes) ==
        Approx(2 * one_pass).epsilon(0.01));
}

TEST_CASE("the closed form the CLI prints agrees with the textbook one", "[collectives]") {
  const std::int64_t bytes = std::int64_t{1} << 30;
  const auto ring = make_ring(16, kBandwidth, kLatency);
  const auto group = iota_group(16);
  const auto& algorithm = find_collective_algorithm("ring", CollectiveOp::AllReduce);
  const auto closed = algorithm.closed_form_s(CollectiveOp::AllReduce, group, ring, bytes, 1);
  REQUIRE(closed.has_value());
  CHECK(*closed ==
        Approx(2 * (15.0 / 16 * static_cast<double>(bytes) / kBandwidth + 15 * kLatency)));
  // Pipelined: latency-bound or bandwidth-bound, the simulation follows the two-regime formula.
  for (int chunks : {16, 64, 1024}) {
    const auto pipelined =
        algorithm.closed_form_s(CollectiveOp::AllReduce, group, ring, bytes, chunks);
    REQUIRE(pipelined.has_value());
    CHECK(simulate(ring, "ring", CollectiveOp::AllReduce, group, bytes, chunks) ==
          Approx(*pipelined).epsilon(0.01));
    if (chunks > 16) {
      CHECK(*pipelined < *closed);  // more pieces than shards: pipelining hides latency
    } else {
      CHECK(*pipelined == *closed);  // 16 chunks on 16 chips: one piece per shard, no pipelining
    }
  }
  // Tiny message, many chunks: the latency-bound regime.
  const auto tiny = algorithm.closed_form_s(CollectiveOp::AllGather, group, ring, 4096, 256);
  REQUIRE(tiny.has_value());
  CHECK(simulate(ring, "ring", CollectiveOp::AllGather, group, 4096, 256) ==
        Approx(*tiny).epsilon(0.01));
}

TEST_CASE("torus algorithm: one bidirectional ring per dimension", "[collectives]") {
  const std::int64_t bytes = std::int64_t{1} << 28;
  const auto torus = make_torus({4, 4, 4}, {true, true, true}, kBandwidth, kLatency);
  Group group = iota_group(64);
  group.shape = {4, 4, 4};
  // AG over dims 2, 1, 0: dim d's rings gather a buffer of S / prod_{e<d} n_e.
  double expected = 0;
  for (double buffer : {static_cast<double>(bytes) / 16, static_cast<double>(bytes) / 4,
                        static_cast<double>(bytes)}) {
    expected += 3.0 / 4 * buffer / (2 * kBandwidth) + 3 * kLatency;
  }
  CHECK(simulate(torus, "torus", CollectiveOp::AllGather, group, bytes) ==
        Approx(expected).epsilon(0.01));
  CHECK(simulate(torus, "torus", CollectiveOp::ReduceScatter, group, bytes) ==
        Approx(expected).epsilon(0.01));
  const auto closed = find_collective_algorithm("torus", CollectiveOp::AllReduce)
                          .closed_form_s(CollectiveOp::AllReduce, group, torus, bytes, 1);
  REQUIRE(closed.has_value());
  CHECK(*closed == Approx(2 * expected).epsilon(1e-9));
  CHECK(simulate(torus, "torus", CollectiveOp::AllReduce, group, bytes) ==
        Approx(2 * expected).epsilon(0.01));
  // The snake ring over the whole torus uses 1-hop edges only: the 1-D closed form holds.
  const double ring = 63.0 / 64 * static_cast<double>(bytes) / kBandwidth + 63 * kLatency;
  CHECK(simulate(torus, "ring", CollectiveOp::AllGather, group, bytes) ==
        Approx(ring).epsilon(0.01));
}

TEST_CASE("snake order visits every member once, neighbours one step apart", "[collectives]") {
  const std::vector<int> shape{4, 3, 2};
  const auto order = snake_order(shape);
  REQUIRE(order.size() == 24);
  std::vector<int> sorted = order;
  std::sort(sorted.begin(), sorted.end());
  for (int i = 0; i < 24; ++i) {
    CHECK(sorted[static_cast<std::size_t>(i)] == i);
  }
  auto coords = [&](int index) { return std::vector<int>{index % 4, (index / 4) % 3, index / 12}; };
  for (std::size_t i = 1; i < order.size(); ++i) {
    const auto a = coords(order[i - 1]), b = coords(order[i]);
    int distance = 0;
    for (int d = 0; d < 3; ++d) {
      distance += std::abs(a[static_cast<std::size_t>(d)] - b[static_cast<std::size_t>(d)]);
    }
    CHECK(distance == 1);
  }
}

TEST_CASE("pieces per shard: the buffer is cut into at least `chunks` pieces", "[collectives]") {
  CHECK(pieces_per_shard(64, 1024) == 1);
  CHECK(pieces_per_shard(64, 8) == 8);
  CHECK(pieces_per_shard(64, 7) == 10);
  CHECK(pieces_per_shard(1, 2) == 1);
}
