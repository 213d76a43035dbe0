// Parsing speed of the units parser (flags and profile files go through it).
#include <benchmark/benchmark.h>

#include "common/units.hpp"

static void BM_ParseBandwidth(benchmark::State& state) {
  for (auto _ : state) {
    benchmark::DoNotOptimize(meshsim::parse_quantity("1.2 TB/s", meshsim::QuantityKind::Bandwidth));
  }
}
BENCHMARK(BM_ParseBandwidth);

BENCHMARK_MAIN();
