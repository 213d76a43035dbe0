#include "sim/engine/simulator.hpp"

#include <algorithm>
#include <catch2/catch.hpp>
#include <cstdint>
#include <functional>
#include <queue>
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
  } load{&sim, 99, 0, {}, {}, 50000};
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

// ---- The radix heap's hard cases, each checked against a reference queue ----------------------
// Every event gets an id in scheduling order; the reference is a std::priority_queue on
// (time, id). Each event that runs must be the reference's minimum at that moment, which checks
// both orders (time, then insertion) and that events scheduled while running land correctly.
namespace {
struct Checked {
  using Entry = std::pair<std::int64_t, std::uint64_t>;
  Simulator sim;
  std::priority_queue<Entry, std::vector<Entry>, std::greater<Entry>> reference;
  std::uint64_t rng;
  std::uint64_t next_id = 0;
  std::uint64_t ran = 0;
  std::uint64_t mismatches = 0;
  std::int64_t budget;  // events still to schedule from inside events
  int fanout;           // up to this many new events per event
  std::int64_t (*delay)(std::uint64_t random, std::int64_t now_ps);

  Checked(std::uint64_t seed, std::int64_t events, int fan,
          std::int64_t (*d)(std::uint64_t, std::int64_t))
      : rng(seed), budget(events), fanout(fan), delay(d) {}
  std::uint64_t next() {
    rng = rng * 6364136223846793005ULL + 1442695040888963407ULL;
    return rng ^ (rng >> 29);
  }
  void add(std::int64_t time_ps) {
    reference.push({time_ps, next_id});
    sim.schedule_member_at<&Checked::fire>(SimTime::from_ps(time_ps), this, next_id++);
  }
  void fire(std::uint64_t id) {
    ++ran;
    if (reference.empty() || reference.top() != Entry{sim.now().ps(), id}) {
      ++mismatches;
    } else {
      reference.pop();
    }
    const int children = static_cast<int>(next() % static_cast<std::uint64_t>(fanout + 1));
    for (int i = 0; i < children && budget > 0; ++i, --budget) {
      add(sim.now().ps() + delay(next(), sim.now().ps()));
    }
  }
  // Runs to completion and checks that every scheduled event ran once, in reference order.
  void finish() {
    sim.run();
    CHECK(mismatches == 0);
    CHECK(reference.empty());
    CHECK(ran == next_id);
    CHECK(sim.empty());
    CHECK(sim.pending() == 0);
  }
};
}  // namespace

TEST_CASE("engine queue: ties at equal times across bucket boundaries keep insertion order",
          "[engine]") {
  // Times cluster on 2^k - 1, 2^k, 2^k + 1: neighbours that differ in a high bit (different
  // buckets) and exact ties (same bucket, or bucket 0 while it is being drained).
  for (std::uint64_t seed = 1; seed <= 8; ++seed) {
    Checked c(seed, 40000, 3, [](std::uint64_t r, std::int64_t now) {
      const int k = static_cast<int>(r % 40) + 1;
      const std::int64_t target =
          (std::int64_t{1} << k) - 1 + static_cast<std::int64_t>((r >> 8) % 3);
      return target > now ? target - now : static_cast<std::int64_t>((r >> 12) % 2);
    });
    for (int i = 0; i < 200; ++i)
      c.add((std::int64_t{1} << (i % 20)) - (i % 3 == 0 ? 1 : 0));
    c.finish();
    CHECK(c.ran > 20000);
  }
}

TEST_CASE("engine queue: events scheduled at now() while running go after the current ties",
          "[engine]") {
  // Half of all new events are at now(): they join bucket 0 while it is being drained.
  Checked c(7, 60000, 2, [](std::uint64_t r, std::int64_t) {
    return (r & 1) ? std::int64_t{0} : static_cast<std::int64_t>((r >> 8) % 1000);
  });
  for (int i = 0; i < 50; ++i)
    c.add(i % 4);
  c.finish();
  CHECK(c.ran > 30000);
}

TEST_CASE("engine queue: times near the maximum SimTime", "[engine]") {
  // Bases within 2^20 ps of INT64_MAX (time ^ last reaches bit 62 from time zero), delays small
  // or exactly up to the maximum.
  Checked c(11, 30000, 3, [](std::uint64_t r, std::int64_t now) {
    const std::int64_t room = SimTime::max().ps() - now;
    if ((r & 7) == 0)
      return room;  // exactly SimTime::max()
    return std::min<std::int64_t>(room, static_cast<std::int64_t>((r >> 8) % 5000));
  });
  c.add(0);
  for (int i = 0; i < 100; ++i)
    c.add(SimTime::max().ps() - (std::int64_t{1} << 20) + i * 977);
  c.add(SimTime::max().ps());
  c.finish();
  CHECK(c.ran > 10000);
}

TEST_CASE("engine queue: huge gaps mixed with tiny delays", "[engine]") {
  Checked c(13, 50000, 3, [](std::uint64_t r, std::int64_t now) {
    const std::int64_t room = SimTime::max().ps() - now;
    std::int64_t d;
    switch (r % 4) {
      case 0:
        d = static_cast<std::int64_t>((r >> 2) & ((std::uint64_t{1} << 61) - 1));
        break;
      case 1:
        d = static_cast<std::int64_t>((r >> 8) % (std::uint64_t{1} << 40));
        break;
      default:
        d = static_cast<std::int64_t>((r >> 8) % 64);
        break;
    }
    return std::min(d, room);
  });
  for (int i = 0; i < 100; ++i)
    c.add(static_cast<std::int64_t>(c.next() % (std::uint64_t{1} << 50)));
  c.finish();
  CHECK(c.ran > 20000);
}

TEST_CASE("engine queue: pushes from outside interleaved with run(until)", "[engine]") {
  // Runs in windows; between windows, events are added at now() and later (some inside the
  // window just run, some beyond the next pending event), and the window may end before the
  // next event (which then must stay where it is for the next pushes).
  for (std::uint64_t seed = 1; seed <= 6; ++seed) {
    Checked c(seed * 101, 20000, 2, [](std::uint64_t r, std::int64_t) {
      return static_cast<std::int64_t>((r >> 8) % ((r & 1) ? 300 : 100000));
    });
    for (int i = 0; i < 20; ++i)
      c.add(i * 37);
    std::int64_t until = 0;
    int windows = 0;
    while (!c.sim.empty() || windows < 50) {
      until += static_cast<std::int64_t>(c.next() % 5000);
      const auto before = c.ran;
      const auto ran = c.sim.run(SimTime::from_ps(until));
      CHECK(ran == c.ran - before);
      CHECK(c.sim.now().ps() <= until);
      CHECK(c.sim.pending() == c.reference.size());
      const int outside = static_cast<int>(c.next() % 4);
      for (int i = 0; i < outside && windows < 200; ++i) {
        const auto r = c.next();
        c.add(c.sim.now().ps() + ((r & 3) == 0 ? 0 : static_cast<std::int64_t>((r >> 8) % 20000)));
      }
      ++windows;
      if (windows > 100000)
        break;
    }
    c.finish();
    CHECK(c.ran > 5000);
  }
}

TEST_CASE("engine queue: reserve, and buckets reused after the queue empties", "[engine]") {
  // Each round starts from an empty queue at a later now() and refills the buckets; rounds
  // alternate bursts (20,000 pending: drained buckets then hold far more storage than the queue
  // needs and are freed) with small ones that reuse what was kept.
  Checked c(17, 0, 0, [](std::uint64_t, std::int64_t) { return std::int64_t{0}; });
  c.sim.reserve(1000);
  std::uint64_t expected = 0;
  for (int round = 0; round < 20; ++round) {
    const std::int64_t base = c.sim.now().ps();
    const int events = round % 3 == 0 ? 20000 : 1000 + 50 * round;
    for (int i = 0; i < events; ++i)
      c.add(base + static_cast<std::int64_t>(c.next() % (std::uint64_t{1} << (round + 10))) %
                       (std::int64_t{1} << 30));
    expected += static_cast<std::uint64_t>(events);
    c.sim.run();
    CHECK(c.sim.empty());
    CHECK(c.mismatches == 0);
  }
  c.finish();
  CHECK(c.ran == expected);
  CHECK(c.sim.events_run() == expected);
}

TEST_CASE("engine queue: 16-byte inline callables keep their bytes", "[engine]") {
  Simulator sim;
  std::vector<std::pair<std::uint64_t, std::uint64_t>> seen;
  auto* out = &seen;
  for (std::uint64_t i = 0; i < 100; ++i) {
    const std::uint64_t a = i * 0x9E3779B97F4A7C15ULL;
    sim.schedule_at(SimTime::from_ps(static_cast<std::int64_t>(100 - i)), [out, a] {
      out->push_back({a, 0});
    });
  }
  struct Two {
    std::uint64_t x, y;
  };
  Two two{0xFFFFFFFFFFFFFFFFULL, 0x0123456789ABCDEFULL};
  std::uint64_t got[2] = {0, 0};
  auto* dst = got;
  (void)two;
  sim.schedule_at(SimTime::from_ps(1000), [dst, y = two.y] { dst[0] = y; });
  sim.run();
  REQUIRE(seen.size() == 100);
  for (std::uint64_t i = 0; i < 100; ++i)
    CHECK(seen[i].first == (99 - i) * 0x9E3779B97F4A7C15ULL);
  CHECK(got[0] == 0x0123456789ABCDEFULL);
}

TEST_CASE("engine: an end-of-picosecond event runs after every other event of its time",
          "[engine]") {
  // At t = 5 event 0 asks for the end of t = 5 (100), then schedules 1 and 2 at t = 5: 100 runs
  // after them. 100 schedules 3 at t = 5 and asks for the end again (101): 3 runs first, then
  // 101, and only then t = 7 (4).
  Simulator sim;
  Recorder rec;
  rec.sim = &sim;
  struct Ctx {
    Simulator* sim;
    Recorder* rec;
  } ctx{&sim, &rec};
  sim.schedule_at(
      SimTime::from_ps(5),
      [](void* p, std::uint64_t) {
        auto* c = static_cast<Ctx*>(p);
        c->rec->record(0);
        c->sim->schedule_at_end_of_now(
            [](void* q, std::uint64_t) {
              auto* d = static_cast<Ctx*>(q);
              d->rec->record(100);
              d->sim->schedule_member_at<&Recorder::record>(d->sim->now(), d->rec, 3);
              d->sim->schedule_at_end_of_now(
                  [](void* r, std::uint64_t) { static_cast<Ctx*>(r)->rec->record(101); }, q, 0);
            },
            p, 0);
        c->sim->schedule_member_at<&Recorder::record>(c->sim->now(), c->rec, 1);
        c->sim->schedule_member_at<&Recorder::record>(c->sim->now(), c->rec, 2);
      },
      &ctx, 0);
  sim.schedule_member_at<&Recorder::record>(SimTime::from_ps(7), &rec, 4);
  CHECK(sim.run() == 7);
  CHECK(rec.order == std::vector<std::uint64_t>{0, 1, 2, 100, 3, 101, 4});
  CHECK(rec.times_ps == std::vector<std::int64_t>{5, 5, 5, 5, 5, 5, 7});
  CHECK(sim.empty());
}
