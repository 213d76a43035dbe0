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
  const auto k = rot_k_;
  const auto& topology = network_.topology();
  if (!allow || k < 2 || topology.kind() != network::TopologyKind::GpuCluster)
    return;
  if (trace_.enabled && trace_.chips > 1) {
    symmetry_note_ +=
        "; model-axis rotation off: a trace of " + std::to_string(trace_.chips) + " chips";
    return;
  }
  // The least step that works: 1 position (each group's chip at ring position 0 stands for all
  // k), else a divisor of k (a model axis over two nodes turns by a node's GPUs). With two model
  // axes model1 first; a decoder's LM head runs collectives over the whole model group, which a
  // turn of model1 does not carry onto itself, but a turn of model2 does (a ring rotation by k1).
  std::vector<Axis> axes = {rot_axis_};
  bool whole_group = false;
  for (const auto& program : programs_) {
    for (const auto& in : program.code)
      whole_group = whole_group || (in.kind == Kind::Collective && in.axis == Axis::Model);
  }
  if (rot_axis_ == Axis::Model1 && whole_group)
    axes.push_back(Axis::Model2);
  std::string why_off;
  for (const Axis axis : axes) {
    set_rotated_axis(axis);
    const auto k_axis = rot_k_;
    if (k_axis < 2)
      continue;
    const std::string name = axis == Axis::Model    ? "model"
                             : axis == Axis::Model1 ? "model1"
                                                    : "model2";
    const std::string group = name + " group";
    std::string axis_why;
    for (std::int64_t step = 1; step < k_axis; ++step) {
      if (k_axis % step != 0)
        continue;
      const auto why = try_rotation(step);
      if (why.empty()) {
        symmetry_note_ += "; model-axis rotation" + (axis == Axis::Model ? "" : " (" + name + ")");
        symmetry_note_ +=
            step == 1
                ? ": each " + group + "'s chip at index 0 stands for its " + std::to_string(k_axis)
                : " by " + std::to_string(step) + " positions: each " + group + "'s first " +
                      std::to_string(step) + " chips stand for its " + std::to_string(k_axis);
        symmetry_note_ += ", " + std::to_string(chips_ / k_axis * step) + " of " +
                          std::to_string(static_cast<std::int64_t>(placement_.chip.size())) +
                          " chips simulated";
        return;
      }
      if (axis_why.empty())
        axis_why = why;
    }
    if (why_off.empty())
      why_off = axis_why;
    else if (!axis_why.empty())
      why_off += "; along " + name + ": " + axis_why;
  }
  rotated_.clear();  // the last attempt's schedules
  rotated_model_.clear();
  set_rotated_axis(axes.front());
  symmetry_note_ += "; model-axis rotation off: " + why_off;
}

std::string StepSim::try_rotation(std::int64_t step) {
  const auto k = rot_k_;
  const auto& topology = network_.topology();
  rotated_.clear();
  rotated_model_.clear();
  // The rotation: index i of the rotated axis to the one `step` positions on along its ring, in
  // every group; ring positions below `step` run.
  std::vector<std::int32_t> next(static_cast<std::size_t>(k)), back(static_cast<std::size_t>(k));
  std::vector<int> rep(static_cast<std::size_t>(k));
  for (std::int64_t i = 0; i < k; ++i) {
    const auto pos = rot_pos_[static_cast<std::size_t>(i)];
    const auto to = rot_ring_[static_cast<std::size_t>((pos + step) % k)];
    next[static_cast<std::size_t>(i)] = static_cast<std::int32_t>(to);
    back[static_cast<std::size_t>(to)] = static_cast<std::int32_t>(i);
    rep[static_cast<std::size_t>(i)] = rot_ring_[static_cast<std::size_t>(pos % step)];
  }
  // Index i of the rotated axis turned `turns` times: `turns` x step positions on its ring.
  auto turned_index = [&](std::int64_t i, int turns) -> std::int64_t {
    const auto pos = (rot_pos_[static_cast<std::size_t>(i)] + turns * step) % k;
    return rot_ring_[static_cast<std::size_t>(pos)];
  };
  // Chip c turned `turns` times.
  auto turned = [&](std::int64_t c, int turns) {
    const auto i = rot_index(c);
    return c + (turned_index(i, turns) - i) * rot_stride_;
  };
  const int order = static_cast<int>(k / step);
  std::vector<std::int32_t> image(static_cast<std::size_t>(topology.chip_count()), -1);
  for (std::size_t c = 0; c < placement_.chip.size(); ++c) {
    image[static_cast<std::size_t>(placement_.chip[c])] =
        placement_.chip[static_cast<std::size_t>(turned(static_cast<std::int64_t>(c), 1))];
  }
  auto runs = [&](std::int64_t c) {
    return rot_pos_[static_cast<std::size_t>(rot_index(c))] < step;
  };
  // A group that does not run must be the turn of one that does: the same algorithm and shape,
  // and each member `turns` turns on (an algorithm builds a schedule from its group's members and
  // shape alone).
  auto carry = [&](std::int32_t chip, int turns) {
    for (int t = 0; t < turns && chip >= 0; ++t)
      chip = image[static_cast<std::size_t>(chip)];
    return chip;
  };
  auto is_turn = [&](const collectives::Group& base, const collectives::Group& other,
                     CollectiveOp op, std::int64_t bytes, int turns) {
    if (base.shape != other.shape || base.chips.size() != other.chips.size() ||
        collectives::default_collective_algorithm(op, topology, base, bytes) !=
            collectives::default_collective_algorithm(op, topology, other, bytes))
      return false;
    for (std::size_t i = 0; i < base.chips.size(); ++i) {
      if (carry(base.chips[i], turns) != other.chips[i])
        return false;
    }
    return true;
  };
  // With two model axes, the other one: its groups (all of one index of the rotated axis) turn
  // as wholes.
  const Axis other_axis = rot_axis_ == Axis::Model1   ? Axis::Model2
                          : rot_axis_ == Axis::Model2 ? Axis::Model1
                                                      : Axis::Data;
  bool model_sends = false, pipe_sends = false;
  std::set<std::pair<int, std::int64_t>> rotated_ops, other_ops, whole_ops, data_ops;
  for (const auto& program : programs_) {
    for (const auto& in : program.code) {
      model_sends = model_sends || (in.kind == Kind::Send && in.axis == Axis::Model);
      pipe_sends = pipe_sends || (in.kind == Kind::Send && in.axis == Axis::Pipeline);
      if (in.kind != Kind::Collective)
        continue;
      const bool whole = in.axis == Axis::Model && rot_axis_ == Axis::Model2;
      if (in.axis != rot_axis_ && in.axis != Axis::Data && in.axis != other_axis && !whole)
        return in.axis == Axis::Model
                   ? "the LM head's collectives run over both model axes"
                   : "a collective on an axis the turn does not carry onto itself";
      auto& ops = in.axis == rot_axis_    ? rotated_ops
                  : whole                 ? whole_ops
                  : in.axis == Axis::Data ? data_ops
                                          : other_ops;
      ops.insert({static_cast<int>(in.op), in.bytes});
    }
  }
  Pairs main, data;
  // Collectives of the rotated axis: the running members' transfers, each standing for its
  // rotations.
  collectives::MemberShifts shifts;
  shifts.rep = rep;
  shifts.generators.push_back(std::vector<int>(back.begin(), back.end()));
  // The running members' transfers of every collective of `ops` on the first `count` groups of
  // `groups`, reduced by `member_shifts` (ring-type algorithms only: `what` names the group in the
  // reason why not), into `out` and, as pairs, into `main`.
  auto reduce_groups = [&](const std::vector<collectives::Group>& groups, std::int64_t count,
                           const std::set<std::pair<int, std::int64_t>>& ops,
                           const collectives::MemberShifts& member_shifts, ReducedSchedules& out,
                           const char* what) -> std::string {
    for (std::int64_t g = 0; g < count; ++g) {
      const auto& group = groups[static_cast<std::size_t>(g)];
      for (const auto& [op_id, bytes] : ops) {
        const auto op = static_cast<CollectiveOp>(op_id);
        const auto name = collectives::default_collective_algorithm(op, topology, group, bytes);
        const auto& algorithm = collectives::find_collective_algorithm(name, op);
        if (algorithm.ring_plan == nullptr)
          return std::string(what) + "'s " + collectives::to_string(op) + " runs " +
                 std::string(name) + ", not a ring";
        collectives::Schedule reduced;
        const auto why = collectives::build_ring_plan_reduced(
            group, algorithm.ring_plan(op, group, bytes, 1), member_shifts, reduced);
        if (!why.empty())
          return why;
        add_pairs(reduced, main);
        out.emplace(ReducedKey{g, op_id, bytes}, std::move(reduced));
      }
    }
    return {};
  };
  if (auto why = reduce_groups(groups_of(rot_axis_), replicas_ * groups_per_replica(rot_axis_),
                               rotated_ops, shifts, rotated_, "the model axis");
      !why.empty())
    return why;
  // Two model axes: the other axis's group d k + i (k the rotated axis's size, i its index) runs
  // whole where i runs; the others are its turns.
  if (other_axis != Axis::Data) {
    const std::string other_name = other_axis == Axis::Model2 ? "model2" : "model1";
    const auto& other_groups = groups_of(other_axis);
    for (std::int64_t d = 0; d < replicas_; ++d) {
      for (std::int64_t i = 0; i < k; ++i) {
        if (rot_pos_[static_cast<std::size_t>(i)] >= step)
          continue;
        const auto g = d * k + i;
        const auto& base = other_groups[static_cast<std::size_t>(g)];
        for (const auto& [op_id, bytes] : other_ops) {
          const auto op = static_cast<CollectiveOp>(op_id);
          for (int turns = 1; turns < order; ++turns) {
            const auto other = d * k + turned_index(i, turns);
            if (!is_turn(base, other_groups[static_cast<std::size_t>(other)], op, bytes, turns))
              return other_name + " group " + std::to_string(other) + "'s " +
                     collectives::to_string(op) + " is not the rotation of group " +
                     std::to_string(g) + "'s";
          }
          for (const auto& pair : schedule_pairs(other_axis, g, op, bytes))
            main.push_back(pair);
        }
      }
    }
  }
  // Model2 turning: the whole model group's member m1 + k1 m2 goes to m1 + k1 m2', so on its ring
  // (index order) every position moves k1 x (the turn of m2) on: the running members'
  // transfers, as for the rotated axis.
  if (rot_axis_ == Axis::Model2 && !whole_ops.empty()) {
    const auto k1 = placement_.model1;
    collectives::MemberShifts whole_shifts;
    std::vector<int> whole_back(static_cast<std::size_t>(k1 * k));
    whole_shifts.rep.resize(static_cast<std::size_t>(k1 * k));
    for (std::int64_t m2 = 0; m2 < k; ++m2) {
      for (std::int64_t m1 = 0; m1 < k1; ++m1) {
        const auto j = static_cast<std::size_t>(m1 + k1 * m2);
        whole_back[static_cast<std::size_t>(m1 + k1 * next[static_cast<std::size_t>(m2)])] =
            static_cast<int>(j);
        whole_shifts.rep[j] = static_cast<int>(m1 + k1 * rep[static_cast<std::size_t>(m2)]);
      }
    }
    whole_shifts.generators.push_back(std::move(whole_back));
    if (auto why = reduce_groups(model_groups_, replicas_ * groups_per_replica(Axis::Model),
                                 whole_ops, whole_shifts, rotated_model_, "the model group");
        !why.empty())
      return why;
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
  // Data group m' (the turn of group m, whose index runs, by `turns` turns) runs as group m:
  // reduced schedules compared transfer by transfer; full ones (built only when they run) from
  // their groups.
  for (std::int64_t m = 0; m < w_; ++m) {
    if (!runs(m))
      continue;
    const auto& base_group = data_groups_[static_cast<std::size_t>(m)];
    for (const auto& [op_id, bytes] : data_ops) {
      const auto op = static_cast<CollectiveOp>(op_id);
      for (int turns = 1; turns < order; ++turns) {
        const auto other = turned(m, turns);
        const bool same =
            data_reduced() ? is_mapped_copy(reduced_.at(ReducedKey{m, op_id, bytes}),
                                            reduced_.at(ReducedKey{other, op_id, bytes}),
                                            [&](std::int32_t chip) { return carry(chip, turns); })
                           : is_turn(base_group, data_groups_[static_cast<std::size_t>(other)], op,
                                     bytes, turns);
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
