// Issue 6 benchmarks: sweep throughput in plans per second (every enumerated plan counts: rejected,
// pruned or simulated) with 2 threads for ViT-22B on 1024 TPU v4 chips (target >= 50 plans/s), and
// the whole capacity report of the same (target < 60 s). The H100 report is measured alongside: GPU
// clusters have no torus shifts, so more of their plans are simulated chip by chip.
#include <benchmark/benchmark.h>

#include <string>

#include "hardware_profiles/hardware.hpp"
#include "models/model.hpp"
#include "sim/sweep/capacity.hpp"
#include "sim/sweep/sweep.hpp"

namespace {

void sweep(benchmark::State& state, const std::string& hardware) {
  const auto model = meshsim::load_model("vit-22b");
  const auto hw = meshsim::load_hardware(hardware);
  meshsim::sweep::SweepOptions options;
  options.chips = 1024;
  options.top = 5;
  options.threads = 2;
  double considered = 0, simulated = 0;
  for (auto _ : state) {
    const auto result = meshsim::sweep::run_sweep(model, hw, options);
    considered = static_cast<double>(result.considered);
    simulated = static_cast<double>(result.simulated);
    benchmark::DoNotOptimize(result.top.data());
  }
  state.counters["plans"] = considered;
  state.counters["simulated"] = simulated;
  state.counters["plans_per_s"] =
      benchmark::Counter(considered, benchmark::Counter::kIsIterationInvariantRate);
}

void report(benchmark::State& state, const std::string& hardware) {
  const auto model = meshsim::load_model("vit-22b");
  const auto hw = meshsim::load_hardware(hardware);
  meshsim::sweep::CapacityOptions options;
  options.chips = 1024;
  options.target_value = 177000;
  options.global_batch = 65536;
  options.threads = 2;
  for (auto _ : state) {
    const auto report = meshsim::sweep::build_capacity_report(model, hw, options);
    benchmark::DoNotOptimize(&report);
  }
}

}  // namespace

BENCHMARK_CAPTURE(sweep, vit22b_tpu_v4_1024_j2, std::string("tpu-v4"))
    ->Unit(benchmark::kSecond)
    ->UseRealTime()
    ->Iterations(3);
BENCHMARK_CAPTURE(sweep, vit22b_h100_1024_j2, std::string("h100-sxm"))
    ->Unit(benchmark::kSecond)
    ->UseRealTime()
    ->Iterations(1);
BENCHMARK_CAPTURE(report, vit22b_tpu_v4_1024_j2, std::string("tpu-v4"))
    ->Unit(benchmark::kSecond)
    ->UseRealTime()
    ->Iterations(3);
BENCHMARK_CAPTURE(report, vit22b_h100_1024_j2, std::string("h100-sxm"))
    ->Unit(benchmark::kSecond)
    ->UseRealTime()
    ->Iterations(1);
