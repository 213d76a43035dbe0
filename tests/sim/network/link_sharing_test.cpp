#include "sim/network/link_sharing.hpp"

#include <catch2/catch.hpp>
#include <cstdint>
#include <vector>

using meshsim::engine::SimTime;
using namespace meshsim::network;

TEST_CASE("link sharing: uncontended cut-through = hop latencies + bytes / bottleneck",
          "[network]") {
  // A path of three links: 1e9, 0.5e9 and 1e9 B/s, 1000 ps each.
  std::vector<Link> links = {{0, 1, 1e9, 1000, LinkClass::Ici},
                             {1, 2, 0.5e9, 1000, LinkClass::Ici},
                             {2, 3, 1e9, 1000, LinkClass::Ici}};
  LinkSharing sharing(links);
  const std::int32_t path[] = {0, 1, 2};
  // 1000 bytes at the 0.5e9 B/s bottleneck: 2e-6 s = 2,000,000 ps.
  const auto arrival = sharing.transmit(path, 3, 1000, SimTime::from_ps(500));
  CHECK(arrival.ps() == 500 + 3 * 1000 + 2000000);
  for (std::int32_t l = 0; l < 3; ++l) {
    CHECK(sharing.bytes_carried(l) == 1000);
    CHECK(sharing.busy_time(l).ps() == 2000000);  // each link held at the bottleneck rate
  }
}

TEST_CASE("link sharing: messages on one link direction are served FIFO", "[network]") {
  std::vector<Link> links = {{0, 1, 1e9, 100, LinkClass::Ici}, {1, 0, 1e9, 100, LinkClass::Ici}};
  LinkSharing sharing(links);
  const std::int32_t forward[] = {0};
  const std::int32_t backward[] = {1};
  const auto a = sharing.transmit(forward, 1, 1000, SimTime::zero());   // 1e6 ps on the wire
  const auto b = sharing.transmit(forward, 1, 1000, SimTime::zero());   // waits for a
  const auto c = sharing.transmit(backward, 1, 1000, SimTime::zero());  // other direction: free
  CHECK(a.ps() == 100 + 1000000);
  CHECK(b.ps() == 1000000 + 100 + 1000000);
  CHECK(c.ps() == a.ps());
  // The link never carries more than its bandwidth: 2000 bytes took 2e-6 s on a 1e9 B/s link.
  CHECK(sharing.busy_time(0).ps() == 2000000);
}
