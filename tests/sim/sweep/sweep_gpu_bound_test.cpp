// The sweep's lower bound on GPU clusters (docs/sweep.md "Pruning"): a decoder's embedding
// and LM head on the first and last chips, their FSDP gathers, every task's first gather and the
// data-axis collectives over the NICs where a data group spans nodes; links at the rates the step
// gives them, NVLS all-reduces inside a node. The bound must never exceed the simulated step, and
// counts the chip's compute exactly as the step runs it.
#include <catch2/catch.hpp>
#include <cmath>
#include <set>

#include "sim/execution/pipeline_memory.hpp"
#include "sim/execution/step.hpp"
#include "sim/sweep/sweep.hpp"

using namespace meshsim;

TEST_CASE("sweep: a decoder's bound on 4 H100 nodes stays below the simulated step",
          "[sweep][pipeline]") {
  // Llama 3 8B's shapes (a 128k vocabulary: the LM head weighs about two layers) with 8 layers,
  // on 32 GPUs: data groups span nodes for every model axis below 8.
  ModelConfig m = load_model("llama3-8b");
  m.depth = 8;
  const auto hw = load_hardware("h100-sxm");
  sweep::SweepSpace space;
  space.global_batches = {64};
  space.remats = {Remat::None, Remat::Selective};
  space.max_microbatches = 8;
  space.pipelines = {1, 2, 4};
  const auto all = sweep::enumerate_plans(m, hw, 32, space);
  int checked = 0, across_nodes = 0, piped = 0, exact = 0;
  std::set<PipelineSchedule> schedules;
  for (const auto& e : all) {
    if (!e.reason.empty() || (checked++ % 9) != 0)
      continue;
    const auto memory = execution::largest_stage_memory(m, hw, e.plan);
    const auto bound = sweep::step_lower_bound(m, hw, e.plan, memory);
    const auto r = execution::simulate_step(m, hw, e.plan);
    INFO(sweep::plan_summary(e.plan)
         << ": bound " << bound.step_s << " s (compute " << bound.compute_s << ", blocking "
         << bound.blocking_comm_s << ", fill " << bound.fill_s << ", drain " << bound.drain_s
         << "), simulated " << r.step_time_s << " s");
    CHECK(bound.step_s <= r.step_time_s);
    if (e.plan.fsdp && e.plan.mesh.data * e.plan.mesh.model() / e.plan.mesh.pipeline > 8)
      ++across_nodes;
    if (e.plan.mesh.pipeline > 1) {
      ++piped;
      schedules.insert(e.plan.schedule);
    }
    // Without collective matmuls the bounding chip's compute is the step's own ops: the last
    // stage's (its layers, the final norm, LM head and loss) when the fill and drain decide,
    // less only the optimizer update the bound leaves out with a pipeline (up to 1% here; the
    // LM head is about a fifth of the last stage).
    if (e.plan.mesh.pipeline > 1 && !e.plan.async_collective_matmul && bound.fill_s > 0) {
      const double simulated = r.pipeline.per_stage.back().compute_s;
      CHECK(bound.compute_s <= simulated * (1 + 1e-9));
      CHECK(bound.compute_s >= 0.98 * simulated);
      ++exact;
    }
  }
  CHECK(across_nodes > 10);
  CHECK(piped > 10);
  CHECK(schedules.size() == 3);
  CHECK(exact > 3);
}

TEST_CASE("sweep: a data group across nodes bounds its gathers by the NICs", "[sweep]") {
  // 8 data replicas of model 4 on 32 H100: 2 members of each data group per node, so a gather
  // brings 6 of its 8 blocks in over 2 NICs (400 Gb/s each), slower than over the GPU's links.
  // With the NICs at half speed, the bound waits at least that much longer for the first gather
  // of every forward and backward, and stays below the simulated step.
  ModelConfig m = load_model("llama3-8b");
  m.depth = 8;
  const auto hw = load_hardware("h100-sxm");
  auto slow = hw;
  slow.gpu.nic_bandwidth_bytes_per_s /= 2;
  sweep::SweepSpace space;
  space.global_batches = {64};
  space.remats = {Remat::Selective};
  space.max_microbatches = 4;
  space.pipelines = {1};
  int seen = 0;
  for (const auto& e : sweep::enumerate_plans(m, hw, 32, space)) {
    if (!e.reason.empty() || !e.plan.fsdp || e.plan.mesh.model() != 4)
      continue;
    const auto memory = execution::largest_stage_memory(m, hw, e.plan);
    const auto bound = sweep::step_lower_bound(m, hw, e.plan, memory);
    const auto slow_bound = sweep::step_lower_bound(m, slow, e.plan, memory);
    const ParamCounts p = count_params(m);
    const double layer_weights =
        static_cast<double>(p.transformer + p.biases_and_norms) / 8.0 / 4.0 * 2.0;  // bf16
    const double gather = 3.0 * layer_weights / 8.0 / hw.gpu.nic_bandwidth_bytes_per_s;
    const double first_gathers = 2.0 * static_cast<double>(e.plan.microbatches) * gather;
    INFO(sweep::plan_summary(e.plan) << ": blocking " << bound.blocking_comm_s << " s, "
                                     << slow_bound.blocking_comm_s << " s with slow NICs");
    CHECK(slow_bound.blocking_comm_s - bound.blocking_comm_s >= first_gathers * (1 - 1e-9));
    CHECK(bound.step_s <= execution::simulate_step(m, hw, e.plan).step_time_s);
    CHECK(slow_bound.step_s <= execution::simulate_step(m, slow, e.plan).step_time_s);
    ++seen;
  }
  CHECK(seen >= 2);
}

TEST_CASE("sweep: the bound inside one NVLink node: NVLink rates and NVLS all-reduces", "[sweep]") {
  // On 8 H100 every group lies in one node: the bound takes NVLink's rate (bandwidth x the
  // profile's NVLink efficiency, as the step's links run) for the model and data axes, and an
  // all-reduce of 5 or more GPUs may run as NVLS (each GPU's buffer once at the NVLS rate), so
  // its least time is the cheaper of the two. Replicated activations all-reduce over the model
  // axis; without FSDP the gradients all-reduce over the data axis. On 16 A100 (no NVLS) the
  // data axis spans two nodes. With a chip 1000x faster the steps are their collectives, so a
  // ring's bytes where the step runs NVLS would put the bound above the simulated step.
  struct Case {
    const char* model;
    const char* hardware;
    std::int64_t chips;
    bool fast_chip = false;
  };
  int nvls = 0, checked = 0;
  for (const Case c :
       {Case{"vit-b16", "h100-sxm", 8}, Case{"llama3-8b", "h100-sxm", 8},
        Case{"vit-b16", "a100-sxm-80gb", 16}, Case{"vit-b16", "h100-sxm", 8, true}}) {
    ModelConfig m = load_model(c.model);
    if (m.kind == ModelKind::Decoder)
      m.depth = 4;
    auto hw = load_hardware(c.hardware);
    if (c.fast_chip) {
      hw.chip.peak_bf16_flop_per_s *= 1000;
      hw.chip.peak_fp32_flop_per_s *= 1000;
      hw.chip.hbm_bandwidth_bytes_per_s *= 1000;
    }
    sweep::SweepSpace space;
    space.global_batches = {m.kind == ModelKind::Decoder ? std::int64_t{16} : std::int64_t{256}};
    space.remats = {Remat::None, Remat::Full};
    space.max_microbatches = 4;
    space.pipelines = {1};
    for (const auto& e : sweep::enumerate_plans(m, hw, c.chips, space)) {
      if (!e.reason.empty())
        continue;
      // The sweep pairs replicated activations with sequence parallelism; without it the model
      // axis all-reduces (NVLS from 5 GPUs of a node).
      std::vector<Plan> plans = {e.plan};
      if (e.plan.sequence_parallel) {
        Plan plain = e.plan;
        plain.sequence_parallel = false;
        plans.push_back(finalize_plan(plain, m, hw, c.chips));
      }
      for (const Plan& plan : plans) {
        const auto memory = execution::largest_stage_memory(m, hw, plan);
        const auto bound = sweep::step_lower_bound(m, hw, plan, memory);
        const auto r = execution::simulate_step(m, hw, plan);
        INFO(c.model << " on " << c.chips << " " << c.hardware << ", " << sweep::plan_summary(plan)
                     << ": bound " << bound.step_s << " s, simulated " << r.step_time_s << " s");
        CHECK(bound.step_s <= r.step_time_s);
        ++checked;
        if (hw.collectives.nvls_bandwidth_bytes_per_s > 0 &&
            ((plan.activation_layout == ActivationLayout::Replicated && !plan.sequence_parallel &&
              plan.mesh.model() >= 5) ||
             (!plan.fsdp && plan.mesh.data >= 5)))
          ++nvls;
      }
    }
  }
  CHECK(checked > 30);
  CHECK(nvls > 5);
}
