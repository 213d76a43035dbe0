#include "sim/execution/step_result.hpp"

#include <algorithm>
#include <cstddef>
#include <vector>

namespace meshsim::execution::detail {
namespace {

// Least time for a chip to send `bytes` of one axis's collectives (the per-member share of every
// collective, counted as (p-1)/p of its buffer, twice for all-reduce), docs/execution.md.
// Torus: the axis's traffic stays on the dimensions it spans, both directions of each.
// GPU cluster: a node needs, per group, only one copy of what comes from other nodes (it can share
// or pre-reduce over NVLink), so of a member's (p-1)/p share at least (p-G)/(p G) of the buffer
// must cross a NIC per member (G members of the group per node); the hierarchical algorithm meets
// this exactly. NVLink traffic is left out (a looser, still valid bound).
double axis_comm_bound_s(const HardwareProfile& hw, const Plan& plan, MeshAxis axis, double bytes) {
  if (bytes <= 0)
    return 0;
  if (hw.kind == InterconnectKind::Torus) {
    const auto& factors = axis == MeshAxis::Data ? plan.mapping.data : plan.mapping.model1;
    std::vector<int> dims;
    for (const auto& f : factors) {
      if (f.size > 1 && std::find(dims.begin(), dims.end(), f.dim) == dims.end()) {
        dims.push_back(f.dim);
      }
    }
    return bytes / (2.0 * static_cast<double>(std::max<std::size_t>(1, dims.size())) *
                    hw.torus.link_bandwidth_bytes_per_s);
  }
  const std::int64_t k = plan.mesh.model();
  const std::int64_t g = hw.gpu.gpus_per_node;
  const std::int64_t p = axis == MeshAxis::Model1 ? k : plan.mesh.data;
  // Members of this axis's group that share a node (model-major ranks, docs/plans.md).
  const std::int64_t per_node = axis == MeshAxis::Model1
                                    ? std::min(k, g)
                                    : std::max<std::int64_t>(1, std::min(p, g / std::min(k, g)));
  if (p <= 1)
    return 0;
  if (per_node >= p)
    return bytes / hw.gpu.nvlink_bandwidth_bytes_per_s;
  const double outside = static_cast<double>(p - per_node) / static_cast<double>(p - 1) /
                         static_cast<double>(per_node);
  return bytes * outside / hw.gpu.nic_bandwidth_bytes_per_s;
}

}  // namespace

void account_step(const Context& ctx, const Program& program, const StepSim& sim,
                  StepResult& result) {
  const auto& model = *ctx.model;
  const auto& hardware = *ctx.hardware;
  const auto& plan = *ctx.plan;
  const auto& placement = *ctx.placement;
  const auto& topology = *ctx.topology;
  const auto& stats = sim.stats();
  const auto& finish = sim.finish();
  std::size_t slowest = 0;
  for (std::size_t c = 1; c < finish.size(); ++c) {
    if (finish[c] > finish[slowest])
      slowest = c;
  }
  // The input pipeline prefetches: it bounds the step only when it is the slower of the two.
  result.input_pipeline_s = hardware.cost.stack.input_time_per_image_s *
                            static_cast<double>(plan.global_batch / plan.mesh.data);
  const double step = std::max(finish[slowest].seconds(), result.input_pipeline_s);
  const auto chips = plan.mesh.chips();
  result.step_time_s = step;
  result.component_busy_s = program.component_s;
  result.chips = chips;
  result.global_batch = plan.global_batch;
  result.microbatch_images = ctx.microbatch_images;
  const double tokens = static_cast<double>(plan.global_batch) * static_cast<double>(model.tokens);
  result.tokens_per_s = tokens / step;
  result.images_per_s = static_cast<double>(plan.global_batch) / step;
  result.tokens_per_s_per_chip = result.tokens_per_s / static_cast<double>(chips);
  result.images_per_s_per_chip = result.images_per_s / static_cast<double>(chips);
  result.model_flop = flop_per_token(model).train * tokens;
  double executed = 0, model_bytes = 0, data_bytes = 0, compute_max = 0;
  for (const auto& s : stats) {
    executed += s.flop;
    model_bytes += s.bytes_sent[static_cast<int>(Axis::Model)];
    data_bytes += s.bytes_sent[static_cast<int>(Axis::Data)];
    compute_max = std::max(compute_max, s.compute_ps * 1e-12);
  }
  executed *= sim.replica_factor();
  model_bytes *= sim.replica_factor();
  data_bytes *= sim.replica_factor();
  result.executed_flop = executed;
  const double peak = hardware.chip.peak_bf16_flop_per_s;
  result.mfu = result.model_flop / (static_cast<double>(chips) * peak * step);
  result.hfu = executed / (static_cast<double>(chips) * peak * step);
  result.compute_only_s = compute_max;
  const auto n = static_cast<double>(chips);
  result.model_axis.bytes_sent_per_chip = model_bytes / n;
  result.data_axis.bytes_sent_per_chip = data_bytes / n;
  const auto& slow = stats[slowest];
  result.model_axis.exposed_s = slow.exposed_ps[static_cast<int>(Axis::Model)] * 1e-12;
  result.data_axis.exposed_s = slow.exposed_ps[static_cast<int>(Axis::Data)] * 1e-12;
  result.compute_lower_bound_s = slow.flop / peak;
  result.comm_lower_bound_s =
      std::max(axis_comm_bound_s(hardware, plan, MeshAxis::Model1,
                                 slow.bytes_sent[static_cast<int>(Axis::Model)]),
               axis_comm_bound_s(hardware, plan, MeshAxis::Data,
                                 slow.bytes_sent[static_cast<int>(Axis::Data)]));
  result.lower_bound_s = std::max(result.compute_lower_bound_s, result.comm_lower_bound_s);

  result.bytes_per_link_class = sim.bytes_per_link_class();
  const auto& links = topology.links();
  for (std::size_t i = 0; i < links.size(); ++i) {
    const double busy = sim.link_busy_s(static_cast<std::int32_t>(i));
    auto& u = result.link_utilization[static_cast<std::size_t>(links[i].link_class)];
    u = std::max(u, busy / step);
  }

  // Per-linear table, per layer (averaged over layers and microbatches) on the slowest chip.
  const double per_layer = 1e-12 / static_cast<double>(model.depth * plan.microbatches);
  double row_compute = 0;
  for (std::size_t i = 0; i < ctx.linears.size(); ++i) {
    const auto& r = ctx.linears[i];
    LinearTiming lt;
    lt.name = r.name;
    lt.sharding = to_string(r.chosen);
    lt.communicates = r.communicates;
    auto row = [&](std::size_t index) {
      return index < slow.rows.size() ? slow.rows[index] : StepSim::RowStats{};
    };
    const auto f = row(2 * i), b = row(2 * i + 1);
    lt.forward_compute_s = f.compute_ps * per_layer;
    lt.backward_compute_s = b.compute_ps * per_layer;
    lt.forward_comm_s = f.comm_ps * per_layer;
    lt.backward_comm_s = b.comm_ps * per_layer;
    lt.forward_exposed_s = f.exposed_ps * per_layer;
    lt.backward_exposed_s = b.exposed_ps * per_layer;
    lt.bytes_per_layer = (f.bytes + b.bytes) / static_cast<double>(model.depth * plan.microbatches);
    row_compute += f.compute_ps + b.compute_ps;
    result.linears.push_back(lt);
  }
  if (ctx.lm_head.enabled) {
    const std::size_t head = 2 * ctx.linears.size();
    for (std::size_t r = head; r < head + 2 && r < slow.rows.size(); ++r) {
      result.lm_head_compute_s += slow.rows[r].compute_ps * 1e-12;
      result.lm_head_exposed_s += slow.rows[r].exposed_ps * 1e-12;
      row_compute += slow.rows[r].compute_ps;
    }
  }
  result.other_compute_per_layer_s =
      (slow.compute_ps - slow.optimizer_ps - row_compute) * per_layer;

  ChipBreakdown& cb = result.slowest;
  cb.chip = placement.chip[slowest];
  cb.data_index = static_cast<std::int64_t>(slowest) / placement.model;
  cb.model_index = static_cast<std::int64_t>(slowest) % placement.model;
  cb.finish_s = step;
  cb.compute_s = slow.compute_ps * 1e-12;
  cb.exposed_model_s = result.model_axis.exposed_s;
  cb.exposed_data_s = result.data_axis.exposed_s;
  cb.optimizer_s = slow.optimizer_ps * 1e-12;
  cb.recompute_s = slow.recompute_ps * 1e-12;
  if (result.input_pipeline_s >= finish[slowest].seconds()) {
    result.bottleneck = "input pipeline";
  } else if (cb.compute_s >= cb.exposed_model_s && cb.compute_s >= cb.exposed_data_s) {
    result.bottleneck = "compute";
  } else {
    result.bottleneck = cb.exposed_model_s >= cb.exposed_data_s ? "model-axis communication"
                                                                : "data-axis communication";
  }
  result.topology = topology.description();
  result.mapping = plan.mapping.text();
  result.events = sim.events();
  result.transfers = sim.messages();
  result.simulated_chips = sim.simulated_chips();
  result.symmetry = sim.symmetry_note();
  result.memoized_data_collectives = sim.memoized_collectives();
  result.stepwise_data_collectives = sim.stepwise_collectives();
}

}  // namespace meshsim::execution::detail
