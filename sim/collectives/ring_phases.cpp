#include "sim/collectives/ring_phases.hpp"

#include <algorithm>
#include <cstdint>
#include <vector>

#include "sim/collectives/protocol.hpp"
#include "sim/engine/sim_time.hpp"

namespace meshsim::collectives {

std::vector<int> snake_order(const std::vector<int>& shape) {
  std::vector<int> order{0};
  int stride = 1;
  for (int n : shape) {
    std::vector<int> next;
    next.reserve(order.size() * static_cast<std::size_t>(n));
    for (int v = 0; v < n; ++v) {
      if (v % 2 == 0) {
        for (int index : order) {
          next.push_back(index + v * stride);
        }
      } else {
        for (auto it = order.rbegin(); it != order.rend(); ++it) {
          next.push_back(*it + v * stride);
        }
      }
    }
    order = std::move(next);
    stride *= n;
  }
  return order;
}

int pieces_per_shard(int chunks, int ring_size) {
  return std::max(1, (chunks + ring_size - 1) / std::max(1, ring_size));
}

int ring_steps(RingPass pass, int n) {
  return pass == RingPass::AllReduce ? 2 * (n - 1) : n - 1;
}

int ring_shard(RingPass pass, int n, int position, int step, int direction) {
  const int rs_steps = pass == RingPass::AllGather ? 0 : n - 1;
  const int back = step < rs_steps ? step + 1 : step - rs_steps;
  return ((position - direction * back) % n + n) % n;
}

std::vector<std::pair<int, std::int64_t>> ring_directions(const RingPhase& phase, int n) {
  if (phase.bidirectional && n > 2)
    return {{+1, phase.ring_buffer_bytes - phase.ring_buffer_bytes / 2},
            {-1, phase.ring_buffer_bytes / 2}};
  return {{+1, phase.ring_buffer_bytes}};
}

namespace {

// Rings along dimension `dim` of `shape`: one per combination of the other coordinates.
std::vector<std::vector<int>> rings_along(const std::vector<int>& shape, std::size_t dim) {
  int stride = 1, total = 1;
  for (std::size_t d = 0; d < shape.size(); ++d) {
    if (d < dim) {
      stride *= shape[d];
    }
    total *= shape[d];
  }
  const int n = shape[dim];
  std::vector<std::vector<int>> rings;
  for (int base = 0; base < total; ++base) {
    if ((base / stride) % n != 0) {
      continue;
    }
    std::vector<int> ring(static_cast<std::size_t>(n));
    for (int c = 0; c < n; ++c) {
      ring[static_cast<std::size_t>(c)] = base + c * stride;
    }
    rings.push_back(std::move(ring));
  }
  return rings;
}

// Reduce-scatter over dims in order, all-gather in reverse order; an all-reduce does RS on all
// but the last dim, one pipelined all-reduce ring pass on the last, then AG back.
std::vector<RingPhase> per_dimension_phases(const std::vector<int>& shape, CollectiveOp op,
                                            std::int64_t bytes, int chunks, bool bidirectional) {
  std::vector<std::size_t> dims;
  for (std::size_t d = 0; d < shape.size(); ++d) {
    if (shape[d] > 1) {
      dims.push_back(d);
    }
  }
  // Ring buffer of dim d's phase: S divided by the sizes of the dims reduced-scattered before it.
  std::vector<std::int64_t> buffer(dims.size());
  std::int64_t divisor = 1;
  for (std::size_t i = 0; i < dims.size(); ++i) {
    buffer[i] = bytes / divisor;
    divisor *= shape[dims[i]];
  }
  auto phase = [&](std::size_t i, RingPass pass) {
    const int n = shape[dims[i]];
    return RingPhase{rings_along(shape, dims[i]), pass, bidirectional, buffer[i],
                     pieces_per_shard(chunks, n)};
  };
  std::vector<RingPhase> phases;
  const std::size_t m = dims.size();
  if (op == CollectiveOp::ReduceScatter) {
    for (std::size_t i = 0; i < m; ++i) {
      phases.push_back(phase(i, RingPass::ReduceScatter));
    }
  } else if (op == CollectiveOp::AllGather) {
    for (std::size_t i = m; i-- > 0;) {
      phases.push_back(phase(i, RingPass::AllGather));
    }
  } else if (m > 0) {
    for (std::size_t i = 0; i + 1 < m; ++i) {
      phases.push_back(phase(i, RingPass::ReduceScatter));
    }
    phases.push_back(phase(m - 1, RingPass::AllReduce));
    for (std::size_t i = m - 1; i-- > 0;) {
      phases.push_back(phase(i, RingPass::AllGather));
    }
  }
  return phases;
}

RingPass pass_of(CollectiveOp op) {
  switch (op) {
    case CollectiveOp::ReduceScatter:
      return RingPass::ReduceScatter;
    case CollectiveOp::AllReduce:
      return RingPass::AllReduce;
    default:
      return RingPass::AllGather;
  }
}

using Frontier = std::vector<std::vector<std::uint32_t>>;  // per group member: last receives

void append_ring(Schedule& schedule, const Group& group, const std::vector<int>& ring,
                 RingPass pass, int direction, std::int64_t ring_bytes, int k, const Frontier& in,
                 Frontier& out) {
  const int n = static_cast<int>(ring.size());
  const int steps = ring_steps(pass, n);
  const std::int64_t pieces = static_cast<std::int64_t>(n) * k;
  const auto base = static_cast<std::uint32_t>(schedule.size());
  auto index = [&](int step, int position, int piece) {
    return base +
           static_cast<std::uint32_t>((static_cast<std::int64_t>(step) * n + position) * k + piece);
  };
  for (int step = 0; step < steps; ++step) {
    for (int i = 0; i < n; ++i) {
      const int from = (i - direction + n) % n;  // who sent to i in the previous step
      const int to = (i + direction + n) % n;
      const int shard = ring_shard(pass, n, i, step, direction);
      const auto& ready = in[static_cast<std::size_t>(ring[static_cast<std::size_t>(i)])];
      for (int j = 0; j < k; ++j) {
        const std::int64_t bytes =
            part_bytes(ring_bytes, pieces, static_cast<std::int64_t>(shard) * k + j);
        const auto src = group.chips[static_cast<std::size_t>(ring[static_cast<std::size_t>(i)])];
        const auto dst = group.chips[static_cast<std::size_t>(ring[static_cast<std::size_t>(to)])];
        if (step == 0) {
          schedule.add(src, dst, bytes, ready.data(), ready.size());
        } else {
          schedule.add_after(src, dst, bytes, index(step - 1, from, j));
        }
      }
    }
  }
  for (int i = 0; i < n; ++i) {
    const int from = (i - direction + n) % n;
    auto& last = out[static_cast<std::size_t>(ring[static_cast<std::size_t>(i)])];
    for (int j = 0; j < k; ++j) {
      last.push_back(index(steps - 1, from, j));
    }
  }
}

}  // namespace

std::vector<RingPhase> plan_ring_phases(RingAlgorithm algorithm, CollectiveOp op,
                                        const Group& group, std::int64_t bytes, int chunks) {
  const int p = group.size();
  if (p < 2) {
    return {};
  }
  switch (algorithm) {
    case RingAlgorithm::Ring:
    case RingAlgorithm::BidirectionalRing:
      return {RingPhase{{snake_order(group.shape)},
                        pass_of(op),
                        algorithm == RingAlgorithm::BidirectionalRing,
                        bytes,
                        pieces_per_shard(chunks, p)}};
    case RingAlgorithm::Torus:
      return per_dimension_phases(group.shape, op, bytes, chunks, true);
    case RingAlgorithm::Hierarchical: {
      // Inner = dimension 0 (e.g. the GPUs of a node), outer = the rest, flattened.
      const int inner = group.shape.empty() ? p : group.shape[0];
      return per_dimension_phases({inner, p / inner}, op, bytes, chunks, false);
    }
  }
  return {};
}

RingPlan plan_ring(RingAlgorithm algorithm, CollectiveOp op, const Group& group, std::int64_t bytes,
                   int chunks) {
  RingPlan plan;
  plan.slices.push_back(plan_ring_phases(algorithm, op, group, bytes, chunks));
  if (algorithm != RingAlgorithm::Hierarchical || plan.slices[0].size() < 2) {
    return plan;
  }
  const std::int64_t wanted = (bytes + kHierarchicalSliceBytes - 1) / kHierarchicalSliceBytes;
  // Simulation cost: at most kMaxSlicedTransfers transfers in all (a long ring across many nodes
  // already pipelines n shards; its intra-node phases are then short next to the inter-node one).
  const auto unsliced =
      static_cast<std::int64_t>(std::max<std::uint64_t>(1, ring_plan_transfer_count(plan)));
  const std::int64_t affordable = std::max<std::int64_t>(1, kMaxSlicedTransfers / unsliced);
  const int slices = static_cast<int>(std::clamp<std::int64_t>(
      std::min(wanted, affordable), 1, static_cast<std::int64_t>(kMaxHierarchicalSlices)));
  if (slices == 1) {
    return plan;
  }
  plan.slices.clear();
  for (int s = 0; s < slices; ++s) {
    plan.slices.push_back(
        plan_ring_phases(algorithm, op, group, part_bytes(bytes, slices, s), chunks));
  }
  return plan;
}

namespace {

std::uint64_t phases_transfer_count(const std::vector<RingPhase>& phases) {
  std::uint64_t transfers = 0;
  for (const auto& phase : phases) {
    for (const auto& ring : phase.rings) {
      const std::uint64_t n = ring.size();
      if (n >= 2) {
        const std::uint64_t steps =
            static_cast<std::uint64_t>(ring_steps(phase.pass, static_cast<int>(n)));
        const std::uint64_t ways = phase.bidirectional && n > 2 ? 2 : 1;
        transfers += ways * steps * n * static_cast<std::uint64_t>(phase.pieces_per_shard);
      }
    }
  }
  return transfers;
}

}  // namespace

std::uint64_t ring_plan_transfer_count(const RingPlan& plan) {
  std::uint64_t transfers = 0;
  for (const auto& phases : plan.slices) {
    transfers += phases_transfer_count(phases);
  }
  return transfers;
}

CostHint ring_plan_hint(const RingPlan& plan) {
  CostHint hint;
  // Steps on the critical path: every phase of the first slice, then each further slice behind
  // the slowest phase (the pipeline's fill, then its bottleneck stage). Every one of them pays
  // the protocol's step latency, so the choice of protocol must count them all.
  int slowest_phase_steps = 0;
  for (std::size_t s = 0; s < plan.slices.size(); ++s) {
    for (const auto& phase : plan.slices[s]) {
      if (phase.rings.empty() || phase.rings[0].size() < 2) {
        continue;
      }
      const auto n = static_cast<std::int64_t>(phase.rings[0].size());
      const int steps = ring_steps(phase.pass, static_cast<int>(n));
      const std::int64_t ring_bytes = ring_directions(phase, static_cast<int>(n))[0].second;
      hint.member_bytes += steps * ((ring_bytes + n - 1) / n);
      if (s == 0) {
        hint.steps += steps;
        slowest_phase_steps = std::max(slowest_phase_steps, steps);
      }
    }
  }
  if (plan.slices.size() > 1)
    hint.steps += static_cast<int>(plan.slices.size() - 1) * slowest_phase_steps;
  return hint;
}

Schedule build_ring_plan(const Group& group, const RingPlan& plan) {
  Schedule schedule;
  // Reserve the exact size up front: at 8192 chips a ring all-reduce has 134M transfers, and
  // doubling growth would briefly need twice that memory.
  const auto transfers = static_cast<std::size_t>(ring_plan_transfer_count(plan));
  schedule.transfers.reserve(transfers);
  schedule.dep_offsets.reserve(transfers + 1);
  schedule.deps.reserve(transfers);
  schedule.hint = ring_plan_hint(plan);
  // previous[q][m]: member m's last receives of phase q in the previous slice.
  std::vector<Frontier> previous;
  for (const auto& phases : plan.slices) {
    Frontier in(static_cast<std::size_t>(group.size()));
    previous.resize(std::max(previous.size(), phases.size()));
    for (std::size_t q = 0; q < phases.size(); ++q) {
      const auto& phase = phases[q];
      // Ready at a member: its results of the previous phase, and the previous slice's of this one.
      Frontier ready = in;
      for (std::size_t m = 0; m < ready.size() && !previous[q].empty(); ++m) {
        ready[m].insert(ready[m].end(), previous[q][m].begin(), previous[q][m].end());
      }
      Frontier out(in.size());
      for (const auto& ring : phase.rings) {
        const int n = static_cast<int>(ring.size());
        if (n < 2) {
          continue;
        }
        for (const auto& [direction, ring_bytes] : ring_directions(phase, n))
          append_ring(schedule, group, ring, phase.pass, direction, ring_bytes,
                      phase.pieces_per_shard, ready, out);
      }
      previous[q] = out;
      in = std::move(out);
    }
  }
  return schedule;
}

std::optional<double> ring_plan_closed_form_s(const network::Topology& topology, const Group& group,
                                              const RingPlan& plan) {
  if (plan.slices.size() != 1) {
    return std::nullopt;
  }
  const auto& phases = plan.slices[0];
  // The protocol the executor picks: from the hint and the path of the first message (ring 0 of
  // the first phase with rings, member 0 to member 1).
  ProtocolCost protocol;
  for (const auto& phase : phases) {
    if (!phase.rings.empty() && phase.rings[0].size() >= 2) {
      const auto src = group.chips[static_cast<std::size_t>(phase.rings[0][0])];
      const auto dst = group.chips[static_cast<std::size_t>(phase.rings[0][1])];
      protocol = choose_protocol(topology.collective_costs(), ring_plan_hint(plan),
                                 route_bandwidth(topology, src, dst));
      break;
    }
  }
  const double step_latency_s =
      engine::SimTime::from_seconds(protocol.step_latency_s).seconds();  // as the executor rounds
  double total_s = 0;
  std::vector<std::int32_t> path, used;
  for (const auto& phase : phases) {
    if (phase.rings.empty() || phase.rings[0].size() < 2) {
      continue;
    }
    const int n = static_cast<int>(phase.rings[0].size());
    const auto directions = ring_directions(phase, n);
    double bottleneck = -1;
    std::int64_t latency_ps = -1;
    used.clear();
    for (const auto& ring : phase.rings) {
      if (static_cast<int>(ring.size()) != n) {
        return std::nullopt;
      }
      for (const auto& [direction, ring_bytes] : directions) {
        for (int i = 0; i < n; ++i) {
          const auto src = group.chips[static_cast<std::size_t>(ring[static_cast<std::size_t>(i)])];
          const auto dst = group.chips[static_cast<std::size_t>(
              ring[static_cast<std::size_t>((i + direction + n) % n)])];
          topology.route(src, dst, path);
          double b = 0;
          std::int64_t l = 0;
          for (std::size_t h = 0; h < path.size(); ++h) {
            const auto& link = topology.links()[static_cast<std::size_t>(path[h])];
            b = h == 0 ? link.bandwidth_bytes_per_s : std::min(b, link.bandwidth_bytes_per_s);
            l += link.latency_ps;
          }
          if (path.empty() || (bottleneck >= 0 && (b != bottleneck || l != latency_ps))) {
            return std::nullopt;
          }
          bottleneck = b;
          latency_ps = l;
          used.insert(used.end(), path.begin(), path.end());
        }
      }
    }
    std::sort(used.begin(), used.end());
    if (std::adjacent_find(used.begin(), used.end()) != used.end()) {
      return std::nullopt;  // two edges share a link: contention, no closed form
    }
    const auto ring_bytes = static_cast<double>(directions[0].second);
    const double k = phase.pieces_per_shard;
    const double s = ring_steps(phase.pass, n);
    const double c = protocol.wire_factor * ring_bytes / (n * k * bottleneck);
    const double l = static_cast<double>(latency_ps) * 1e-12 + step_latency_s;
    total_s += std::max(s * k * c + l, s * (c + l) + (k - 1) * c);
  }
  return total_s;
}

}  // namespace meshsim::collectives
