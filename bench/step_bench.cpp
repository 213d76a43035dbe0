// Wall time of one simulated ViT-22B training step with every chip simulated (issue 5 targets:
// 1024 chips under 1 s and 1 GiB). Peak memory of a whole `meshsim run` is best measured per
// process: `/usr/bin/time -v build/release/meshsim run --mesh 256x4` (scripts/bench-run.sh).
#include <benchmark/benchmark.h>

#include <string>

#include "hardware_profiles/hardware.hpp"
#include "models/model.hpp"
#include "sim/execution/step.hpp"
#include "sim/plan/plan.hpp"

namespace {

void step(benchmark::State& state, const std::string& hardware, const std::string& mesh) {
  const auto model = meshsim::load_model("vit-22b");
  const auto hw = meshsim::load_hardware(hardware);
  meshsim::PlanFlags flags;
  flags.mesh = mesh;
  const auto plan =
      meshsim::finalize_plan(meshsim::apply_plan_flags(meshsim::Plan{}, flags), model, hw, 0);
  double events = 0;
  for (auto _ : state) {
    const auto result = meshsim::execution::simulate_step(model, hw, plan);
    events = static_cast<double>(result.events);
    benchmark::DoNotOptimize(result.step_time_s);
  }
  state.counters["events"] = events;
  state.counters["events_per_s"] =
      benchmark::Counter(events, benchmark::Counter::kIsIterationInvariantRate);
}

}  // namespace

BENCHMARK_CAPTURE(step, tpu_v4_1024_256x4, std::string("tpu-v4"), std::string("256x4"))
    ->Unit(benchmark::kSecond)
    ->Iterations(1);
BENCHMARK_CAPTURE(step, h100_1024_128x8, std::string("h100-sxm"), std::string("128x8"))
    ->Unit(benchmark::kSecond)
    ->Iterations(1);
BENCHMARK_CAPTURE(step, tpu_v4_4096_1024x4, std::string("tpu-v4"), std::string("1024x4"))
    ->Unit(benchmark::kSecond)
    ->Iterations(1);
