#include "sim/execution/step_context.hpp"

#include <algorithm>
#include <vector>

#include "sim/execution/lm_head.hpp"
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
  const ParamCounts params = count_params(model);
  const double layer_params = static_cast<double>(params.transformer + params.biases_and_norms) /
                              static_cast<double>(model.depth);
  ctx.layer_weight_bytes = layer_params / static_cast<double>(ctx.k) * 2.0;
  ctx.layer_gradient_bytes = layer_params / static_cast<double>(ctx.k) *
                             (plan.gradient_dtype == GradientDtype::Fp32 ? 4.0 : 2.0);
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
