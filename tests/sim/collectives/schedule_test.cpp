#include "sim/collectives/schedule.hpp"

#include <catch2/catch.hpp>
#include <numeric>
#include <stdexcept>

#include "common/error.hpp"
#include "sim/collectives/registry.hpp"

using namespace meshsim::collectives;

TEST_CASE("schedule: dependencies must point backwards", "[collectives]") {
  Schedule s;
  const auto a = s.add(0, 1, 10, {});
  const auto b = s.add(1, 2, 10, {a});
  CHECK(b == 1);
  CHECK(s.dep_offsets == std::vector<std::uint32_t>{0, 0, 1});
  CHECK_THROWS_AS(s.add(2, 3, 10, {5}), std::logic_error);
  CHECK(s.total_bytes() == 20);
}

TEST_CASE("schedule: bytes each chip sends, per op (nccl-tests accounting)", "[collectives]") {
  const int p = 8;
  const std::int64_t bytes = 8 * 1000 * 3;
  std::vector<std::int32_t> chips(p);
  std::iota(chips.begin(), chips.end(), 100);  // ids need not start at 0
  const auto group = make_group(chips);
  for (const char* name : {"ring", "bidirectional-ring", "torus", "hierarchical"}) {
    for (int chunks : {1, 24}) {
      CAPTURE(name, chunks);
      // AG and RS: each chip sends (p-1)/p of the buffer; AR twice that.
      const auto ag = find_collective_algorithm(name, CollectiveOp::AllGather)
                          .build(CollectiveOp::AllGather, group, bytes, chunks);
      CHECK(ag.total_bytes() == p * (p - 1) * bytes / p);
      const auto rs = find_collective_algorithm(name, CollectiveOp::ReduceScatter)
                          .build(CollectiveOp::ReduceScatter, group, bytes, chunks);
      CHECK(rs.total_bytes() == p * (p - 1) * bytes / p);
      const auto ar = find_collective_algorithm(name, CollectiveOp::AllReduce)
                          .build(CollectiveOp::AllReduce, group, bytes, chunks);
      CHECK(ar.total_bytes() == 2 * p * (p - 1) * bytes / p);
      for (const auto& t : ar.transfers) {
        CHECK(t.src_chip >= 100);
        CHECK(t.dst_chip != t.src_chip);
      }
    }
  }
  // Ring AG with 1 piece per shard: p (p-1) transfers.
  CHECK(find_collective_algorithm("ring", CollectiveOp::AllGather)
            .build(CollectiveOp::AllGather, group, bytes, 1)
            .size() == p * (p - 1));
  for (const char* name : {"direct", "pairwise"}) {
    const auto a2a = find_collective_algorithm(name, CollectiveOp::AllToAll)
                         .build(CollectiveOp::AllToAll, group, bytes, 2);
    CHECK(a2a.total_bytes() == p * (p - 1) * bytes / p);
    CHECK(a2a.size() == 2 * p * (p - 1));
  }
}

TEST_CASE("registry: unknown algorithms and ops are input errors naming the choices",
          "[collectives]") {
  try {
    find_collective_algorithm("ringg", CollectiveOp::AllReduce);
    FAIL("no error");
  } catch (const meshsim::InputError& e) {
    CHECK(e.site().file == "--algorithm");
    CHECK(e.allowed() == "ring, bidirectional-ring, torus, hierarchical, nvls");
  }
  CHECK_THROWS_AS(find_collective_algorithm("ring", CollectiveOp::AllToAll), meshsim::InputError);
  CHECK_THROWS_AS(parse_collective_op("allgather"), meshsim::InputError);
  CHECK(parse_collective_op("all-to-all") == CollectiveOp::AllToAll);
}
