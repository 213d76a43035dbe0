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
