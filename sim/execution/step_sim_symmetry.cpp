// Replica symmetry of the step (step_sim.hpp, docs/execution.md "Replica symmetry"): deciding
// which reduction applies, and the data-axis collectives run in memoized batches.
#include "sim/execution/model_rotation.hpp"
#include "sim/execution/step_sim.hpp"

#include <algorithm>
#include <map>
#include <memory>
#include <set>
#include <stdexcept>
#include <string>
#include <tuple>
#include <vector>

namespace meshsim::execution::detail {

namespace {

// The shift block of a GPU cluster (network::Topology::leaf_group_gpus): a leaf group on two
// levels, a pod on three.
std::string block_name(const network::Topology& topology) {
  return topology.pods() > 1 ? "pod" : "leaf group";
}

}  // namespace

void StepSim::decide_symmetry(bool allow) {
  const auto t = placement_.data, k = w_;  // a replica: the p x k chips of one data index
  if (!allow) {
    symmetry_note_ = "off: every chip simulated (--all-chips)";
    return;
  }
  if (trace_.enabled && trace_.chips > k) {
    symmetry_note_ = "off: a trace of " + std::to_string(trace_.chips) +
                     " chips reaches past replica 0's " + std::to_string(k);
    return;
  }
  if (t == 1) {
    symmetry_note_ = "off: one data replica";
    return;
  }
  bool sends = false;
  std::set<std::pair<int, std::int64_t>> data_ops;
  std::set<std::tuple<int, int, std::int64_t>> model_ops;  // axis, op, bytes
  bool pipe_sends = false;
  for (const auto& program : programs_) {
    for (const auto& in : program.code) {
      sends = sends || (in.kind == Kind::Send && is_model_axis(in.axis));
      pipe_sends = pipe_sends || (in.kind == Kind::Send && in.axis == Axis::Pipeline);
      if (in.kind != Kind::Collective)
        continue;
      if (is_model_axis(in.axis)) {
        model_ops.insert({static_cast<int>(in.axis), static_cast<int>(in.op), in.bytes});
      } else {
        data_ops.insert({static_cast<int>(in.op), in.bytes});
      }
    }
  }
  std::set<std::pair<std::int32_t, std::int32_t>> pairs;
  for (std::int64_t m = 0; m < k; ++m) {
    for (int dir : {-1, +1}) {
      if (sends)
        pairs.insert({static_cast<std::int32_t>(m), neighbour(m, dir)});
      if (pipe_sends)
        pairs.insert({static_cast<std::int32_t>(m), stage_neighbour(m, dir)});
    }
  }
  // Mesh position of every chip, to compare schedules member for member.
  std::vector<std::int64_t> position(static_cast<std::size_t>(network_.topology().chip_count()),
                                     -1);
  for (std::size_t i = 0; i < placement_.chip.size(); ++i)
    position[static_cast<std::size_t>(placement_.chip[i])] = static_cast<std::int64_t>(i);
  auto pos = [&](std::int32_t chip) { return position[static_cast<std::size_t>(chip)]; };
  for (const auto& [axis_id, op, bytes] : model_ops) {
    const auto kind = static_cast<CollectiveOp>(op);
    const auto axis = static_cast<Axis>(axis_id);
    // Model: one group per stage; Model1 / Model2 (p = 1): k2 / k1 groups per replica.
    const std::int64_t per_replica = groups_per_replica(axis);
    for (std::int64_t g = 0; g < per_replica; ++g) {
      const auto& base = schedule_for(axis, g, kind, bytes);
      for (const auto& tr : base.transfers) {
        pairs.insert({static_cast<std::int32_t>(pos(tr.src_chip)),
                      static_cast<std::int32_t>(pos(tr.dst_chip))});
      }
      for (std::int64_t d = 1; d < t; ++d) {
        const auto& s = schedule_for(axis, d * per_replica + g, kind, bytes);
        // Replica d's chip at the position of replica 0's, d replicas further.
        auto shifted = [&](std::int32_t chip) {
          return placement_.chip[static_cast<std::size_t>(pos(chip) + d * k)];
        };
        if (!is_mapped_copy(base, s, shifted)) {
          symmetry_note_ = "off: model-axis collectives of replica " + std::to_string(d) +
                           " differ from replica 0's";
          return;
        }
      }
    }
  }
  // The symmetry checks see a replica as one group of p x k chips.
  Placement view = placement_;
  view.model = w_;
  view.pipeline = 1;
  const auto& topology = network_.topology();
  std::string shift_why;
  // Shifts that map the machine onto itself: replica 0 on a torus, the first leaf group's
  // replicas on a GPU cluster (tried after the cheaper replica symmetry below, issue 15).
  // `check_routes` (node shifts): the link map is what the routes the reduced step takes give
  // (rotation_link_rep with the shift as a map of GPUs); else the shifts' own.
  auto try_shifts = [&](const TranslationSymmetry& sym, std::int64_t simulated_replicas,
                        const std::string& what, bool check_routes = false) {
    ReducedSchedules reduced;
    shift_why = reduce_data_collectives(sym, data_ops, simulated_replicas * k, reduced);
    if (!shift_why.empty())
      return false;
    std::vector<std::int32_t> link_map = sym.link_rep;
    if (check_routes) {
      std::vector<std::pair<std::int32_t, std::int32_t>> used;
      for (std::int64_t r = 0; r < simulated_replicas; ++r) {
        for (const auto& [a, b] : pairs)
          used.emplace_back(placement_.chip[static_cast<std::size_t>(r * k + a)],
                            placement_.chip[static_cast<std::size_t>(r * k + b)]);
      }
      for (const auto& [key, schedule] : reduced) {
        for (const auto& tr : schedule.transfers)
          used.emplace_back(tr.src_chip, tr.dst_chip);
      }
      const auto why = rotation_link_rep(topology, std::move(used), shift_image(sym), sym.shape[1],
                                         {}, link_map);
      if (!why.empty()) {
        shift_why = "shifts checked by routes: " + why;
        return false;
      }
    }
    shifted_ = true;
    shift_replicas_ = simulated_replicas;
    reduced_ = std::move(reduced);
    network_.set_link_map(std::move(link_map));
    symmetry_note_ = "on: the other " + std::to_string(t - simulated_replicas) +
                     " data replicas are " + what + ", " + std::to_string(simulated_replicas * k) +
                     " of " + std::to_string(t * k) + " chips simulated";
    return true;
  };
  if (topology.kind() == network::TopologyKind::Torus) {
    TranslationSymmetry sym;
    shift_why = translation_symmetry(topology, view, sym);
    if (shift_why.empty() && try_shifts(sym, 1, "torus shifts of replica 0"))
      return;
  }
  std::vector<std::vector<std::int32_t>> data_links(static_cast<std::size_t>(k));
  std::vector<std::uint8_t> used(topology.links().size(), 0);
  std::vector<std::int32_t> route;
  for (std::int64_t m = 0; m < k; ++m) {
    auto& list = data_links[static_cast<std::size_t>(m)];
    for (const auto& [op, bytes] : data_ops) {
      for (const auto& [src, dst] :
           schedule_pairs(Axis::Data, m, static_cast<CollectiveOp>(op), bytes)) {
        topology.route(src, dst, route);
        for (auto l : route) {
          if (!used[static_cast<std::size_t>(l)]) {
            used[static_cast<std::size_t>(l)] = 1;
            list.push_back(l);
          }
        }
      }
    }
    for (auto l : list)
      used[static_cast<std::size_t>(l)] = 0;
    std::sort(list.begin(), list.end());
  }
  std::vector<std::pair<std::int32_t, std::int32_t>> pair_list(pairs.begin(), pairs.end());
  const auto why = replica_symmetry_violation(topology, view, pair_list, data_links);
  // Leaf-group shifts (a replica is its p x k chips: a shift that carries replica r onto replica
  // r + R carries its stage sends onto theirs, as every route onto the shifted route).
  if (!why.empty() && topology.kind() == network::TopologyKind::GpuCluster && allow_leaf_groups_) {
    // Node shifts first: they keep fewer replicas, where the routes allow them.
    TranslationSymmetry nodes;
    std::int64_t per_node = 1;
    if (node_shift_symmetry(topology, view, p_, nodes, per_node).empty() &&
        try_shifts(nodes, per_node,
                   "shifts of the first node's " + std::to_string(per_node) + " by whole nodes" +
                       (p_ > 1 ? " within each stage's nodes" : ""),
                   true))
      return;
    // Three levels: leaf-group shifts within each stage's groups where the routes allow them
    // (stages inside pods), before whole pods.
    std::int64_t per_group = 1;
    if (topology.pods() > 1) {
      TranslationSymmetry groups;
      if (leaf_group_route_symmetry(topology, view, p_, groups, per_group).empty() &&
          try_shifts(groups, per_group,
                     "shifts of the first leaf group's " + std::to_string(per_group) +
                         " by whole leaf groups" + (p_ > 1 ? " within each stage's groups" : ""),
                     true))
        return;
    }
    TranslationSymmetry sym;
    shift_why = leaf_group_symmetry(topology, view, sym, per_group, p_);
    if (shift_why.empty() &&
        try_shifts(sym, per_group,
                   "shifts of the first " + block_name(topology) + "'s " +
                       std::to_string(per_group) + " by whole " + block_name(topology) + "s"))
      return;
  }
  if (!why.empty()) {
    symmetry_note_ = "off: " + why;
    if (!shift_why.empty())
      symmetry_note_ += "; not shift-symmetric: " + shift_why;
    return;
  }
  symmetric_ = true;
  data_links_ = std::move(data_links);
  symmetry_note_ = "on: " + std::to_string(t) + " data replicas alike, " + std::to_string(k) +
                   " of " + std::to_string(t * k) + " chips simulated";
  // The data-axis collectives run apart from the replicas' traffic: where shifts by whole leaf
  // groups map the cluster and every data group onto itself, the first group's share of each
  // stands for all (issue 15), built directly.
  if (topology.kind() == network::TopologyKind::GpuCluster && allow_leaf_groups_) {
    TranslationSymmetry sym;
    std::int64_t per_group = 1;
    if (!leaf_group_symmetry(topology, view, sym, per_group, p_).empty())
      return;
    ReducedSchedules reduced;
    if (!reduce_data_collectives(sym, data_ops, k, reduced).empty())
      return;
    reduced_ = std::move(reduced);
    data_copies_ = static_cast<std::int64_t>(sym.offset.size());
    data_network_.set_link_map(sym.link_rep);
    symmetry_note_ += "; data-axis collectives run as the first " + block_name(topology) +
                      "'s share (" + std::to_string(data_copies_) + " " + block_name(topology) +
                      "s alike)";
  }
}

std::size_t StepSim::start_data_batch(std::int64_t c, std::size_t first) {
  const auto& code = prog(c).code;
  const auto stage = static_cast<std::size_t>(stage_of(c));
  std::size_t last = first;
  while (last + 1 < code.size() && code[last + 1].kind == Kind::Collective &&
         code[last + 1].axis == Axis::Data)
    ++last;
  const auto m = static_cast<std::size_t>(c % w_);
  const SimTime now = sim_.now();
  if (direct_in_flight_[m] == 0) {
    std::vector<std::int32_t> key;
    for (std::size_t i = first; i <= last; ++i)
      key.push_back(schedule_id(m, code[i]));
    auto& memo = batch_memo_[m];
    auto it = memo.find(key);
    if (it == memo.end())
      it = memo.emplace(key, run_batch(m, key)).first;
    const BatchOutcome& out = it->second;
    if (out.duration_ps <= compute_until_next_batch_ps_[stage][last + 1]) {
      for (std::size_t i = first; i <= last; ++i) {
        account_collective(c, code[i]);
        const auto slot = static_cast<std::size_t>(code[i].slot);
        data_start_[static_cast<std::size_t>(c) * static_cast<std::size_t>(max_coll_) + slot] = now;
        sim_.schedule_at(now + SimTime::from_ps(out.finish_ps[i - first]),
                         &StepSim::batch_member_done, this,
                         (static_cast<std::uint64_t>(c) << 32) | slot);
      }
      for (const auto& [l, ps] : out.link_busy_ps)
        data_link_busy_ps_[static_cast<std::size_t>(l)] += ps;
      for (const auto& [l, b] : out.link_bytes)
        data_link_bytes_[static_cast<std::size_t>(l)] += b;
      data_messages_ += out.messages;
      memoized_collectives_ += static_cast<std::int64_t>(last - first + 1);
      return last;
    }
  }
  for (std::size_t i = first; i <= last; ++i)
    start_collective(c, code[i]);
  stepwise_collectives_ += static_cast<std::int64_t>(last - first + 1);
  return last;
}

std::int32_t StepSim::schedule_id(std::size_t m, const Instr& in) {
  const auto* s = data_copies_ > 1
                      ? &reduced_.at(std::make_tuple(static_cast<std::int64_t>(m),
                                                     static_cast<int>(in.op), in.bytes))
                      : &schedule_for(Axis::Data, static_cast<std::int64_t>(m), in.op, in.bytes);
  const auto found = std::find(batch_schedules_.begin(), batch_schedules_.end(), s);
  if (found != batch_schedules_.end())
    return static_cast<std::int32_t>(found - batch_schedules_.begin());
  batch_schedules_.push_back(s);
  return static_cast<std::int32_t>(batch_schedules_.size() - 1);
}

void StepSim::batch_member_done(void* self, std::uint64_t arg) {
  auto* s = static_cast<StepSim*>(self);
  const auto c = static_cast<std::int64_t>(arg >> 32);
  const auto slot = static_cast<std::size_t>(arg & 0xffffffff);
  const auto& program = s->prog(c);
  const auto& in =
      program.code[s->collective_instr_[static_cast<std::size_t>(s->stage_of(c))][slot]];
  s->member_done(
      c, Axis::Data, in.slot, in.row, program.names[static_cast<std::size_t>(in.name)],
      s->data_start_[static_cast<std::size_t>(c) * static_cast<std::size_t>(s->max_coll_) + slot],
      s->traced(c) ? &in : nullptr);
}

StepSim::BatchOutcome StepSim::run_batch(std::size_t m,
                                         const std::vector<std::int32_t>& schedules) {
  engine::Simulator sim;
  network::Network net(sim, network_.topology());
  const auto& data_map = data_network_.link_map();
  if (!data_map.empty())
    net.set_link_map(data_map);
  std::vector<std::unique_ptr<collectives::CollectiveRun>> runs;
  for (auto id : schedules) {
    const auto* schedule = batch_schedules_[static_cast<std::size_t>(id)];
    runs.push_back(
        std::make_unique<collectives::CollectiveRun>(net, *schedule, index_of(schedule)));
    runs.back()->start();
  }
  sim.run();
  BatchOutcome out;
  for (const auto& run : runs) {
    out.finish_ps.push_back(run->end_time().ps());
    out.duration_ps = std::max(out.duration_ps, run->end_time().ps());
  }
  // With shifts, a link carries what the link it is a shift of carries in the reduced run.
  for (auto l : data_links_[m]) {
    const auto at = data_map.empty() ? l : data_map[static_cast<std::size_t>(l)];
    if (net.link_bytes(at) > 0) {
      out.link_busy_ps.push_back({l, net.link_busy_time(at).ps()});
      out.link_bytes.push_back({l, net.link_bytes(at)});
    }
  }
  out.messages = net.messages_sent() * data_copies_;
  batch_events_ += sim.events_run();
  return out;
}

}  // namespace meshsim::execution::detail
