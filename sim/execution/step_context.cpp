#include "sim/execution/step_context.hpp"

#include <algorithm>
#include <vector>

#include "sim/execution/lm_head.hpp"
#include "sim/plan/memory.hpp"
#include "sim/plan/sharding.hpp"

namespace meshsim::execution::detail {

Context make_context(const ModelConfig& model, const HardwareProfile& hardware, const Plan& plan,
                     const network::Topology& topology, const Placement& placement) {
  Context ctx;
  ctx.model = &model;
  ctx.hardware = &hardware;
  ctx.plan = &plan;
  ctx.linears = resolve_sharding(model, plan);
  ctx.k = plan.mesh.model();
  ctx.t = plan.mesh.data;
  ctx.two_axes = plan.mesh.model2 > 1;
  ctx.microbatch_images = plan.global_batch / (ctx.t * plan.microbatches);
  ctx.microbatch_tokens = ctx.microbatch_images * model.tokens;
  const LayerShard layer = layer_shard(model, plan);
  ctx.layer_weight_bytes = layer.weight_bytes;
  ctx.layer_gradient_bytes = layer.gradient_bytes;
  ctx.lm_head = lm_head_work(model, plan, ctx.microbatch_images);
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
  return ctx;
}

}  // namespace meshsim::execution::detail
