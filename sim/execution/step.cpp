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
#include "sim/execution/placement.hpp"
#include "sim/execution/program.hpp"
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
  if (plan.mesh.two_model_axes && plan.mesh.model2 > 1) {
    throw InputError(plan.site("mesh"),
                     "two model axes (data x model1 x model2) are not simulated yet",
                     plan.mesh.text(), "a data x model mesh");
  }
  Context ctx;
  ctx.model = &model;
  ctx.hardware = &hardware;
  ctx.plan = &plan;
  ctx.linears = resolve_sharding(model, plan);
  ctx.k = plan.mesh.model();
  ctx.t = plan.mesh.data;
  ctx.microbatch_images = plan.global_batch / (ctx.t * plan.microbatches);
  ctx.microbatch_tokens = ctx.microbatch_images * model.tokens;
  const ParamCounts params = count_params(model);
  const double layer_params = static_cast<double>(params.transformer + params.biases_and_norms) /
                              static_cast<double>(model.depth);
  ctx.layer_weight_bytes = layer_params / static_cast<double>(ctx.k) * 2.0;
  ctx.layer_gradient_bytes = layer_params / static_cast<double>(ctx.k) *
                             (plan.gradient_dtype == GradientDtype::Fp32 ? 4.0 : 2.0);
  ctx.lm_head = lm_head_work(model, plan, ctx.microbatch_images);

  const network::Topology topology = build_topology(hardware, plan);
  const Placement placement = place(plan, topology);
  ctx.topology = &topology;
  ctx.placement = &placement;
  if (ctx.k > 1) {
    // One ring step on the model axis: first member to its ring successor.
    std::vector<std::int32_t> route;
    const auto group = placement.model_group(0);
    topology.route(group.chips[static_cast<std::size_t>(placement.model_ring[0])],
                   group.chips[static_cast<std::size_t>(placement.model_ring[1])], route);
    ctx.ring_step_bandwidth = 1e300;
    for (auto link : route) {
      const auto& l = topology.links()[static_cast<std::size_t>(link)];
      ctx.ring_step_bandwidth = std::min(ctx.ring_step_bandwidth, l.bandwidth_bytes_per_s);
      ctx.ring_step_latency_s += static_cast<double>(l.latency_ps) * 1e-12;
    }
  }
  Program program = build_program(ctx);
  // Optimizer update: memory-bound over this chip's shard (docs/execution.md).
  StepResult result;
  result.memory = memory_per_chip(model, hardware, plan);
  {
    const Op update = optimizer_update_op(result.memory, plan);
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
    for (const auto& in : program.code) {
      if (in.kind == Kind::Compute)
        compute_s += static_cast<double>(in.duration_ps) * 1e-12;
    }
    limits::check_simulated_time(compute_s, "this training step",
                                 step_time_found(model, hardware, plan), kStepTimeChange,
                                 plan.site("global_batch"));
  }
  StepSim sim(program, placement, topology, trace, options.replica_symmetry);
  // Refuse a step that would run for many minutes (docs/limits.md).
  {
    const double events = sim.estimated_events();
    if (estimate_only != nullptr) {
      *estimate_only = events;
      return {};
    }
    check_step_events(plan, events);
  }
  sim.run();

  account_step(ctx, program, sim, result);
  result.trace = std::move(sim.trace_events());
  if (trace.enabled) {
    const auto k = std::max<std::int64_t>(1, placement.model);
    const auto traced =
        std::min<std::int64_t>(trace.chips, static_cast<std::int64_t>(placement.chip.size()));
    for (std::int64_t c = 0; c < traced; ++c)
      result.trace_chips.push_back({placement.chip[static_cast<std::size_t>(c)], c / k, c % k});
  }
  return result;
}

}  // namespace

}  // namespace meshsim::execution
