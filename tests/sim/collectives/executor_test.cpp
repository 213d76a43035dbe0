#include "sim/collectives/executor.hpp"

#include <catch2/catch.hpp>
#include <cstdint>
#include <numeric>
#include <vector>

#include "sim/collectives/registry.hpp"
#include "tests/sim/network/small_cluster.hpp"

using namespace meshsim::collectives;
using meshsim::engine::SimTime;
using meshsim::engine::Simulator;
using namespace meshsim::network;

namespace {
struct Completion {
  std::vector<std::uint64_t> order;
  std::vector<double> times_s;
  Simulator* sim = nullptr;
};
void record(void* context, std::uint64_t id) {
  auto* c = static_cast<Completion*>(context);
  c->order.push_back(id);
  c->times_s.push_back(c->sim->now().seconds());
}
Schedule ring_all_gather(std::vector<std::int32_t> chips, std::int64_t bytes) {
  return find_collective_algorithm("ring", CollectiveOp::AllGather)
      .build(CollectiveOp::AllGather, make_group(std::move(chips)), bytes, 1);
}
}  // namespace

TEST_CASE("contention: two mesh axes sharing a link follow the FIFO sharing rule",
          "[collectives]") {
  // A 2x2 logical mesh on a 4-chip ring: model axis {0,1} (neighbours), data axis {0,2} (two hops,
  // routed 0->1->2 and 2->3->0). The data axis's 0->2 message shares link 0->1 with the model
  // axis's 0->1 message.
  const double bandwidth = 1e9, latency = 1e-6;
  const std::int64_t bytes = 2000000;  // each of the two members sends 1 MB: d = 1 ms on a link
  const double d = 1e-3, a = latency;
  const auto ring = make_ring(4, bandwidth, latency);
  const auto model = ring_all_gather({0, 1}, bytes);
  const auto data = ring_all_gather({0, 2}, bytes);
  // Alone: model d + a, data d + 2a.
  CHECK(run_collective(ring, model).time_s == Approx(d + a));
  CHECK(run_collective(ring, data).time_s == Approx(d + 2 * a));
  for (bool model_first : {true, false}) {
    Simulator sim;
    Network network(sim, ring);
    Completion done;
    done.sim = &sim;
    CollectiveRun model_run(network, model, record, &done, 0);
    CollectiveRun data_run(network, data, record, &done, 1);
    if (model_first) {
      model_run.start();
      data_run.start();
    } else {
      data_run.start();
      model_run.start();
    }
    sim.run();
    REQUIRE(done.order.size() == 2);
    // FIFO in issue order on link 0->1: the first one issued goes at full speed, the second waits
    // for it. Rule's prediction: first = its solo time, second = d (waiting) + its solo time.
    if (model_first) {
      CHECK((model_run.end_time() - model_run.start_time()).seconds() == Approx(d + a));
      CHECK((data_run.end_time() - data_run.start_time()).seconds() == Approx(2 * d + 2 * a));
    } else {
      CHECK((data_run.end_time() - data_run.start_time()).seconds() == Approx(d + 2 * a));
      // The model message enters link 0->1 when the data message leaves it (d), then d + a.
      CHECK((model_run.end_time() - model_run.start_time()).seconds() == Approx(2 * d + a));
    }
    // The shared link carried both messages and was busy exactly their serialization times.
    std::vector<std::int32_t> path;
    ring.route(0, 1, path);
    CHECK(network.link_busy_time(path[0]).seconds() == Approx(2 * d));
    CHECK(network.link_bytes(path[0]) == bytes);
    CHECK(done.times_s[0] <= done.times_s[1]);  // completion callbacks in time order
  }
}

TEST_CASE("invariants: bytes conserved, no transfer beats its links", "[collectives]") {
  const auto gpu = meshsim::testing::small_cluster(64);  // 64-node leaves: one leaf
  const auto cluster = make_gpu_cluster(gpu, 32);
  const auto torus = make_torus({4, 4}, {true, true}, 4.5e10, 1e-6);
  for (const Topology* topology : {&cluster, &torus}) {
    Group group;
    group.chips.resize(static_cast<std::size_t>(topology->chip_count()));
    std::iota(group.chips.begin(), group.chips.end(), 0);
    group.shape = topology->shape();
    for (const auto& algorithm : collective_algorithms()) {
      for (auto op : {CollectiveOp::AllGather, CollectiveOp::ReduceScatter, CollectiveOp::AllReduce,
                      CollectiveOp::AllToAll}) {
        if (!algorithm.supports(op)) {
          continue;
        }
        CAPTURE(topology->description(), algorithm.name, to_string(op));
        const auto schedule = algorithm.build(op, group, 1 << 24, 4);
        const auto result = run_collective(*topology, schedule);
        CHECK(result.bytes_sent == schedule.total_bytes());
        CHECK(result.bytes_delivered == result.bytes_sent);
        CHECK(result.min_slack_ps >= 0);
        // Bytes over links = bytes x hops of each transfer.
        std::int64_t link_bytes = 0;
        std::vector<std::int32_t> path;
        for (const auto& t : schedule.transfers) {
          topology->route(t.src_chip, t.dst_chip, path);
          link_bytes += t.bytes * static_cast<std::int64_t>(path.size());
        }
        std::int64_t counted = 0;
        for (auto b : result.bytes_per_link_class) {
          counted += b;
        }
        CHECK(counted == link_bytes);
        // Physical lower bound: the busiest link needed at least its bytes / bandwidth.
        CHECK(result.time_s >= static_cast<double>(result.max_link_bytes) / 450e9);
      }
    }
  }
}

TEST_CASE("hierarchical all-reduce puts 2(n-1)/n of S/g on each NIC", "[collectives]") {
  const auto gpu = meshsim::testing::small_cluster(64);  // 64-node leaves: one leaf
  const int nodes = 4;
  const auto cluster = make_gpu_cluster(gpu, 8 * nodes);
  Group group;
  group.chips.resize(32);
  std::iota(group.chips.begin(), group.chips.end(), 0);
  group.shape = cluster.shape();
  const std::int64_t bytes = std::int64_t{1} << 30;
  const auto schedule = find_collective_algorithm("hierarchical", CollectiveOp::AllReduce)
                            .build(CollectiveOp::AllReduce, group, bytes, 1);
  const auto result = run_collective(cluster, schedule);
  // Each GPU's NIC sends (and receives) 2 (n-1)/n x S/g; the up and down links both count.
  const double per_nic = 2.0 * (nodes - 1) / nodes * static_cast<double>(bytes) / 8;
  CHECK(
      static_cast<double>(result.bytes_per_link_class[static_cast<std::size_t>(LinkClass::Nic)]) ==
      Approx(2 * 32 * per_nic));
  CHECK(result.bytes_per_link_class[static_cast<std::size_t>(LinkClass::LeafSpine)] ==
        0);  // one leaf
  // NIC-bound: at least per_nic / NIC bandwidth.
  CHECK(result.time_s > per_nic / 50e9);
}

TEST_CASE("determinism: the same run twice gives the same result", "[collectives]") {
  const auto torus = make_torus({4, 4}, {true, true}, 4.5e10, 1e-6);
  Group group;
  group.chips.resize(16);
  std::iota(group.chips.begin(), group.chips.end(), 0);
  group.shape = {4, 4};
  const auto schedule = find_collective_algorithm("direct", CollectiveOp::AllToAll)
                            .build(CollectiveOp::AllToAll, group, 1 << 20, 3);
  const auto a = run_collective(torus, schedule);
  const auto b = run_collective(torus, schedule);
  CHECK(a.time_s == b.time_s);
  CHECK(a.bytes_per_link_class == b.bytes_per_link_class);
  CHECK(a.events == b.events);
}

TEST_CASE("schedule index: dependency counts, roots, dependents and sole dependencies",
          "[collectives]") {
  // 0 and 1 wait for nothing; 2 waits for 0; 3 waits for 0 and 1; 4 waits for 2.
  Schedule s;
  s.add(0, 1, 8, {});
  s.add(1, 2, 8, {});
  s.add_after(1, 2, 8, 0);
  s.add(2, 3, 8, {0, 1});
  s.add_after(3, 0, 8, 2);
  const auto index = index_schedule(s);
  CHECK(index.waiting == std::vector<std::uint32_t>{0, 0, 1, 2, 1});
  CHECK(index.roots == std::vector<std::uint32_t>{0, 1});
  const auto sole = ScheduleIndex::kSole;
  auto dependents = [&](std::uint32_t t) {
    return std::vector<std::uint32_t>(index.dependents.begin() + index.dependent_offsets[t],
                                      index.dependents.begin() + index.dependent_offsets[t + 1]);
  };
  // 2 and 4 have one dependency each (marked sole: issued on arrival without counting); 3 two.
  CHECK(dependents(0) == std::vector<std::uint32_t>{2 | sole, 3});
  CHECK(dependents(1) == std::vector<std::uint32_t>{3});
  CHECK(dependents(2) == std::vector<std::uint32_t>{4 | sole});
  CHECK(dependents(3).empty());
  CHECK(dependents(4).empty());
}

TEST_CASE("schedule index: route numbers kept across runs and networks change no result",
          "[collectives]") {
  // One index runs the schedule on a network, again on another, on a second network while a run
  // on the first is in flight (that run looks its routes up by pair), and on a network whose link
  // map changed; every run equals a run with an index of its own on a fresh network.
  const auto ring = make_ring(12, 1e9, 1e-6);
  std::vector<std::int32_t> chips(12);
  std::iota(chips.begin(), chips.end(), 0);
  const auto schedule = ring_all_gather(chips, 12 * 4096);
  struct Outcome {
    std::int64_t end_ps;
    std::int64_t slack;
    std::vector<std::int64_t> link_bytes;
  };
  auto outcome = [&](Network& net, const CollectiveRun& run, const Outcome* before = nullptr) {
    Outcome o{run.end_time().ps() - run.start_time().ps(), run.min_slack_ps(), {}};
    for (std::size_t l = 0; l < ring.links().size(); ++l)
      o.link_bytes.push_back(net.link_bytes(static_cast<std::int32_t>(l)) -
                             (before != nullptr ? before->link_bytes[l] : 0));
    return o;
  };
  auto alone = [&](const std::vector<std::int32_t>& map) {
    Simulator sim;
    Network net(sim, ring);
    if (!map.empty())
      net.set_link_map(map);
    CollectiveRun run(net, schedule);
    run.start();
    sim.run();
    return outcome(net, run);
  };
  auto same = [](const Outcome& a, const Outcome& b) {
    CHECK(a.end_ps == b.end_ps);
    CHECK(a.slack == b.slack);
    CHECK(a.link_bytes == b.link_bytes);
  };
  const auto reference = alone({});
  ScheduleIndex index = index_schedule(schedule);
  for (int again = 0; again < 2; ++again) {
    Simulator sim;
    Network net(sim, ring);
    CollectiveRun run(net, schedule, index);
    run.start();
    CHECK(index.network == &net);  // nothing in flight: this network takes the numbers
    sim.run();
    same(outcome(net, run), reference);
  }
  {
    Simulator sim_a, sim_b;
    Network net_a(sim_a, ring), net_b(sim_b, ring);
    CollectiveRun on_a(net_a, schedule, index);
    on_a.start();
    CollectiveRun on_b(net_b, schedule, index);
    on_b.start();
    CHECK(index.network == &net_a);  // in flight on net_a: net_b sends by pair
    sim_b.run();
    sim_a.run();
    same(outcome(net_b, on_b), reference);
    same(outcome(net_a, on_a), reference);
  }
  // Every link onto another (reversed numbering): the routes change, so must their numbers.
  std::vector<std::int32_t> map(ring.links().size());
  for (std::size_t l = 0; l < map.size(); ++l)
    map[l] = static_cast<std::int32_t>(map.size() - 1 - l);
  const auto mapped_reference = alone(map);
  Simulator sim;
  Network net(sim, ring);
  {
    CollectiveRun run(net, schedule, index);
    run.start();
    sim.run();
  }
  const auto epoch = index.route_epoch;
  Outcome before{0, 0, {}};
  for (std::size_t l = 0; l < ring.links().size(); ++l)
    before.link_bytes.push_back(net.link_bytes(static_cast<std::int32_t>(l)));
  net.set_link_map(map);
  CollectiveRun run(net, schedule, index);
  run.start();
  CHECK(index.route_epoch != epoch);
  sim.run();
  same(outcome(net, run, &before), mapped_reference);
}
