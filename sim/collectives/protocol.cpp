#include "sim/collectives/protocol.hpp"

#include <algorithm>
#include <vector>

namespace meshsim::collectives {

ProtocolCost choose_protocol(const CollectiveCostSpec& costs, const CostHint& hint,
                             double bandwidth_bytes_per_s) {
  if (hint.pricing == Pricing::Nvls && costs.nvls_bandwidth_bytes_per_s > 0 &&
      bandwidth_bytes_per_s > 0) {
    return {"nvls", bandwidth_bytes_per_s / costs.nvls_bandwidth_bytes_per_s, costs.nvls_latency_s};
  }
  if (!costs.has_protocols || bandwidth_bytes_per_s <= 0) {
    return {};
  }
  const ProtocolCost candidates[] = {
      {"ll", kLlWireFactor, costs.ll_step_latency_s},
      {"ll128", kLl128WireFactor, costs.ll128_step_latency_s},
      {"simple", 1.0, costs.simple_step_latency_s},
  };
  const double steps = std::max(1, hint.steps);
  const double bytes = static_cast<double>(hint.member_bytes);
  ProtocolCost best = candidates[0];
  double best_s = -1;
  for (const auto& c : candidates) {
    const double t = steps * c.step_latency_s + c.wire_factor * bytes / bandwidth_bytes_per_s;
    if (best_s < 0 || t < best_s) {
      best = c;
      best_s = t;
    }
  }
  return best;
}

double route_bandwidth(const network::Topology& topology, std::int32_t src, std::int32_t dst) {
  std::vector<std::int32_t> path;
  topology.route(src, dst, path);
  double bandwidth = 0;
  for (std::size_t h = 0; h < path.size(); ++h) {
    const double b = topology.links()[static_cast<std::size_t>(path[h])].bandwidth_bytes_per_s;
    bandwidth = h == 0 ? b : std::min(bandwidth, b);
  }
  return bandwidth;
}

ProtocolCost protocol_for(const network::Topology& topology, const Schedule& schedule) {
  if (schedule.size() == 0) {
    return {};
  }
  const auto& first = schedule.transfers.front();
  return choose_protocol(topology.collective_costs(), schedule.hint,
                         route_bandwidth(topology, first.src_chip, first.dst_chip));
}

}  // namespace meshsim::collectives
