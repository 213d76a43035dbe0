#include "sim/collectives/ring_symmetry.hpp"

#include <cstdint>
#include <string>
#include <vector>

#include "sim/limits.hpp"

namespace meshsim::collectives {

namespace {

// Routes of every ring edge, flattened: edge e's links are links[offset[e] .. offset[e+1]).
struct EdgeRoutes {
  std::vector<std::int32_t> links;
  std::vector<std::size_t> offset{0};
};

}  // namespace

std::string reduce_ring_plan(const network::Topology& topology, const Group& group,
                             const RingPlan& plan, ReducedRing& out) {
  if (plan.slices.size() != 1)
    return "pipeline slices share links";
  if (plan.slices[0].size() != 1)
    return "more than one phase";
  const RingPhase& phase = plan.slices[0][0];
  if (phase.rings.size() != 1)
    return "more than one ring";
  const auto& ring = phase.rings[0];
  const int n = static_cast<int>(ring.size());
  if (n < 2)
    return "a ring of fewer than two members";
  const int k = phase.pieces_per_shard;
  const std::int64_t pieces = static_cast<std::int64_t>(n) * k;
  const auto ways = ring_directions(phase, n);  // (direction, bytes), as build_ring_plan runs them
  for (const auto& [direction, bytes] : ways) {
    if (bytes % pieces != 0)
      return "the pieces differ in size";
  }
  std::vector<int> directions;
  for (const auto& way : ways)
    directions.push_back(way.first);
  // Every edge's route; every link used once at most.
  EdgeRoutes routes;
  std::vector<std::uint8_t> used(topology.links().size(), 0);
  std::vector<std::int32_t> path;
  for (int direction : directions) {
    for (int i = 0; i < n; ++i) {
      const auto src = group.chips[static_cast<std::size_t>(ring[static_cast<std::size_t>(i)])];
      const auto dst = group.chips[static_cast<std::size_t>(
          ring[static_cast<std::size_t>((i + direction + n) % n)])];
      topology.route(src, dst, path);
      if (path.empty())
        return "a member sends to itself";
      for (auto l : path) {
        auto& u = used[static_cast<std::size_t>(l)];
        if (u)
          return "two ring edges share a link";
        u = 1;
      }
      routes.links.insert(routes.links.end(), path.begin(), path.end());
      routes.offset.push_back(routes.links.size());
    }
  }
  // Edges e and f (same direction) alike: the same hops, hop by hop.
  const auto& links = topology.links();
  auto alike = [&](std::size_t e, std::size_t f) {
    const auto a0 = routes.offset[e], a1 = routes.offset[e + 1];
    const auto b0 = routes.offset[f], b1 = routes.offset[f + 1];
    if (a1 - a0 != b1 - b0)
      return false;
    for (std::size_t h = 0; h < a1 - a0; ++h) {
      const auto& x = links[static_cast<std::size_t>(routes.links[a0 + h])];
      const auto& y = links[static_cast<std::size_t>(routes.links[b0 + h])];
      if (x.bandwidth_bytes_per_s != y.bandwidth_bytes_per_s || x.latency_ps != y.latency_ps ||
          x.link_class != y.link_class)
        return false;
    }
    return true;
  };
  // The smallest period: a divisor P of n with edge i alike edge i + P everywhere.
  int period = n;
  for (int p = 1; p < n; ++p) {
    if (n % p != 0)
      continue;
    bool ok = true;
    for (std::size_t w = 0; ok && w < directions.size(); ++w) {
      const std::size_t base = w * static_cast<std::size_t>(n);
      for (int i = 0; ok && i + p < n; ++i)
        ok = alike(base + static_cast<std::size_t>(i), base + static_cast<std::size_t>(i + p));
    }
    if (ok) {
      period = p;
      break;
    }
  }
  if (period == n)
    return "no rotation of the ring maps its edges onto alike edges";
  // Positions 0..period-1 in build_ring_plan's order (step, position, piece), each direction's
  // ring after the other; a transfer waits for its predecessor's previous step, whose
  // representative is the predecessor's position modulo the period.
  // Refuse a reduction too large to build (a ring over whole pods of a three-level cluster has a
  // period of a pod): the caller's size check then refuses the full schedule in one line.
  const std::uint64_t reduced_transfers = static_cast<std::uint64_t>(ring_steps(phase.pass, n)) *
                                          static_cast<std::uint64_t>(period) *
                                          static_cast<std::uint64_t>(k) * directions.size();
  if (reduced_transfers > limits::kMaxScheduleTransfers)
    return "the reduced schedule would have more than " +
           std::to_string(limits::kMaxScheduleTransfers) + " transfers";
  out = ReducedRing{};
  out.period = period;
  out.copies = n / period;
  out.schedule.hint = ring_plan_hint(plan);
  const int steps = ring_steps(phase.pass, n);
  const auto per_direction = static_cast<std::size_t>(steps) * static_cast<std::size_t>(period) *
                             static_cast<std::size_t>(k);
  out.schedule.transfers.reserve(per_direction * directions.size());
  out.schedule.deps.reserve(per_direction * directions.size());
  out.schedule.dep_offsets.reserve(per_direction * directions.size() + 1);
  for (std::size_t w = 0; w < directions.size(); ++w) {
    const int direction = directions[w];
    const std::int64_t bytes = ways[w].second / pieces;
    const auto base = static_cast<std::uint32_t>(out.schedule.size());
    auto index = [&](int step, int position, int piece) {
      return base + static_cast<std::uint32_t>(
                        (static_cast<std::int64_t>(step) * period + position) * k + piece);
    };
    for (int step = 0; step < steps; ++step) {
      for (int i = 0; i < period; ++i) {
        const int from = ((i - direction) % period + period) % period;
        const auto src = group.chips[static_cast<std::size_t>(ring[static_cast<std::size_t>(i)])];
        const auto dst = group.chips[static_cast<std::size_t>(
            ring[static_cast<std::size_t>((i + direction + n) % n)])];
        for (int j = 0; j < k; ++j) {
          if (step == 0)
            out.schedule.add(src, dst, bytes, nullptr, 0);
          else
            out.schedule.add_after(src, dst, bytes, index(step - 1, from, j));
        }
      }
    }
  }
  return {};
}

}  // namespace meshsim::collectives
