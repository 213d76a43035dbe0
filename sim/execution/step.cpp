#include "sim/execution/step.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <memory>
#include <set>
#include <stdexcept>
#include <tuple>

#include "sim/engine/simulator.hpp"
#include "sim/execution/layer_program.hpp"
#include "sim/execution/optimizer_update.hpp"
#include "sim/execution/pipeline_memory.hpp"
#include "sim/execution/pipeline_schedule.hpp"
#include "sim/execution/placement.hpp"
#include "sim/execution/program.hpp"
#include "sim/execution/step_context.hpp"
#include "sim/execution/step_result.hpp"
#include "sim/execution/step_sim.hpp"
#include "sim/limits.hpp"

namespace meshsim::execution {

using detail::check_step_events;
using detail::Context;
using detail::Instr;
using detail::Kind;
using detail::Phase;
using detail::Program;
using detail::StepSim;
using engine::SimTime;

namespace {

StepResult simulate_step_checked(const ModelConfig& model, const HardwareProfile& hardware,
                                 const Plan& plan, const TraceOptions& trace,
                                 const StepOptions& options, double* estimate_only);

// What the time bound names: the plan's batch (its flag or file field), with the model and the
// profile that set the time scale (issue 17 item 6).
std::string step_time_found(const ModelConfig& model, const HardwareProfile& hardware,
                            const Plan& plan) {
  const auto named = [](const std::string& name, const std::string& file) {
    return file.empty() ? name : name + " (" + file + ")";
  };
  return "global batch " + std::to_string(plan.global_batch) + " on " +
         std::to_string(plan.mesh.chips()) + " chips, model " + named(model.name, model.file) +
         ", hardware " + named(hardware.name, hardware.file);
}
constexpr const char* kStepTimeChange =
    "a smaller batch, more chips, a smaller model or a faster hardware profile";

}  // namespace

StepResult simulate_step(const ModelConfig& model, const HardwareProfile& hardware,
                         const Plan& plan, const TraceOptions& trace, const StepOptions& options) {
  try {
    return simulate_step_checked(model, hardware, plan, trace, options, nullptr);
  } catch (const engine::SimTimeOverflow&) {
    throw limits::simulated_time_overflow("this training step",
                                          step_time_found(model, hardware, plan), kStepTimeChange,
                                          plan.site("global_batch"));
  }
}

double estimate_step_events(const ModelConfig& model, const HardwareProfile& hardware,
                            const Plan& plan) {
  double events = 0;
  try {
    simulate_step_checked(model, hardware, plan, {}, {}, &events);
  } catch (const engine::SimTimeOverflow&) {
    throw limits::simulated_time_overflow("this training step",
                                          step_time_found(model, hardware, plan), kStepTimeChange,
                                          plan.site("global_batch"));
  }
  return events;
}

namespace {

StepResult simulate_step_checked(const ModelConfig& model, const HardwareProfile& hardware,
                                 const Plan& plan, const TraceOptions& trace,
                                 const StepOptions& options, double* estimate_only) {
  // The machine's size first, before its topology is built (issue 17 item 8).
  limits::check_simulated_chips(plan.mesh.chips(), plan.site("mesh"));
  if (plan.mesh.pipeline > 1 && plan.mesh.model2 > 1) {
    throw InputError(plan.site("mesh"), "a pipeline with two model axes is not simulated",
                     plan.mesh.text(), "data=N,pipeline=N,model=N");
  }
  const network::Topology topology = build_topology(hardware, plan);
  const Placement placement = place(plan, topology);
  const Context ctx = detail::make_context(model, hardware, plan, topology, placement);
  // One program per pipeline stage (one without a pipeline).
  const std::int64_t p = plan.mesh.pipeline, v = plan.virtual_stages;
  const std::vector<std::int64_t> layers = stage_layers(plan, model.depth);
  std::vector<Program> programs;
  const std::vector<MemoryBreakdown> memories = stage_memories(model, hardware, plan);
  std::vector<detail::StageWork> works;
  StepResult result;
  for (std::int64_t s = 0; s < p; ++s) {
    detail::StageWork work;
    work.stage = s;
    work.stages = p;
    work.virtual_stages = v;
    if (p == 1) {
      work.chunk_layers = {model.depth};
      work.chunk_first_layer = {0};
    } else {
      for (std::int64_t c = 0; c < v; ++c) {
        const auto vs = static_cast<std::size_t>(c * p + s);
        work.chunk_layers.push_back(layers[vs]);
        std::int64_t first = 0;
        for (std::size_t i = 0; i < vs; ++i)
          first += layers[i];
        work.chunk_first_layer.push_back(first);
      }
      work.order = pipeline_order(plan.schedule, p, plan.microbatches, v, s);
      // The boundary activation of one microbatch (bf16), this chip's D/k slice: with replicated
      // activations each model-axis member sends its slice (Megatron's scatter/gather, Narayanan
      // et al. SC'21 §4.1; the all-gather after it is not simulated).
      work.activation_bytes = static_cast<std::int64_t>(
          std::llround(2.0 * static_cast<double>(ctx.microbatch_tokens) *
                       static_cast<double>(model.width) / static_cast<double>(ctx.k)));
    }
    programs.push_back(build_program(ctx, work));
    works.push_back(std::move(work));
  }
  for (std::int64_t s = 0; s < p; ++s) {
    const auto& memory = memories[static_cast<std::size_t>(s)];
    if (s == 0 || memory.total_bytes > result.memory.total_bytes)
      result.memory = memory;
  }
  // Optimizer update: memory-bound over this chip's shard (docs/execution.md).
  for (std::int64_t s = 0; s < p; ++s) {
    Program& program = programs[static_cast<std::size_t>(s)];
    const Op update = optimizer_update_op(memories[static_cast<std::size_t>(s)], plan);
    Instr in;
    in.kind = Kind::Compute;
    in.phase = Phase::Optimizer;
    const double update_s = op_time_s(hardware.cost, hardware.chip, update);
    in.duration_ps = SimTime::from_seconds(update_s).ps();
    program.component_s[static_cast<std::size_t>(FidelityComponent::MemoryOps)] += update_s;
    program.names.push_back(update.name);
    in.name = static_cast<std::int32_t>(program.names.size() - 1);
    program.code.push_back(in);
  }

  // The compute stream of a chip is serial: its busy time is a lower bound on the step. Refuse
  // before simulating when it is beyond what SimTime counts (docs/limits.md).
  {
    double compute_s = 0;
    for (const auto& program : programs) {
      double stage_s = 0;
      for (const auto& in : program.code) {
        if (in.kind == Kind::Compute)
          stage_s += static_cast<double>(in.duration_ps) * 1e-12;
      }
      compute_s = std::max(compute_s, stage_s);
    }
    limits::check_simulated_time(compute_s, "this training step",
                                 step_time_found(model, hardware, plan), kStepTimeChange,
                                 plan.site("global_batch"));
  }
  StepSim sim(programs, placement, topology, trace, options.replica_symmetry,
              options.leaf_group_symmetry, options.model_rotation);
  // Refuse a step that would run for many minutes (docs/limits.md).
  {
    const double events = sim.estimated_events();
    if (estimate_only != nullptr) {
      *estimate_only = events;
      return {};
    }
    check_step_events(plan, events);
  }
  if (options.checked)
    options.checked();
  sim.run();

  account_step(ctx, programs, sim, result);
  if (p > 1) {
    auto& pr = result.pipeline;
    pr.stages = p;
    pr.schedule = to_string(plan.schedule);
    pr.virtual_stages = v;
    pr.microbatches = plan.microbatches;
    pr.ideal_bubble_fraction = ideal_bubble_fraction(plan.schedule, p, plan.microbatches, v);
    for (std::int64_t s = 0; s < p; ++s) {
      // Replica 0's chip of model index 0 on stage s.
      const auto& st = sim.stats()[static_cast<std::size_t>(s * ctx.k)];
      PipelineStage ps;
      ps.stage = s;
      for (auto n : works[static_cast<std::size_t>(s)].chunk_layers)
        ps.layers += n;
      ps.in_flight = max_in_flight(works[static_cast<std::size_t>(s)].order);
      ps.compute_s = st.compute_ps * 1e-12;
      ps.bubble_s = std::max(0.0, result.step_time_s - ps.compute_s -
                                      st.exposed_ps[static_cast<int>(detail::Axis::Model)] * 1e-12 -
                                      st.exposed_ps[static_cast<int>(detail::Axis::Data)] * 1e-12);
      ps.memory = memories[static_cast<std::size_t>(s)];
      pr.bubble_s += ps.bubble_s / static_cast<double>(p);
      pr.per_stage.push_back(std::move(ps));
    }
    pr.bubble_fraction = pr.bubble_s / result.step_time_s;
  }
  result.trace = std::move(sim.trace_events());
  if (trace.enabled) {
    const auto k = std::max<std::int64_t>(1, placement.model);
    const auto stages = std::max<std::int64_t>(1, placement.pipeline);
    const auto traced =
        std::min<std::int64_t>(trace.chips, static_cast<std::int64_t>(placement.chip.size()));
    // Mesh position c = (d p + s) k + m.
    for (std::int64_t c = 0; c < traced; ++c) {
      result.trace_chips.push_back({placement.chip[static_cast<std::size_t>(c)], c / k / stages,
                                    c % k, stages > 1 ? c / k % stages : -1});
    }
  }
  return result;
}

}  // namespace

}  // namespace meshsim::execution
