#include "sim/engine/simulator.hpp"

#include <algorithm>
#include <catch2/catch.hpp>
#include <cstdint>
#include <stdexcept>
#include <utility>
#include <vector>

using meshsim::engine::SimTime;
using meshsim::engine::Simulator;

namespace {
struct Recorder {
  Simulator* sim = nullptr;
  std::vector<std::uint64_t> order;
  std::vector<std::int64_t> times_ps;
  void record(std::uint64_t id) {
    order.push_back(id);
    times_ps.push_back(sim->now().ps());
  }
};
}  // namespace

TEST_CASE("engine: events run in time order, ties in insertion order", "[engine]") {
  Simulator sim;
  Recorder rec;
  rec.sim = &sim;
  // Scheduled out of time order, with ties at t = 5 ps.
  sim.schedule_member_at<&Recorder::record>(SimTime::from_ps(10), &rec, 0);
  sim.schedule_member_at<&Recorder::record>(SimTime::from_ps(5), &rec, 1);
  sim.schedule_member_at<&Recorder::record>(SimTime::from_ps(5), &rec, 2);
  sim.schedule_member_at<&Recorder::record>(SimTime::from_ps(1), &rec, 3);
  sim.schedule_member_at<&Recorder::record>(SimTime::from_ps(5), &rec, 4);
  CHECK(sim.run() == 5);
  CHECK(rec.order == std::vector<std::uint64_t>{3, 1, 2, 4, 0});
  CHECK(rec.times_ps == std::vector<std::int64_t>{1, 5, 5, 5, 10});
  CHECK(sim.now().ps() == 10);
}

TEST_CASE("engine: time never goes backwards over a random load", "[engine]") {
  Simulator sim;
  struct Load {
    Simulator* sim;
    std::uint64_t rng = 12345;
    std::int64_t last_ps = 0;
    bool monotonic = true;
    int remaining = 20000;
    void fire(std::uint64_t) {
      monotonic = monotonic && sim->now().ps() >= last_ps;
      last_ps = sim->now().ps();
      if (remaining-- > 0) {
        rng = rng * 6364136223846793005ULL + 1442695040888963407ULL;
        sim->schedule_member_at<&Load::fire>(sim->now() + SimTime::from_ps((rng >> 40) % 1000),
                                             this, 0);
      }
    }
  } load{&sim};
  for (int i = 0; i < 64; ++i) {
    sim.schedule_member_at<&Load::fire>(SimTime::from_ps(i), &load, 0);
  }
  const auto ran = sim.run();
  CHECK(ran == 64 + 20000);  // 64 seeds, then one re-schedule per remaining count
  CHECK(load.monotonic);
  CHECK(sim.empty());
}

TEST_CASE("engine: events run in (time, insertion) order over a random load with many ties",
          "[engine]") {
  // Every event schedules up to two more at coarse delays (many equal times, slots of finished
  // events reused); the order run must be the reference order: sorted by (time, id), ids given in
  // scheduling order.
  Simulator sim;
  struct Load {
    Simulator* sim;
    std::uint64_t rng = 99;
    std::uint64_t next_id = 0;
    std::vector<std::pair<std::int64_t, std::uint64_t>> scheduled, ran;
    int budget = 50000;
    void add(std::int64_t time_ps) {
      scheduled.push_back({time_ps, next_id});
      sim->schedule_member_at<&Load::fire>(SimTime::from_ps(time_ps), this, next_id++);
    }
    void fire(std::uint64_t id) {
      ran.push_back({sim->now().ps(), id});
      for (int i = 0; i < 2 && budget > 0; ++i, --budget) {
        rng = rng * 6364136223846793005ULL + 1442695040888963407ULL;
        if ((rng >> 60) < 11)
          add(sim->now().ps() + static_cast<std::int64_t>((rng >> 33) % 4) * 100);
      }
    }
  } load{&sim};
  for (int i = 0; i < 300; ++i)
    load.add(i % 5);
  sim.run();
  auto reference = load.scheduled;
  std::sort(reference.begin(), reference.end());
  CHECK(load.ran.size() > 10000);
  CHECK(load.ran == reference);
}

TEST_CASE("engine: inline callables and run(until)", "[engine]") {
  Simulator sim;
  int hits = 0;
  int* counter = &hits;
  sim.schedule_at(SimTime::from_ps(100), [counter] { *counter += 1; });
  sim.schedule_at(SimTime::from_ps(300), [counter] { *counter += 10; });
  CHECK(sim.run(SimTime::from_ps(200)) == 1);
  CHECK(hits == 1);
  CHECK(sim.pending() == 1);
  sim.run();
  CHECK(hits == 11);
  CHECK(sim.events_run() == 2);
}

TEST_CASE("engine: scheduling in the past is a logic error", "[engine]") {
  Simulator sim;
  sim.schedule_at(SimTime::from_ps(50), [] {});
  sim.run();
  CHECK_THROWS_AS(sim.schedule_at(SimTime::from_ps(10), [] {}), std::logic_error);
}

TEST_CASE("engine: seconds round-trip and serialization rounds up", "[engine]") {
  CHECK(SimTime::from_seconds(1e-6).ps() == 1000000);
  CHECK(SimTime::from_ps(2500000).seconds() == Approx(2.5e-6));
  // 1 byte at 3 B/s is 333333333333.33 ps: rounded up, never faster than the link.
  CHECK(meshsim::engine::serialization_time(1, 3.0).ps() == 333333333334);
  CHECK(meshsim::engine::serialization_time(45, 4.5e10).ps() == 1000);
}
