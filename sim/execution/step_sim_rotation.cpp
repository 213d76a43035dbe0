// Model-axis rotation of the step (step_sim.hpp, model_rotation.hpp, docs/execution.md
// "Model-axis rotation"): deciding whether it applies and reducing the model-axis collectives.
#include <algorithm>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "sim/collectives/ring_reduced.hpp"
#include "sim/execution/model_rotation.hpp"
#include "sim/execution/step_sim.hpp"
#include "sim/execution/symmetry.hpp"

namespace meshsim::execution::detail {

namespace {

using Pairs = std::vector<std::pair<std::int32_t, std::int32_t>>;

void add_pairs(const collectives::Schedule& schedule, Pairs& out) {
  for (const auto& t : schedule.transfers)
    out.emplace_back(t.src_chip, t.dst_chip);
}

}  // namespace

void StepSim::decide_rotation(bool allow) {
  const auto k = placement_.model;
  const auto& topology = network_.topology();
  if (!allow || k < 2 || topology.kind() != network::TopologyKind::GpuCluster)
    return;
  if (placement_.model2 > 1) {
    symmetry_note_ += "; model-axis rotation off: two model axes";
    return;
  }
  if (trace_.enabled && trace_.chips > 1) {
    symmetry_note_ +=
        "; model-axis rotation off: a trace of " + std::to_string(trace_.chips) + " chips";
    return;
  }
  // The least step that works: 1 position (each group's chip at ring position 0 stands for all
  // k), else a divisor of k (a model axis over two nodes turns by a node's GPUs).
  std::string first_why;
  for (std::int64_t step = 1; step < k; ++step) {
    if (k % step != 0)
      continue;
    const auto why = try_rotation(step);
    if (why.empty()) {
      const auto kept = chips_ / k * step;
      symmetry_note_ +=
          step == 1 ? "; model-axis rotation: each model group's chip at index 0 stands for its " +
                          std::to_string(k)
                    : "; model-axis rotation by " + std::to_string(step) +
                          " positions: each model group's first " + std::to_string(step) +
                          " chips stand for its " + std::to_string(k);
      symmetry_note_ += ", " + std::to_string(kept) + " of " +
                        std::to_string(static_cast<std::int64_t>(placement_.chip.size())) +
                        " chips simulated";
      return;
    }
    if (first_why.empty())
      first_why = why;
  }
  rotated_.clear();  // the last attempt's schedules
  symmetry_note_ += "; model-axis rotation off: " + first_why;
}

std::string StepSim::try_rotation(std::int64_t step) {
  const auto k = placement_.model;
  const auto& topology = network_.topology();
  rotated_.clear();
  // The rotation: model index m to the one `step` positions on along the model ring, in every
  // group; ring positions below `step` run.
  std::vector<std::int32_t> next(static_cast<std::size_t>(k)), back(static_cast<std::size_t>(k));
  std::vector<int> rep(static_cast<std::size_t>(k));
  for (std::int64_t m = 0; m < k; ++m) {
    const auto pos = ring_pos_[static_cast<std::size_t>(m)];
    const auto to = placement_.model_ring[static_cast<std::size_t>((pos + step) % k)];
    next[static_cast<std::size_t>(m)] = static_cast<std::int32_t>(to);
    back[static_cast<std::size_t>(to)] = static_cast<std::int32_t>(m);
    rep[static_cast<std::size_t>(m)] =
        static_cast<int>(placement_.model_ring[static_cast<std::size_t>(pos % step)]);
  }
  const int order = static_cast<int>(k / step);
  std::vector<std::int32_t> image(static_cast<std::size_t>(topology.chip_count()), -1);
  for (std::size_t c = 0; c < placement_.chip.size(); ++c) {
    const auto m = static_cast<std::int64_t>(c) % k;
    const auto to = static_cast<std::int64_t>(c) - m + next[static_cast<std::size_t>(m)];
    image[static_cast<std::size_t>(placement_.chip[c])] =
        placement_.chip[static_cast<std::size_t>(to)];
  }
  auto runs = [&](std::int64_t m) { return ring_pos_[static_cast<std::size_t>(m % k)] < step; };
  bool model_sends = false, pipe_sends = false;
  std::set<std::pair<int, std::int64_t>> model_ops, data_ops;
  for (const auto& program : programs_) {
    for (const auto& in : program.code) {
      model_sends = model_sends || (in.kind == Kind::Send && in.axis == Axis::Model);
      pipe_sends = pipe_sends || (in.kind == Kind::Send && in.axis == Axis::Pipeline);
      if (in.kind != Kind::Collective)
        continue;
      (in.axis == Axis::Model ? model_ops : data_ops).insert({static_cast<int>(in.op), in.bytes});
    }
  }
  Pairs main, data;
  // Model-axis collectives: the running members' transfers, each standing for its rotations.
  collectives::MemberShifts shifts;
  shifts.rep = rep;
  shifts.generators.push_back(std::vector<int>(back.begin(), back.end()));
  for (std::int64_t g = 0; g < replicas_ * p_; ++g) {
    const auto& group = model_groups_[static_cast<std::size_t>(g)];
    for (const auto& [op_id, bytes] : model_ops) {
      const auto op = static_cast<CollectiveOp>(op_id);
      const auto name = collectives::default_collective_algorithm(op, topology, group, bytes);
      const auto& algorithm = collectives::find_collective_algorithm(name, op);
      if (algorithm.ring_plan == nullptr)
        return std::string("the model axis's ") + collectives::to_string(op) + " runs " +
               std::string(name) + ", not a ring";
      collectives::Schedule reduced;
      const auto why = collectives::build_ring_plan_reduced(
          group, algorithm.ring_plan(op, group, bytes, 1), shifts, reduced);
      if (!why.empty())
        return why;
      add_pairs(reduced, main);
      rotated_.emplace(ReducedKey{g, op_id, bytes}, std::move(reduced));
    }
  }
  for (std::int64_t c = 0; c < chips_; ++c) {
    if (!runs(c))
      continue;
    const auto chip = placement_.chip[static_cast<std::size_t>(c)];
    for (int dir : {-1, +1}) {
      if (model_sends)
        main.emplace_back(chip, placement_.chip[static_cast<std::size_t>(neighbour(c, dir))]);
      if (pipe_sends)
        main.emplace_back(chip, placement_.chip[static_cast<std::size_t>(stage_neighbour(c, dir))]);
    }
  }
  // Data group s k + m' (ring position p) runs the rotation of group s k + m (position p mod
  // step), p / step turns on: reduced schedules compared transfer by transfer; full ones (built
  // only when they run) from their groups, as an algorithm builds a schedule from its group's
  // members and shape alone.
  for (std::int64_t m = 0; m < w_; ++m) {
    if (!runs(m))
      continue;
    const auto& base_group = data_groups_[static_cast<std::size_t>(m)];
    const auto stage_base = m - m % k;
    for (const auto& [op_id, bytes] : data_ops) {
      const auto op = static_cast<CollectiveOp>(op_id);
      const auto name = collectives::default_collective_algorithm(op, topology, base_group, bytes);
      for (int turns = 1; turns < order; ++turns) {
        const auto pos = ring_pos_[static_cast<std::size_t>(m % k)] + turns * step;
        const auto other = stage_base + placement_.model_ring[static_cast<std::size_t>(pos)];
        const auto& group = data_groups_[static_cast<std::size_t>(other)];
        auto carry = [&](std::int32_t chip) {  // `turns` turns on
          for (int t = 0; t < turns && chip >= 0; ++t)
            chip = image[static_cast<std::size_t>(chip)];
          return chip;
        };
        bool same =
            data_reduced()
                ? is_mapped_copy(reduced_.at(ReducedKey{m, op_id, bytes}),
                                 reduced_.at(ReducedKey{other, op_id, bytes}), carry)
                : group.shape == base_group.shape &&
                      collectives::default_collective_algorithm(op, topology, group, bytes) == name;
        for (std::size_t i = 0; same && !data_reduced() && i < group.chips.size(); ++i)
          same = carry(base_group.chips[i]) == group.chips[i];
        if (!same)
          return "data group " + std::to_string(other) + "'s " + collectives::to_string(op) +
                 " is not the rotation of group " + std::to_string(m) + "'s";
      }
      auto& out = symmetric_ ? data : main;
      if (data_reduced()) {
        add_pairs(reduced_.at(ReducedKey{m, op_id, bytes}), out);
      } else {
        for (const auto& pair : schedule_pairs(Axis::Data, m, op, bytes))
          out.push_back(pair);
      }
    }
  }
  std::vector<std::int32_t> main_rep, data_rep;
  auto why =
      rotation_link_rep(topology, std::move(main), image, order, network_.link_map(), main_rep);
  if (why.empty() && symmetric_)
    why = rotation_link_rep(topology, std::move(data), image, order, data_network_.link_map(),
                            data_rep);
  if (!why.empty())
    return why;
  network_.set_link_map(std::move(main_rep));
  if (symmetric_)
    data_network_.set_link_map(std::move(data_rep));
  rot_step_ = step;
  return {};
}

}  // namespace meshsim::execution::detail
