#include "sim/collectives/ring_reduced.hpp"

#include <algorithm>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace meshsim::collectives {

namespace {

using Frontier = std::vector<std::vector<std::uint32_t>>;  // per member: last receives (reduced)

// Where each member sits in one phase's rings (-1: in none).
struct Seats {
  std::vector<int> ring, position;
};

Seats seats_of(const RingPhase& phase, std::size_t members) {
  Seats s{std::vector<int>(members, -1), std::vector<int>(members, -1)};
  for (std::size_t r = 0; r < phase.rings.size(); ++r) {
    const auto& ring = phase.rings[r];
    for (std::size_t i = 0; i < ring.size(); ++i) {
      s.ring[static_cast<std::size_t>(ring[i])] = static_cast<int>(r);
      s.position[static_cast<std::size_t>(ring[i])] = static_cast<int>(i);
    }
  }
  return s;
}

}  // namespace

std::string build_ring_plan_reduced(const Group& group, const RingPlan& plan,
                                    const MemberShifts& shifts, Schedule& out) {
  const std::size_t members = group.chips.size();
  const auto& rep = shifts.rep;
  if (rep.size() != members)
    return "the member map does not cover the group";
  for (std::size_t m = 0; m < members; ++m) {
    const int r = rep[m];
    if (r < 0 || static_cast<std::size_t>(r) >= members || rep[static_cast<std::size_t>(r)] != r)
      return "the member map is not a choice of representatives";
  }
  for (const auto& back : shifts.generators) {
    if (back.size() != members)
      return "a shift does not cover the group";
    for (int m : back) {
      if (m < 0 || static_cast<std::size_t>(m) >= members)
        return "a shift carries a member out of the group";
    }
  }
  auto kept = [&](int m) { return rep[static_cast<std::size_t>(m)] == m; };
  out = Schedule{};
  out.hint = ring_plan_hint(plan);
  std::vector<Frontier> previous;  // per phase: the previous slice's frontier
  std::vector<std::uint32_t> deps;
  for (const auto& phases : plan.slices) {
    Frontier in(members);
    previous.resize(std::max(previous.size(), phases.size()));
    for (std::size_t q = 0; q < phases.size(); ++q) {
      const auto& phase = phases[q];
      Frontier ready = in;
      for (std::size_t m = 0; m < members && !previous[q].empty(); ++m)
        ready[m].insert(ready[m].end(), previous[q][m].begin(), previous[q][m].end());
      Frontier next(members);
      const Seats seats = seats_of(phase, members);
      for (const auto& ring : phase.rings) {
        const int n = static_cast<int>(ring.size());
        if (n < 2)
          continue;
        // Every generator must carry this ring onto a ring of the phase, position i onto d + i;
        // a rotated position forwards another shard, so only equal pieces stand for each other.
        bool rotated = false;
        for (const auto& back : shifts.generators) {
          const int first = back[static_cast<std::size_t>(ring[0])];
          const int image = seats.ring[static_cast<std::size_t>(first)];
          const int offset = seats.position[static_cast<std::size_t>(first)];
          if (image < 0 ||
              static_cast<int>(phase.rings[static_cast<std::size_t>(image)].size()) != n)
            return "a shift does not carry a ring onto a ring";
          const auto& target = phase.rings[static_cast<std::size_t>(image)];
          for (int i = 0; i < n; ++i) {
            if (back[static_cast<std::size_t>(ring[static_cast<std::size_t>(i)])] !=
                target[static_cast<std::size_t>((offset + i) % n)])
              return "a shift does not keep a ring's order";
          }
          rotated = rotated || offset != 0;
        }
        // Kept positions and their rank among the kept (a ring with a kept member is its own
        // image: the kept member is its own representative).
        std::vector<int> rank(static_cast<std::size_t>(n), -1);
        std::vector<int> kept_positions;  // in ring order: each step visits the kept alone
        int count = 0;
        for (int i = 0; i < n; ++i) {
          if (kept(ring[static_cast<std::size_t>(i)])) {
            rank[static_cast<std::size_t>(i)] = count++;
            kept_positions.push_back(i);
          }
        }
        if (count == 0)
          continue;
        const int k = phase.pieces_per_shard;
        const std::int64_t pieces = static_cast<std::int64_t>(n) * k;
        const auto directions = ring_directions(phase, n);
        if (rotated) {
          for (const auto& [direction, bytes] : directions) {
            if (bytes % pieces != 0)
              return "a shift moves pieces of different sizes";
          }
        }
        // The kept position standing for position i of this ring: its representative must sit
        // in this ring (transfers wait only for earlier ones of their own ring).
        for (int i = 0; i < n; ++i) {
          const int m = rep[static_cast<std::size_t>(ring[static_cast<std::size_t>(i)])];
          const int seat = seats.ring[static_cast<std::size_t>(m)];
          if (seat < 0 || &phase.rings[static_cast<std::size_t>(seat)] != &ring)
            return "a member's representative sits in another ring";
        }
        auto stand_in = [&](int i) {
          const int m = rep[static_cast<std::size_t>(ring[static_cast<std::size_t>(i)])];
          return rank[static_cast<std::size_t>(seats.position[static_cast<std::size_t>(m)])];
        };
        const int steps = ring_steps(phase.pass, n);
        for (const auto& [direction, ring_bytes] : directions) {
          const auto base = static_cast<std::uint32_t>(out.size());
          auto index = [&](int step, int kept_rank, int piece) {
            return base + static_cast<std::uint32_t>(
                              (static_cast<std::int64_t>(step) * count + kept_rank) * k + piece);
          };
          for (int step = 0; step < steps; ++step) {
            for (const int i : kept_positions) {
              const int from = (i - direction + n) % n;
              const int to = (i + direction + n) % n;
              const int shard = ring_shard(phase.pass, n, i, step, direction);
              const int member = ring[static_cast<std::size_t>(i)];
              const auto src = group.chips[static_cast<std::size_t>(member)];
              const auto dst =
                  group.chips[static_cast<std::size_t>(ring[static_cast<std::size_t>(to)])];
              for (int j = 0; j < k; ++j) {
                const std::int64_t bytes =
                    part_bytes(ring_bytes, pieces, static_cast<std::int64_t>(shard) * k + j);
                if (step == 0) {
                  deps = ready[static_cast<std::size_t>(member)];
                  std::sort(deps.begin(), deps.end());
                  deps.erase(std::unique(deps.begin(), deps.end()), deps.end());
                  out.add(src, dst, bytes, deps.data(), deps.size());
                } else {
                  out.add_after(src, dst, bytes, index(step - 1, stand_in(from), j));
                }
              }
            }
          }
          for (int i = 0; i < n; ++i) {
            if (rank[static_cast<std::size_t>(i)] < 0)
              continue;
            auto& last = next[static_cast<std::size_t>(ring[static_cast<std::size_t>(i)])];
            const int from = (i - direction + n) % n;
            for (int j = 0; j < k; ++j)
              last.push_back(index(steps - 1, stand_in(from), j));
          }
        }
      }
      previous[q] = next;
      in = std::move(next);
    }
  }
  return {};
}

std::uint64_t ring_plan_reduced_count(const RingPlan& plan, const MemberShifts& shifts) {
  std::uint64_t transfers = 0;
  for (const auto& phases : plan.slices) {
    for (const auto& phase : phases) {
      for (const auto& ring : phase.rings) {
        const int n = static_cast<int>(ring.size());
        if (n < 2)
          continue;
        std::uint64_t kept = 0;
        for (int m : ring) {
          const auto i = static_cast<std::size_t>(m);
          kept += i < shifts.rep.size() && shifts.rep[i] == m ? 1 : 0;
        }
        transfers += kept * ring_directions(phase, n).size() *
                     static_cast<std::uint64_t>(ring_steps(phase.pass, n)) *
                     static_cast<std::uint64_t>(phase.pieces_per_shard);
      }
    }
  }
  return transfers;
}

std::vector<std::pair<std::int32_t, std::int32_t>> ring_plan_pairs(const Group& group,
                                                                   const RingPlan& plan) {
  std::vector<std::pair<std::int32_t, std::int32_t>> pairs;
  for (const auto& phases : plan.slices) {
    for (const auto& phase : phases) {
      for (const auto& ring : phase.rings) {
        const auto n = ring.size();
        if (n < 2)
          continue;
        const bool two_way = ring_directions(phase, static_cast<int>(n)).size() == 2;
        for (std::size_t i = 0; i < n; ++i) {
          const auto a = group.chips[static_cast<std::size_t>(ring[i])];
          const auto b = group.chips[static_cast<std::size_t>(ring[(i + 1) % n])];
          pairs.emplace_back(a, b);
          if (two_way)
            pairs.emplace_back(b, a);
        }
      }
    }
  }
  std::sort(pairs.begin(), pairs.end());
  pairs.erase(std::unique(pairs.begin(), pairs.end()), pairs.end());
  return pairs;
}

}  // namespace meshsim::collectives
