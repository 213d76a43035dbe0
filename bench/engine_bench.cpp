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

}  // namespace
