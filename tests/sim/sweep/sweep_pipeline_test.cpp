// The sweep and pipelines (issue 14 item 7): the pipeline axis, schedules and virtual stages are
// enumerated, each plan is charged its largest stage's memory, and the lower bound used for
// pruning never exceeds the simulated step.
#include <algorithm>
#include <catch2/catch.hpp>
#include <set>
#include <tuple>

#include "sim/execution/pipeline_memory.hpp"
#include "sim/execution/step.hpp"
#include "sim/sweep/sweep.hpp"

using namespace meshsim;

TEST_CASE("sweep: pipelines are enumerated and their bound is below the simulated step",
          "[sweep][pipeline]") {
  const auto m = load_model("vit-b16");  // 12 layers: p = 8 splits them unevenly
  const auto hw = load_hardware("tpu-v4");
  sweep::SweepSpace space;
  space.global_batches = {256};
  space.remats = {Remat::Full};
  space.max_microbatches = 16;
  space.pipelines = {1, 2, 4, 8};  // an encoder: pipelines only when asked
  const auto all = sweep::enumerate_plans(m, hw, 16, space);
  std::set<std::tuple<std::int64_t, PipelineSchedule, std::int64_t>> seen;
  int checked = 0;
  for (const auto& e : all) {
    if (!e.reason.empty() || e.plan.mesh.pipeline == 1)
      continue;
    seen.insert({e.plan.mesh.pipeline, e.plan.schedule, e.plan.virtual_stages});
    // Every fourth pipeline plan with FSDP off is simulated (keeps the test short).
    if (e.plan.fsdp || (checked++ % 4) != 0)
      continue;
    const auto memory = execution::largest_stage_memory(m, hw, e.plan);
    const auto bound = sweep::step_lower_bound(m, hw, e.plan, memory);
    const auto r = execution::simulate_step(m, hw, e.plan);
    INFO(sweep::plan_summary(e.plan));
    CHECK(bound.step_s <= r.step_time_s);
    CHECK(r.memory.total_bytes == memory.total_bytes);
  }
  for (std::int64_t p : {2, 4, 8}) {
    CHECK(seen.count({p, PipelineSchedule::OneFOneB, 1}) == 1);
    CHECK(seen.count({p, PipelineSchedule::GPipe, 1}) == 1);
  }
  CHECK(seen.count({2, PipelineSchedule::Interleaved, 2}) == 1);
  CHECK(seen.count({4, PipelineSchedule::Interleaved, 2}) == 1);
  CHECK(seen.count({8, PipelineSchedule::Interleaved, 2}) == 0);  // 16 virtual stages > 12 layers
  CHECK(checked > 10);
}

TEST_CASE("sweep: by default decoders get pipelines, encoders none", "[sweep][pipeline]") {
  const auto hw = load_hardware("h100-sxm");
  auto most_stages = [&](const char* name, std::int64_t batch) {
    sweep::SweepSpace space;
    space.global_batches = {batch};
    space.remats = {Remat::Full};
    space.max_microbatches = 8;
    std::int64_t most = 0;
    for (const auto& e : sweep::enumerate_plans(load_model(name), hw, 16, space))
      most = std::max(most, e.plan.mesh.pipeline);
    return most;
  };
  CHECK(most_stages("vit-b16", 256) == 1);
  CHECK(most_stages("llama3-8b", 64) == 16);  // 32 layers: p up to 16 on 16 GPUs
}
