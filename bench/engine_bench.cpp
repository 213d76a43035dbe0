// Engine throughput: events per second on a synthetic load. `range(0)` processes each re-schedule
// themselves after a pseudo-random delay in [0, 1 us), so the queue holds range(0) events; each
// benchmark iteration runs 1M events. Target (issue 4): >= 10M events/s on one core.
#include <benchmark/benchmark.h>

#include <cstdint>

#include "sim/engine/simulator.hpp"

namespace {
using meshsim::engine::SimTime;
using meshsim::engine::Simulator;

struct SyntheticLoad {
  Simulator* sim;
  std::uint64_t rng = 0x9E3779B97F4A7C15ULL;
  std::int64_t remaining = 0;
  void fire(std::uint64_t) {
    if (remaining-- <= 0) {
      return;
    }
    rng = rng * 6364136223846793005ULL + 1442695040888963407ULL;
    sim->schedule_member_at<&SyntheticLoad::fire>(
        sim->now() + SimTime::from_ps(static_cast<std::int64_t>((rng >> 33) % 1000000)), this, 0);
  }
};

void BM_EngineEvents(benchmark::State& state) {
  const auto processes = state.range(0);
  constexpr std::int64_t kEventsPerIteration = 1000000;
  for (auto _ : state) {
    Simulator sim;
    sim.reserve(static_cast<std::size_t>(processes));
    SyntheticLoad load{&sim};
    load.remaining = kEventsPerIteration - processes;
    for (std::int64_t i = 0; i < processes; ++i) {
      sim.schedule_member_at<&SyntheticLoad::fire>(SimTime::from_ps(i), &load, 0);
    }
    benchmark::DoNotOptimize(sim.run());
  }
  state.SetItemsProcessed(state.iterations() * kEventsPerIteration);
  state.counters["events_per_s"] = benchmark::Counter(
      static_cast<double>(state.iterations() * kEventsPerIteration), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_EngineEvents)->Arg(64)->Arg(1024)->Arg(16384)->Unit(benchmark::kMillisecond);

// The exact simulation's pattern (issue 15, measured on ViT-22B 256x4 --all-chips on H100): a few
// thousand events pending, nearly every new event 8-33 us after now (2^23-2^25 ps; a ring step's
// transfer), and many ties, since the members of a ring step start together and see identical
// links. `range(0)` rings of 8 members; each member, when its step ends, schedules its next step
// after one of `range(1)` distinct durations (the ring's members draw the same one, so a ring's
// arrivals tie). Each iteration runs 1M events.
struct RingLoad {
  Simulator* sim;
  std::uint64_t rng = 0x2545F4914F6CDD1DULL;
  std::int64_t remaining = 0;
  std::uint64_t durations = 1;
  std::int64_t duration_of(std::uint64_t ring, std::int64_t now_ps) const {
    // Same ring and same start time: same duration (a pure function of both).
    std::uint64_t h = (ring + 1) * 0x9E3779B97F4A7C15ULL ^ static_cast<std::uint64_t>(now_ps);
    h ^= h >> 31;
    h *= 0xBF58476D1CE4E5B9ULL;
    h ^= h >> 29;
    return std::int64_t{8388608} + static_cast<std::int64_t>(h % durations) * 1048573;
  }
  void step(std::uint64_t member) {
    if (remaining-- <= 0) {
      return;
    }
    const std::int64_t now = sim->now().ps();
    sim->schedule_member_at<&RingLoad::step>(SimTime::from_ps(now + duration_of(member / 8, now)),
                                             this, member);
  }
};

void BM_EngineRingPattern(benchmark::State& state) {
  const auto members = state.range(0) * 8;
  constexpr std::int64_t kEventsPerIteration = 1000000;
  for (auto _ : state) {
    Simulator sim;
    RingLoad load{&sim};
    load.durations = static_cast<std::uint64_t>(state.range(1));
    load.remaining = kEventsPerIteration - members;
    for (std::int64_t m = 0; m < members; ++m) {
      sim.schedule_member_at<&RingLoad::step>(SimTime::from_ps((m / 8) * 1000), &load,
                                              static_cast<std::uint64_t>(m));
    }
    benchmark::DoNotOptimize(sim.run());
  }
  state.SetItemsProcessed(state.iterations() * kEventsPerIteration);
  state.counters["events_per_s"] = benchmark::Counter(
      static_cast<double>(state.iterations() * kEventsPerIteration), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_EngineRingPattern)
    ->Args({512, 4})
    ->Args({512, 64})
    ->Args({64, 16})
    ->Unit(benchmark::kMillisecond);

}  // namespace
