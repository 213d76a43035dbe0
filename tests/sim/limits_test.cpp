// sim/limits: the simulation limits, and the transfer counts they are checked against, which
// must equal what the schedule builders make (computed without building).
#include "sim/limits.hpp"

#include <catch2/catch.hpp>
#include <functional>
#include <numeric>
#include <string>

#include "sim/collectives/registry.hpp"

using namespace meshsim;
using namespace meshsim::collectives;

namespace {

Group mesh_group(std::vector<int> shape) {
  Group group;
  const int p = std::accumulate(shape.begin(), shape.end(), 1, std::multiplies<int>());
  group.chips.resize(static_cast<std::size_t>(p));
  std::iota(group.chips.begin(), group.chips.end(), 0);
  group.shape = std::move(shape);
  return group;
}

std::string message_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const InputError& e) {
    return e.what();
  }
  return "(accepted)";
}

}  // namespace

TEST_CASE("limits: every algorithm counts exactly the transfers it builds", "[hardening]") {
  for (const auto& shape : {std::vector<int>{2}, {5}, {8}, {4, 4}, {8, 2}, {3, 2, 4}}) {
    const Group group = mesh_group(shape);
    for (const auto& algorithm : collective_algorithms()) {
      for (auto op : {CollectiveOp::AllGather, CollectiveOp::ReduceScatter, CollectiveOp::AllReduce,
                      CollectiveOp::AllToAll}) {
        if (!algorithm.supports(op))
          continue;
        for (int chunks : {1, 3, 16}) {
          INFO(algorithm.name << " " << to_string(op) << " p=" << group.size()
                              << " chunks=" << chunks);
          const auto built = algorithm.build(op, group, 1 << 20, chunks).size();
          CHECK(algorithm.transfer_count(op, group, 1 << 20, chunks) == built);
        }
      }
    }
  }
}

TEST_CASE("limits: the 8192-chip ring all-reduce passes, a chunked 4096 one does not",
          "[hardening]") {
  const auto& ring = find_collective_algorithm("ring", CollectiveOp::AllReduce);
  // 2 (p - 1) p transfers: 2(p-1) steps, p senders, one piece each (chunks <= p).
  const auto count = ring.transfer_count(CollectiveOp::AllReduce, mesh_group({8192}), 1 << 30, 64);
  CHECK(count == 2ull * 8191 * 8192);
  CHECK(message_of([&] {
          limits::check_schedule_size(count, 8192, "ring", {"--group", "", ""});
        }) == "(accepted)");
  // 65536 chunks on 4096 chips: 16 pieces per shard, 16 x 2 x 4095 x 4096 = 536,739,840.
  const auto chunked =
      ring.transfer_count(CollectiveOp::AllReduce, mesh_group({4096}), 1 << 30, 65536);
  CHECK(chunked == 16ull * 2 * 4095 * 4096);
  const std::string refused = message_of([&] {
    limits::check_schedule_size(chunked, 4096, "ring all-reduce", {"--group", "", ""});
  });
  CHECK_THAT(refused, Catch::Contains("--group") && Catch::Contains("536739840 transfers") &&
                          Catch::Contains("at most 200000000"));
}

TEST_CASE("limits: estimated memory and chip count", "[hardening]") {
  // 40 B per transfer plus 4 KiB per chip (sim/limits.hpp): 1.9e8 transfers on 2^20 chips is
  // 7.6e9 + 4.3e9 B, above 8 GiB although under the transfer limit.
  CHECK(limits::estimated_simulation_memory_bytes(190'000'000, 1 << 20) ==
        Approx(32.0 * 1024 * 1024 + 190e6 * 40 + 1048576.0 * 4096));
  // Transfers in flight at once cost their queued event too (112 B each in all, the radix heap's
  // measured 79.5-102.5 B with a margin, sim/limits.hpp).
  CHECK(limits::estimated_simulation_memory_bytes(1'000'000, 8, 1'000'000) ==
        Approx(32.0 * 1024 * 1024 + 1e6 * 112 + 8 * 4096.0));
  const std::string memory = message_of([] {
    limits::check_schedule_size(190'000'000, 1 << 20, "big run", {"--group", "", ""});
  });
  CHECK_THAT(memory, Catch::Contains("too much memory") && Catch::Contains("estimated"));
  CHECK(message_of([] {
          limits::check_simulated_chips(1 << 20, {"--group", "", ""});
        }) == "(accepted)");
  CHECK_THAT(message_of([] {
               limits::check_simulated_chips((1 << 20) + 1, {"--group", "", ""});
             }),
             Catch::Contains("1048577") && Catch::Contains("at most 1048576"));
}
