#include "sim/execution/ring_nic_bound.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <vector>

#include "sim/execution/layer_program.hpp"
#include "sim/execution/placement.hpp"
#include "sim/execution/step_context.hpp"
#include "sim/plan/sharding.hpp"

namespace meshsim::execution {

using collectives::CollectiveOp;

double model_ring_nic_bound_s(const ModelConfig& model, const HardwareProfile& hardware,
                              const Plan& plan, const network::Topology& topology) {
  const std::int64_t k = plan.mesh.model();
  if (topology.kind() != network::TopologyKind::GpuCluster || !plan.async_collective_matmul ||
      plan.mesh.model2 > 1 || k < 2)
    return 0;
  const Placement placement = place(plan, topology);
  const detail::Context ctx = detail::make_context(model, hardware, plan, topology, placement);
  // Per member of the first model group: the bandwidth of the NIC link its send to the ring
  // neighbour in each direction leaves by (0: the neighbour is in its node).
  const auto group = placement.model_group(0);
  std::vector<int> pos(static_cast<std::size_t>(k));
  for (std::int64_t i = 0; i < k; ++i)
    pos[static_cast<std::size_t>(placement.model_ring[static_cast<std::size_t>(i)])] =
        static_cast<int>(i);
  std::vector<double> nic_plus(static_cast<std::size_t>(k)), nic_minus(nic_plus.size());
  std::vector<std::int32_t> route;
  bool any = false;
  for (std::int64_t m = 0; m < k; ++m) {
    for (int direction : {+1, -1}) {
      const auto to = placement.model_ring[static_cast<std::size_t>(
          ((pos[static_cast<std::size_t>(m)] + direction) % k + k) % k)];
      route.clear();
      topology.route(group.chips[static_cast<std::size_t>(m)],
                     group.chips[static_cast<std::size_t>(to)], route);
      double bandwidth = 0;
      for (auto link : route) {
        const auto& l = topology.links()[static_cast<std::size_t>(link)];
        if (l.link_class == network::LinkClass::Nic) {
          bandwidth = l.bandwidth_bytes_per_s;
          break;  // the first NIC link of the route: the sender's
        }
      }
      (direction > 0 ? nic_plus : nic_minus)[static_cast<std::size_t>(m)] = bandwidth;
      any = any || bandwidth > 0;
    }
  }
  if (!any)
    return 0;
  // Passes of stage 0's layers: every microbatch's forward (twice with full recomputation) and
  // backward.
  const auto layers = stage_layers(plan, model.depth);
  std::int64_t stage_layers_0 = 0;
  for (std::size_t i = 0; i < layers.size(); i += static_cast<std::size_t>(plan.mesh.pipeline))
    stage_layers_0 += layers[i];
  const double mbs = static_cast<double>(plan.microbatches);
  const double forward_passes =
      mbs * static_cast<double>(stage_layers_0) * (plan.remat == Remat::Full ? 2.0 : 1.0);
  const double backward_passes = mbs * static_cast<double>(stage_layers_0);
  const bool bidi = plan.bidirectional && k > 2;
  // Seconds of NIC time per member over the step.
  std::vector<double> busy(static_cast<std::size_t>(k), 0.0);
  auto ring = [&](std::int64_t block, int direction, double passes) {
    for (std::int64_t m = 0; m < k; ++m) {
      const auto i = static_cast<std::size_t>(m);
      double s = 0;
      if (bidi) {
        if (nic_plus[i] > 0)
          s += static_cast<double>(block / 2) / nic_plus[i];
        if (nic_minus[i] > 0)
          s += static_cast<double>(block - block / 2) / nic_minus[i];
      } else {
        const double bw = direction > 0 ? nic_plus[i] : nic_minus[i];
        if (bw > 0)
          s += static_cast<double>(block) / bw;
      }
      busy[i] += s * static_cast<double>(k - 1) * passes;
    }
  };
  const auto ops =
      layer_ops(model, LayerShape{ctx.microbatch_images, k, 2, plan.attention,
                                  plan.activation_layout == ActivationLayout::Replicated,
                                  plan.sequence_parallel});
  for (const auto& op : ops) {
    if (op.kind != OpKind::Matmul || op.linear.empty())
      continue;
    const LinearMove* move = model_axis_move(find_linear(ctx.linears, op.linear), op.pass);
    if (move == nullptr)
      continue;
    const double passes = op.pass == Pass::Forward ? forward_passes : backward_passes;
    // As the step's emitter: the block per ring step, all-gathers passed the - way, partial
    // sums the + way, an all-reduce's reduce-scatter half as partial sums.
    double block = move->bytes_per_token / static_cast<double>(k - 1) *
                   static_cast<double>(ctx.microbatch_tokens);
    CollectiveOp kind = CollectiveOp::ReduceScatter;
    int direction = +1;
    if (move->kind == MoveKind::AllGather) {
      kind = CollectiveOp::AllGather;
      direction = -1;
    } else if (move->kind == MoveKind::AllReduce) {
      block /= 2.0;
    }
    if (detail::collective_matmul_pays(ctx, op, block, kind))
      ring(static_cast<std::int64_t>(std::llround(block)), direction, passes);
  }
  return *std::max_element(busy.begin(), busy.end());
}

}  // namespace meshsim::execution
