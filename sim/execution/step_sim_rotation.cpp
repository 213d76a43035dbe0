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

namespace meshsim::execution::detail {

namespace {

using Pairs = std::vector<std::pair<std::int32_t, std::int32_t>>;

void add_pairs(const collectives::Schedule& schedule, Pairs& out) {
  for (const auto& t : schedule.transfers)
    out.emplace_back(t.src_chip, t.dst_chip);
}

// `b` is `a` with every chip carried `times` steps by `image`.
bool rotated_copy(const collectives::Schedule& a, const collectives::Schedule& b,
                  const std::vector<std::int32_t>& image, int times) {
  if (a.size() != b.size() || a.deps != b.deps || a.dep_offsets != b.dep_offsets)
    return false;
  auto carry = [&](std::int32_t chip) {
    for (int j = 0; j < times && chip >= 0; ++j)
      chip = image[static_cast<std::size_t>(chip)];
    return chip;
  };
  for (std::size_t i = 0; i < a.size(); ++i) {
    const auto &x = a.transfers[i], &y = b.transfers[i];
    if (x.bytes != y.bytes || carry(x.src_chip) != y.src_chip || carry(x.dst_chip) != y.dst_chip)
      return false;
  }
  return true;
}

}  // namespace

void StepSim::decide_rotation(bool allow) {
  const auto k = placement_.model;
  const auto& topology = network_.topology();
  if (!allow || k < 2 || topology.kind() != network::TopologyKind::GpuCluster)
    return;
  auto off = [&](const std::string& why) {
    symmetry_note_ += "; model-axis rotation off: " + why;
    rotated_.clear();
  };
  if (placement_.model2 > 1)
    return off("two model axes");
  if (trace_.enabled && trace_.chips > 1)
    return off("a trace of " + std::to_string(trace_.chips) + " chips");
  // The rotation: model index m to the next one along the model ring, in every group.
  std::vector<std::int32_t> next(static_cast<std::size_t>(k)), back(static_cast<std::size_t>(k));
  for (std::int64_t m = 0; m < k; ++m) {
    const auto pos = ring_pos_[static_cast<std::size_t>(m)];
    const auto to = placement_.model_ring[static_cast<std::size_t>((pos + 1) % k)];
    next[static_cast<std::size_t>(m)] = static_cast<std::int32_t>(to);
    back[static_cast<std::size_t>(to)] = static_cast<std::int32_t>(m);
  }
  std::vector<std::int32_t> image(static_cast<std::size_t>(topology.chip_count()), -1);
  for (std::size_t c = 0; c < placement_.chip.size(); ++c) {
    const auto m = static_cast<std::int64_t>(c) % k;
    const auto to = static_cast<std::int64_t>(c) - m + next[static_cast<std::size_t>(m)];
    image[static_cast<std::size_t>(placement_.chip[c])] =
        placement_.chip[static_cast<std::size_t>(to)];
  }
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
  // Model-axis collectives: member 0's transfers, each standing for its rotations.
  collectives::MemberShifts shifts;
  shifts.rep.assign(static_cast<std::size_t>(k), 0);
  shifts.generators.push_back(std::vector<int>(back.begin(), back.end()));
  for (std::int64_t g = 0; g < replicas_ * p_; ++g) {
    const auto& group = model_groups_[static_cast<std::size_t>(g)];
    for (const auto& [op_id, bytes] : model_ops) {
      const auto op = static_cast<CollectiveOp>(op_id);
      const auto name = collectives::default_collective_algorithm(op, topology, group, bytes);
      const auto& algorithm = collectives::find_collective_algorithm(name, op);
      if (algorithm.ring_plan == nullptr)
        return off(std::string("the model axis's ") + collectives::to_string(op) + " runs " +
                   std::string(name) + ", not a ring");
      collectives::Schedule reduced;
      const auto why = collectives::build_ring_plan_reduced(
          group, algorithm.ring_plan(op, group, bytes, 1), shifts, reduced);
      if (!why.empty())
        return off(why);
      add_pairs(reduced, main);
      rotated_.emplace(ReducedKey{g, op_id, bytes}, std::move(reduced));
    }
  }
  for (std::int64_t c = 0; c < chips_; c += k) {
    const auto chip = placement_.chip[static_cast<std::size_t>(c)];
    for (int dir : {-1, +1}) {
      if (model_sends)
        main.emplace_back(chip, placement_.chip[static_cast<std::size_t>(neighbour(c, dir))]);
      if (pipe_sends)
        main.emplace_back(chip, placement_.chip[static_cast<std::size_t>(stage_neighbour(c, dir))]);
    }
  }
  // Data group s k + j runs the rotation of group s k's collectives, j positions on: reduced
  // schedules compared transfer by transfer; full ones (built only when they run) from their
  // groups, as an algorithm builds a schedule from its group's members and shape alone.
  for (std::int64_t m = 0; m < w_; m += k) {
    const auto& base_group = data_groups_[static_cast<std::size_t>(m)];
    for (const auto& [op_id, bytes] : data_ops) {
      const auto op = static_cast<CollectiveOp>(op_id);
      const auto name = collectives::default_collective_algorithm(op, topology, base_group, bytes);
      for (std::int64_t j = 1; j < k; ++j) {
        const auto& group = data_groups_[static_cast<std::size_t>(m + j)];
        bool same = data_reduced() ? rotated_copy(reduced_.at(ReducedKey{m, op_id, bytes}),
                                                  reduced_.at(ReducedKey{m + j, op_id, bytes}),
                                                  image, static_cast<int>(j))
                                   : group.shape == base_group.shape &&
                                         collectives::default_collective_algorithm(
                                             op, topology, group, bytes) == name;
        for (std::size_t i = 0; same && !data_reduced() && i < group.chips.size(); ++i) {
          auto chip = base_group.chips[i];
          for (std::int64_t step = 0; step < j; ++step)
            chip = image[static_cast<std::size_t>(chip)];
          same = chip == group.chips[i];
        }
        if (!same)
          return off("data group " + std::to_string(m + j) + "'s " + collectives::to_string(op) +
                     " is not the rotation of group " + std::to_string(m) + "'s");
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
  auto dedupe = [](Pairs& pairs) {
    std::sort(pairs.begin(), pairs.end());
    pairs.erase(std::unique(pairs.begin(), pairs.end()), pairs.end());
  };
  dedupe(main);
  dedupe(data);
  std::vector<std::int32_t> main_rep, data_rep;
  auto why =
      rotation_link_rep(topology, main, image, static_cast<int>(k), main_link_map_, main_rep);
  if (why.empty() && symmetric_)
    why = rotation_link_rep(topology, data, image, static_cast<int>(k), data_link_rep_, data_rep);
  if (!why.empty())
    return off(why);
  network_.set_link_map(std::move(main_rep));
  if (symmetric_) {
    data_link_rep_ = std::move(data_rep);
    data_network_.set_link_map(data_link_rep_);
  }
  rotation_ = k;
  symmetry_note_ += "; model-axis rotation: each model group's chip at index 0 stands for its " +
                    std::to_string(k) + ", " + std::to_string(chips_ / k) + " of " +
                    std::to_string(static_cast<std::int64_t>(placement_.chip.size())) +
                    " chips simulated";
}

}  // namespace meshsim::execution::detail
