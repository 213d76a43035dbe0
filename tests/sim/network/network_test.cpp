#include "sim/network/network.hpp"

#include <catch2/catch.hpp>
#include <cstdint>
#include <vector>

using meshsim::engine::SimTime;
using meshsim::engine::Simulator;
using namespace meshsim::network;

namespace {
struct Arrivals {
  Simulator* sim;
  std::vector<std::int64_t> time_ps;
  void on_arrival(std::uint64_t) { time_ps.push_back(sim->now().ps()); }
};
}  // namespace

TEST_CASE("network: a message arrives after latency per hop plus bytes / bandwidth", "[network]") {
  Simulator sim;
  const auto ring = make_ring(8, 1e9, 1e-6);
  Network net(sim, ring);
  Arrivals arrivals{&sim, {}};
  // 0 -> 3 is three hops the + way.
  const auto t = net.send(
      0, 3, 4000, [](void* c, std::uint64_t a) { static_cast<Arrivals*>(c)->on_arrival(a); },
      &arrivals, 0);
  sim.run();
  REQUIRE(arrivals.time_ps.size() == 1);
  CHECK(arrivals.time_ps[0] == t.ps());
  CHECK(t.ps() == 3 * 1000000 + 4000000);
  const auto per_class = net.bytes_per_link_class();
  CHECK(per_class[static_cast<std::size_t>(LinkClass::Ici)] == 3 * 4000);
  CHECK(net.messages_sent() == 1);
}

TEST_CASE(
    "network: numbered routes send as send() does, long routes included; a link map "
    "renumbers them",
    "[network]") {
  // A 16-chip ring: routes of up to 8 hops, longer than the numbered table keeps inline.
  const auto ring = make_ring(16, 1e9, 1e-6);
  Simulator sim_a, sim_b;
  Network by_pair(sim_a, ring), by_number(sim_b, ring);
  Arrivals arrivals_a{&sim_a, {}}, arrivals_b{&sim_b, {}};
  auto on_a = [](void* c, std::uint64_t a) { static_cast<Arrivals*>(c)->on_arrival(a); };
  std::vector<std::int32_t> ids;
  // Every pair twice, so the links are contended and the second round reuses the numbers.
  for (int round = 0; round < 2; ++round) {
    for (std::int32_t s = 0; s < 16; ++s) {
      for (std::int32_t d = 0; d < 16; ++d) {
        const auto id = by_number.route_id(s, d);
        if (round == 0) {
          CHECK(id == static_cast<std::int32_t>(ids.size()));  // dense, in order of first use
          ids.push_back(id);
        } else {
          CHECK(id == ids[static_cast<std::size_t>(s * 16 + d)]);
        }
        SimTime floor_a, floor_b;
        const auto a = by_pair.send(s, d, 1000 + s, on_a, &arrivals_a, 0, &floor_a);
        const auto b = by_number.send_on(id, 1000 + s, on_a, &arrivals_b, 0, &floor_b);
        CHECK(a == b);
        CHECK(floor_a == floor_b);
      }
    }
  }
  sim_a.run();
  sim_b.run();
  CHECK(arrivals_a.time_ps == arrivals_b.time_ps);
  for (std::size_t l = 0; l < ring.links().size(); ++l)
    CHECK(by_pair.link_bytes(static_cast<std::int32_t>(l)) ==
          by_number.link_bytes(static_cast<std::int32_t>(l)));

  // A link map gives the routes a new epoch (unique among networks) and new numbers.
  const auto epoch = by_number.route_epoch();
  CHECK(epoch != by_pair.route_epoch());
  std::vector<std::int32_t> onto_zero(ring.links().size(), 0);
  by_number.set_link_map(onto_zero);
  CHECK(by_number.route_epoch() != epoch);
  CHECK(by_number.route_id(3, 0) == 0);
  const auto before = by_number.link_bytes(0);
  by_number.send_on(0, 500, on_a, &arrivals_b, 0);
  CHECK(by_number.link_bytes(0) - before == 3 * 500);  // 3 hops, each mapped onto link 0
}
