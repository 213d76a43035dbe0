#include "sim/collectives/nvls.hpp"

#include <algorithm>
#include <cmath>
#include <vector>

#include "sim/collectives/protocol.hpp"
#include "sim/engine/sim_time.hpp"

namespace meshsim::collectives {

Schedule nvls_all_reduce(const Group& group, std::int64_t bytes, int chunks) {
  Schedule schedule;
  const int p = group.size();
  if (p < 2) {
    return schedule;
  }
  const int k = std::max(1, chunks);
  for (int i = 0; i < p; ++i) {
    const auto src = group.chips[static_cast<std::size_t>(i)];
    const auto dst = group.chips[static_cast<std::size_t>((i + 1) % p)];
    for (int piece = 0; piece < k; ++piece) {
      schedule.add(src, dst, part_bytes(bytes, k, piece), {});
    }
  }
  schedule.hint = {Pricing::Nvls, 1, bytes};
  return schedule;
}

std::uint64_t nvls_transfer_count(const Group& group, int chunks) {
  const auto p = static_cast<std::uint64_t>(group.size());
  return p < 2 ? 0 : p * static_cast<std::uint64_t>(std::max(1, chunks));
}

bool nvls_applies(const network::Topology& topology, const Group& group) {
  const auto& costs = topology.collective_costs();
  const int node = topology.gpus_per_node();
  if (topology.kind() != network::TopologyKind::GpuCluster ||
      costs.nvls_bandwidth_bytes_per_s <= 0 || node <= 0 ||
      group.size() < std::max(2, costs.nvls_min_gpus)) {
    return false;
  }
  const auto first_node = group.chips.front() / node;
  return std::all_of(group.chips.begin(), group.chips.end(),
                     [&](std::int32_t chip) { return chip / node == first_node; });
}

std::optional<double> nvls_closed_form_s(const network::Topology& topology, const Group& group,
                                         std::int64_t bytes, int chunks) {
  if (!nvls_applies(topology, group)) {
    return std::nullopt;
  }
  const int k = std::max(1, chunks);
  const auto src = group.chips[0];
  const auto dst = group.chips[1];
  std::vector<std::int32_t> path;
  topology.route(src, dst, path);
  std::int64_t latency_ps = 0;
  for (auto link : path) {
    latency_ps += topology.links()[static_cast<std::size_t>(link)].latency_ps;
  }
  const double bandwidth = route_bandwidth(topology, src, dst);
  const auto protocol =
      choose_protocol(topology.collective_costs(), {Pricing::Nvls, 1, bytes}, bandwidth);
  // The k pieces of one member queue on its up-link; the last arrives after all of them.
  double hold_s = 0;
  for (int piece = 0; piece < k; ++piece) {
    const auto wire = static_cast<std::int64_t>(
        std::ceil(static_cast<double>(part_bytes(bytes, k, piece)) * protocol.wire_factor));
    hold_s += engine::serialization_time(wire, bandwidth).seconds();
  }
  return engine::SimTime::from_seconds(protocol.step_latency_s).seconds() +
         static_cast<double>(latency_ps) * 1e-12 + hold_s;
}

}  // namespace meshsim::collectives
