// Wall time of one simulated ViT-22B (and decoder LM) training step with every chip simulated
// (issue 5 targets: 1024 chips under 1 s and 1 GiB). Peak memory of a whole `meshsim run` is best
// measured per process: `/usr/bin/time -v build/release/meshsim run --mesh 256x4`
// (scripts/bench-run.sh).
#include <benchmark/benchmark.h>

#include <string>

#include "hardware_profiles/hardware.hpp"
#include "models/model.hpp"
#include "sim/execution/step.hpp"
#include "sim/plan/plan.hpp"

namespace {

void step_of(benchmark::State& state, const std::string& model_name, const std::string& hardware,
             const std::string& mesh, const std::string& batch) {
  const auto model = meshsim::load_model(model_name);
  const auto hw = meshsim::load_hardware(hardware);
  meshsim::PlanFlags flags;
  flags.mesh = mesh;
  flags.batch = batch;
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

void step(benchmark::State& state, const std::string& hardware, const std::string& mesh) {
  step_of(state, "vit-22b", hardware, mesh, "");
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
// Decoders (issue 14): the GPT-3 175B and Llama 3 70B runs of docs/models.md "Decoders".
BENCHMARK_CAPTURE(step_of, gpt3_175b_a100_1024_128x8, std::string("gpt3-175b"),
                  std::string("a100-sxm-80gb"), std::string("128x8"), std::string("1536"))
    ->Unit(benchmark::kSecond)
    ->Iterations(1);
BENCHMARK_CAPTURE(step_of, llama3_70b_h100_1024_128x8, std::string("llama3-70b"),
                  std::string("h100-sxm"), std::string("128x8"), std::string("1024"))
    ->Unit(benchmark::kSecond)
    ->Iterations(1);
