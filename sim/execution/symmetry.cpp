#include "sim/execution/symmetry.hpp"

#include <algorithm>

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

namespace {

std::vector<int> coords_of(std::int32_t chip, const std::vector<int>& shape) {
  std::vector<int> c(shape.size());
  for (std::size_t i = 0; i < shape.size(); ++i) {
    c[i] = chip % shape[i];
    chip /= shape[i];
  }
  return c;
}

std::int32_t chip_at(const std::vector<int>& c, const std::vector<int>& shape) {
  std::int32_t id = 0, stride = 1;
  for (std::size_t i = 0; i < shape.size(); ++i) {
    id += c[i] * stride;
    stride *= shape[i];
  }
  return id;
}

}  // namespace

std::string translation_symmetry(const network::Topology& topology, const Placement& placement,
                                 TranslationSymmetry& out) {
  if (topology.kind() != network::TopologyKind::Torus)
    return "not a torus";
  const auto& shape = topology.shape();
  const auto dims = shape.size();
  const std::int64_t t = placement.data, k = placement.model;
  if (static_cast<std::int64_t>(topology.chip_count()) != t * k)
    return "the mesh does not fill the torus";
  out = TranslationSymmetry{};
  out.shape = shape;
  auto chip = [&](std::int64_t d, std::int64_t m) {
    return placement.chip[static_cast<std::size_t>(d * k + m)];
  };
  const auto base = coords_of(chip(0, 0), shape);
  for (std::int64_t d = 0; d < t; ++d) {
    auto o = coords_of(chip(d, 0), shape);
    for (std::size_t i = 0; i < dims; ++i) {
      o[i] = (o[i] - base[i] + shape[i]) % shape[i];
      if (o[i] != 0 && shape[i] > 2 && !topology.torus_wraps(static_cast<int>(i)))
        return "replicas are shifted along a dimension without wrap-around";
    }
    for (std::int64_t m = 1; m < k; ++m) {
      auto c = coords_of(chip(0, m), shape);
      for (std::size_t i = 0; i < dims; ++i)
        c[i] = (c[i] + o[i]) % shape[i];
      if (chip_at(c, shape) != chip(d, m))
        return "replica " + std::to_string(d) + " is not replica 0 shifted";
    }
    out.offset.push_back(std::move(o));
  }
  // The shifts form a group. With G = the shifts of one step along each data factor (replicas 1,
  // n0, n0 n1, ...): if every shift plus every element of G is a shift, the shifts are a union of
  // cosets of the group G generates; if that group also has t elements, they are that group.
  auto code = [&](const std::vector<int>& o) { return chip_at(o, shape); };  // offset -> index
  std::vector<std::int8_t> is_shift(static_cast<std::size_t>(topology.chip_count()), 0);
  for (const auto& o : out.offset)
    is_shift[static_cast<std::size_t>(code(o))] = 1;
  std::vector<std::vector<int>> generators;
  std::int64_t stride = 1;
  for (int n : placement.data_shape) {
    if (stride < t) {
      generators.push_back(out.offset[static_cast<std::size_t>(stride)]);
      out.generators.push_back(static_cast<std::int32_t>(stride));
    }
    stride *= n;
  }
  auto add = [&](const std::vector<int>& a, const std::vector<int>& b) {
    std::vector<int> sum(dims);
    for (std::size_t i = 0; i < dims; ++i)
      sum[i] = (a[i] + b[i]) % shape[i];
    return sum;
  };
  for (const auto& o : out.offset) {
    for (const auto& g : generators) {
      if (!is_shift[static_cast<std::size_t>(code(add(o, g)))])
        return "the replicas' shifts do not form a group";
    }
  }
  {
    std::vector<std::int8_t> seen(is_shift.size(), 0);
    std::vector<std::vector<int>> frontier{std::vector<int>(dims, 0)};
    seen[static_cast<std::size_t>(code(frontier[0]))] = 1;
    std::int64_t reached = 1;
    while (!frontier.empty() && reached <= t) {
      auto o = std::move(frontier.back());
      frontier.pop_back();
      for (const auto& g : generators) {
        auto next = add(o, g);
        auto& mark = seen[static_cast<std::size_t>(code(next))];
        if (!mark) {
          mark = 1;
          ++reached;
          frontier.push_back(std::move(next));
        }
      }
    }
    if (reached != t)
      return "the replicas' shifts do not form a group";
  }
  const auto chips = static_cast<std::size_t>(topology.chip_count());
  std::vector<std::int32_t> rep_of(chips, -1);  // per chip: replica 0's chip it stands for
  out.replica.assign(chips, -1);
  for (std::int64_t d = 0; d < t; ++d) {
    for (std::int64_t m = 0; m < k; ++m) {
      rep_of[static_cast<std::size_t>(chip(d, m))] = chip(0, m);
      out.replica[static_cast<std::size_t>(chip(d, m))] = static_cast<std::int32_t>(d);
    }
  }
  out.link_rep.assign(topology.links().size(), -1);
  for (std::int32_t c = 0; c < topology.chip_count(); ++c) {
    const auto rep = rep_of[static_cast<std::size_t>(c)];
    for (std::size_t i = 0; i < dims; ++i) {
      for (int sign = 0; sign < 2; ++sign) {
        const auto l = topology.torus_link(c, static_cast<int>(i), sign);
        if (l >= 0)
          out.link_rep[static_cast<std::size_t>(l)] =
              topology.torus_link(rep, static_cast<int>(i), sign);
      }
    }
  }
  return {};
}

namespace {

// Shifts by whole blocks of `block` GPUs within each stage's run of blocks (leaf_group_symmetry,
// node_shift_symmetry), without the link map. "" or why not.
std::string block_shift_symmetry(const network::Topology& topology, const Placement& placement,
                                 std::int64_t block, std::int64_t stages, const char* what,
                                 TranslationSymmetry& out, std::int64_t& replicas_per_block) {
  const std::int64_t t = placement.data, k = placement.model;
  const std::int64_t chips = topology.chip_count();
  if (t * k != chips)
    return "the mesh does not fill the cluster";
  const std::int64_t blocks = chips / block;
  if (stages < 1 || blocks % stages != 0 || blocks / stages < 2)
    return std::string("the pipeline's stages do not each fill two or more ") + what + "s";
  const std::int64_t cycle = blocks / stages;  // blocks the shifts turn: a stage's
  if (t % cycle != 0)
    return std::string("the data replicas do not divide into the ") + what + "s";
  const std::int64_t r_count = t / cycle;
  auto chip = [&](std::int64_t d, std::int64_t m) {
    return static_cast<std::int64_t>(placement.chip[static_cast<std::size_t>(d * k + m)]);
  };
  for (std::int64_t d = 0; d < t; ++d) {
    const std::int64_t b = d / r_count, r = d % r_count;
    for (std::int64_t m = 0; m < k; ++m) {
      if (chip(r, m) % (block * cycle) >= block)
        return std::string("the first ") + what + " does not hold replicas 0.." +
               std::to_string(r_count - 1);
      if (chip(d, m) != chip(r, m) + b * block)
        return "replica " + std::to_string(d) + " is not replica " + std::to_string(r) +
               " shifted by " + std::to_string(b) + " " + what + "s";
    }
  }
  out = TranslationSymmetry{};
  out.shape = {static_cast<int>(block), static_cast<int>(cycle), static_cast<int>(stages)};
  out.replica.resize(static_cast<std::size_t>(chips));
  for (std::int64_t c = 0; c < chips; ++c)
    out.replica[static_cast<std::size_t>(c)] = static_cast<std::int32_t>(c / block % cycle);
  for (std::int64_t b = 0; b < cycle; ++b)
    out.offset.push_back({0, static_cast<int>(b), 0});
  out.generators = {1};  // one block further
  replicas_per_block = r_count;
  return {};
}

}  // namespace

std::string leaf_group_symmetry(const network::Topology& topology, const Placement& placement,
                                TranslationSymmetry& out, std::int64_t& replicas_per_group,
                                std::int64_t stages) {
  const std::int64_t block = topology.leaf_group_gpus();
  if (block == 0)
    return "not a GPU cluster of two or more full leaf groups";
  const auto why = block_shift_symmetry(topology, placement, block, stages, "leaf group", out,
                                        replicas_per_group);
  if (!why.empty())
    return why;
  out.link_rep = topology.leaf_group_link_map(out.shape[1]);
  if (std::find(out.link_rep.begin(), out.link_rep.end(), -1) != out.link_rep.end())
    return "a link of the cluster is no shift of a first-group link";
  return {};
}

std::string node_shift_symmetry(const network::Topology& topology, const Placement& placement,
                                std::int64_t stages, TranslationSymmetry& out,
                                std::int64_t& replicas_per_node) {
  if (topology.kind() != network::TopologyKind::GpuCluster)
    return "not a GPU cluster";
  return block_shift_symmetry(topology, placement, topology.gpus_per_node(), stages, "node", out,
                              replicas_per_node);
}

std::string leaf_group_route_symmetry(const network::Topology& topology, const Placement& placement,
                                      std::int64_t stages, TranslationSymmetry& out,
                                      std::int64_t& replicas_per_group) {
  const std::int64_t block = topology.leaf_group_size();
  if (block == 0)
    return "not a GPU cluster of two or more full leaf groups";
  return block_shift_symmetry(topology, placement, block, stages, "leaf group", out,
                              replicas_per_group);
}

namespace {

// Chip `chip` shifted back by the offset `o` of its replica: coordinates in `sym.shape`, dimension
// 0 fastest, each taken modulo its size.
std::int32_t shift_back(const TranslationSymmetry& sym, std::int32_t chip,
                        const std::vector<int>& o) {
  std::int32_t id = 0, stride = 1, rest = chip;
  for (std::size_t i = 0; i < sym.shape.size(); ++i) {
    const int n = sym.shape[i];
    const int c = rest % n;
    rest /= n;
    id += ((c - o[i]) % n + n) % n * stride;
    stride *= n;
  }
  return id;
}

}  // namespace

std::vector<std::int32_t> shift_image(const TranslationSymmetry& sym) {
  std::int32_t chips = 1;
  for (int n : sym.shape)
    chips *= n;
  // Forward by the generator's offset: back by its negation.
  std::vector<int> forward = sym.offset[static_cast<std::size_t>(sym.generators.at(0))];
  for (auto& o : forward)
    o = -o;
  std::vector<std::int32_t> image(static_cast<std::size_t>(chips));
  for (std::int32_t c = 0; c < chips; ++c)
    image[static_cast<std::size_t>(c)] = shift_back(sym, c, forward);
  return image;
}

std::string shift_members(const collectives::Group& group, const TranslationSymmetry& sym,
                          collectives::MemberShifts& out) {
  std::int64_t chips = 1;
  for (int n : sym.shape)
    chips *= n;
  std::vector<int> member(static_cast<std::size_t>(chips), -1);
  for (std::size_t i = 0; i < group.chips.size(); ++i)
    member[static_cast<std::size_t>(group.chips[i])] = static_cast<int>(i);
  auto back = [&](std::int32_t chip, std::int32_t d) {
    return member[static_cast<std::size_t>(
        shift_back(sym, chip, sym.offset[static_cast<std::size_t>(d)]))];
  };
  out.rep.assign(group.chips.size(), -1);
  out.generators.assign(sym.generators.size(), std::vector<int>(group.chips.size(), -1));
  for (std::size_t i = 0; i < group.chips.size(); ++i) {
    const auto chip = group.chips[i];
    out.rep[i] = back(chip, sym.replica[static_cast<std::size_t>(chip)]);
    if (out.rep[i] < 0)
      return "a shifted-back member is not in the group";
    for (std::size_t g = 0; g < sym.generators.size(); ++g) {
      out.generators[g][i] = back(chip, sym.generators[g]);
      if (out.generators[g][i] < 0)
        return "a shifted-back member is not in the group";
    }
  }
  return {};
}

std::string reduce_schedule(const collectives::Schedule& schedule, const TranslationSymmetry& sym,
                            collectives::Schedule& out) {
  // Flat tables only (issue 15: a tuple-keyed std::map and a coordinate vector per look-up were
  // 60% of a 4096-chip TPU step): transfers grouped by source chip.
  std::size_t chips = 1;
  for (int n : sym.shape)
    chips *= static_cast<std::size_t>(n);
  // Transfers by source chip (CSR), each source's list ordered by (destination, index): the k-th
  // transfer of a pair is the k-th entry of the pair's run.
  const std::size_t n = schedule.size();
  std::vector<std::uint32_t> by_src_offset(chips + 1, 0), by_src(n);
  for (const auto& tr : schedule.transfers)
    ++by_src_offset[static_cast<std::size_t>(tr.src_chip) + 1];
  for (std::size_t c = 0; c < chips; ++c)
    by_src_offset[c + 1] += by_src_offset[c];
  {
    std::vector<std::uint32_t> fill(by_src_offset.begin(), by_src_offset.end() - 1);
    for (std::uint32_t i = 0; i < n; ++i)
      by_src[fill[static_cast<std::size_t>(schedule.transfers[i].src_chip)]++] = i;
  }
  // Each list is filled in index order, so ordering it by destination alone, stably, orders it by
  // (destination, index); a ring's source sends to one or two destinations, so most lists are
  // already in order (checked in one pass) and the rest need one stable merge.
  auto by_dst = [&](std::uint32_t a, std::uint32_t b) {
    return schedule.transfers[a].dst_chip < schedule.transfers[b].dst_chip;
  };
  std::vector<std::int32_t> occurrence(n);
  for (std::size_t c = 0; c < chips; ++c) {
    auto* first = by_src.data() + by_src_offset[c];
    auto* last = by_src.data() + by_src_offset[c + 1];
    if (!std::is_sorted(first, last, by_dst))
      std::stable_sort(first, last, by_dst);
    for (auto* it = first; it != last; ++it) {
      const bool same_pair =
          it != first && schedule.transfers[*(it - 1)].dst_chip == schedule.transfers[*it].dst_chip;
      occurrence[*it] = same_pair ? occurrence[*(it - 1)] + 1 : 0;
    }
  }
  // Each source's runs of one destination (a ring's source has one or two): (destination, first
  // position in by_src), the run ending where the next begins. A look-up scans the runs, no
  // binary search over the source's transfers.
  struct Run {
    std::int32_t dst;
    std::uint32_t first;
  };
  std::vector<Run> runs;
  std::vector<std::uint32_t> runs_offset(chips + 1, 0);
  for (std::size_t c = 0; c < chips; ++c) {
    for (auto k = by_src_offset[c]; k < by_src_offset[c + 1]; ++k) {
      const auto dst = schedule.transfers[by_src[k]].dst_chip;
      if (k == by_src_offset[c] || runs.back().dst != dst)
        runs.push_back({dst, k});
    }
    runs_offset[c + 1] = static_cast<std::uint32_t>(runs.size());
  }
  auto find = [&](std::int32_t src, std::int32_t dst, std::int32_t occ) -> std::int64_t {
    const auto c = static_cast<std::size_t>(src);
    for (auto r = runs_offset[c]; r < runs_offset[c + 1]; ++r) {
      if (runs[r].dst != dst)
        continue;
      const auto end = r + 1 < runs_offset[c + 1] ? runs[r + 1].first : by_src_offset[c + 1];
      const auto at = runs[r].first + static_cast<std::uint32_t>(occ);
      return at < end ? static_cast<std::int64_t>(by_src[at]) : -1;
    }
    return -1;
  };
  // The transfer `i` shifted back by the offset of replica `d`.
  auto shifted = [&](std::uint32_t i, std::int32_t d) -> std::int64_t {
    const auto& tr = schedule.transfers[i];
    const auto& o = sym.offset[static_cast<std::size_t>(d)];
    return find(shift_back(sym, tr.src_chip, o), shift_back(sym, tr.dst_chip, o), occurrence[i]);
  };
  std::vector<std::int64_t> reduced(n, -1);  // replica-0 transfer -> its new index
  out = collectives::Schedule{};
  out.hint = schedule.hint;  // the same protocol for the reduced schedule
  std::vector<std::uint32_t> deps;
  std::vector<std::int64_t> mine, theirs;
  for (std::uint32_t i = 0; i < n; ++i) {
    const auto& tr = schedule.transfers[i];
    const auto d = sym.replica[static_cast<std::size_t>(tr.src_chip)];
    const auto same = shifted(i, d);  // its replica-0 counterpart
    if (same < 0 || schedule.transfers[static_cast<std::size_t>(same)].bytes != tr.bytes)
      return "a collective's schedule is not the same from every replica";
    // Its dependencies must be its counterpart's, shifted.
    mine.clear();
    theirs.clear();
    for (auto k = schedule.dep_offsets[i]; k < schedule.dep_offsets[i + 1]; ++k)
      mine.push_back(shifted(schedule.deps[k], d));
    for (auto k = schedule.dep_offsets[static_cast<std::size_t>(same)];
         k < schedule.dep_offsets[static_cast<std::size_t>(same) + 1]; ++k)
      theirs.push_back(schedule.deps[k]);
    std::sort(mine.begin(), mine.end());
    std::sort(theirs.begin(), theirs.end());
    if (mine != theirs)
      return "a collective's dependencies are not the same from every replica";
    if (d != 0)
      continue;
    // A replica-0 transfer: it waits for the replica-0 counterparts of its dependencies.
    deps.clear();
    for (auto k = schedule.dep_offsets[i]; k < schedule.dep_offsets[i + 1]; ++k) {
      const auto w = schedule.deps[k];
      const auto wd = sym.replica[static_cast<std::size_t>(schedule.transfers[w].src_chip)];
      const auto rep = shifted(w, wd);
      if (rep < 0 || reduced[static_cast<std::size_t>(rep)] < 0)
        return "a collective waits for a transfer issued after it";
      deps.push_back(static_cast<std::uint32_t>(reduced[static_cast<std::size_t>(rep)]));
    }
    std::sort(deps.begin(), deps.end());
    deps.erase(std::unique(deps.begin(), deps.end()), deps.end());
    reduced[i] = static_cast<std::int64_t>(out.size());
    out.add(tr.src_chip, tr.dst_chip, tr.bytes, deps.data(), deps.size());
  }
  return {};
}

}  // namespace meshsim::execution
