#include "sim/engine/serial_resource.hpp"

#include <catch2/catch.hpp>

using meshsim::engine::SerialResource;
using meshsim::engine::SimTime;

TEST_CASE("serial resource: FIFO service, no overlap, idle gaps kept", "[engine]") {
  SerialResource r;
  const auto a = r.acquire(SimTime::from_ps(0), SimTime::from_ps(10));
  const auto b = r.acquire(SimTime::from_ps(3), SimTime::from_ps(5));   // waits for a
  const auto c = r.acquire(SimTime::from_ps(40), SimTime::from_ps(1));  // resource idle: starts now
  CHECK(a.start.ps() == 0);
  CHECK(a.end.ps() == 10);
  CHECK(b.start.ps() == 10);
  CHECK(b.end.ps() == 15);
  CHECK(c.start.ps() == 40);
  CHECK(c.end.ps() == 41);
  CHECK(r.busy_time().ps() == 16);
  CHECK(r.free_at().ps() == 41);
}
