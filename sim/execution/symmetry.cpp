#include "sim/execution/symmetry.hpp"

namespace meshsim::execution {

std::string replica_symmetry_violation(
    const network::Topology& topology, const Placement& placement,
    const std::vector<std::pair<std::int32_t, std::int32_t>>& model_pairs,
    const std::vector<std::vector<std::int32_t>>& data_links) {
  const auto& links = topology.links();
  const auto n = links.size();
  const std::int64_t t = placement.data, k = placement.model;
  // owner[l]: -1 unused, d in [0, t) replica d, t + m data group m.
  std::vector<std::int64_t> owner(n, -1);
  // The link of replica 0 that each link of the replica being checked stands for, and back.
  std::vector<std::int32_t> to_base(n, -1), from_base(n, -1);
  std::vector<std::int64_t> stamp_to(n, -1), stamp_from(n, -1);  // replica that set the entry
  std::vector<std::int32_t> route, base_route;
  auto chip = [&](std::int64_t d, std::int32_t m) {
    return placement.chip[static_cast<std::size_t>(d * k + m)];
  };
  for (std::int64_t d = 0; d < t; ++d) {
    for (const auto& [a, b] : model_pairs) {
      topology.route(chip(d, a), chip(d, b), route);
      topology.route(chip(0, a), chip(0, b), base_route);
      if (route.size() != base_route.size()) {
        return "replica " + std::to_string(d) + " routes model index " + std::to_string(a) +
               " -> " + std::to_string(b) + " over " + std::to_string(route.size()) +
               " links, replica 0 over " + std::to_string(base_route.size());
      }
      for (std::size_t h = 0; h < route.size(); ++h) {
        const auto l = static_cast<std::size_t>(route[h]);
        const auto base = base_route[h];
        const auto& x = links[l];
        const auto& y = links[static_cast<std::size_t>(base)];
        if (owner[l] != -1 && owner[l] != d) {
          return "replicas " + std::to_string(owner[l]) + " and " + std::to_string(d) +
                 " share a link";
        }
        owner[l] = d;
        if (x.bandwidth_bytes_per_s != y.bandwidth_bytes_per_s || x.latency_ps != y.latency_ps ||
            x.link_class != y.link_class) {
          return "replica " + std::to_string(d) + " has links unlike replica 0's";
        }
        // The correspondence must be one to one, or the replicas' link sharing differs.
        auto& back = from_base[static_cast<std::size_t>(base)];
        if (stamp_to[l] != d) {
          stamp_to[l] = d;
          to_base[l] = base;
        } else if (to_base[l] != base) {
          return "replica " + std::to_string(d) + " shares links unlike replica 0";
        }
        if (stamp_from[static_cast<std::size_t>(base)] != d) {
          stamp_from[static_cast<std::size_t>(base)] = d;
          back = route[h];
        } else if (back != route[h]) {
          return "replica " + std::to_string(d) + " shares links unlike replica 0";
        }
      }
    }
  }
  for (std::size_t m = 0; m < data_links.size(); ++m) {
    const auto id = t + static_cast<std::int64_t>(m);
    for (auto l : data_links[m]) {
      auto& o = owner[static_cast<std::size_t>(l)];
      if (o != -1 && o != id) {
        return o < t ? "data group " + std::to_string(m) + " shares links with replica " +
                           std::to_string(o) + "'s model-axis traffic"
                     : "data groups " + std::to_string(o - t) + " and " + std::to_string(m) +
                           " share links";
      }
      o = id;
    }
  }
  return {};
}

}  // namespace meshsim::execution
