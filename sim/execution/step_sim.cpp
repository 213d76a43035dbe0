// The interpreter of the per-chip programs (step_sim.hpp): building the simulation, running each
// chip's instructions, sends and receives, collectives and their groups, trace records.
#include "sim/execution/step_sim.hpp"

#include <algorithm>
#include <map>
#include <memory>
#include <set>
#include <stdexcept>
#include <string>
#include <tuple>
#include <vector>

#include "sim/collectives/ring_phases.hpp"
#include "sim/collectives/ring_reduced.hpp"
#include "sim/limits.hpp"

namespace meshsim::execution::detail {

StepSim::StepSim(const std::vector<Program>& programs, const Placement& placement,
                 const network::Topology& topology, const TraceOptions& trace, bool allow_symmetry,
                 bool allow_leaf_groups, bool allow_rotation)
    : programs_(programs),
      placement_(placement),
      network_(sim_, topology),
      trace_(trace),
      data_network_(sim_, topology) {
  p_ = placement.pipeline;
  w_ = p_ * placement.model;
  for (const auto& prog : programs) {
    max_recv_ = std::max(max_recv_, prog.recv_slots);
    max_coll_ = std::max(max_coll_, prog.collective_slots);
  }
  // Ring neighbours on the model axis.
  const auto k = placement.model;
  ring_pos_.assign(static_cast<std::size_t>(k), 0);
  for (std::int64_t i = 0; i < k; ++i) {
    ring_pos_[static_cast<std::size_t>(placement.model_ring[static_cast<std::size_t>(i)])] =
        static_cast<int>(i);
  }
  // The rotated axis: model, or model1 with two model axes (decide_rotation may try model2).
  // Every chip runs until the rotation decides.
  set_rotated_axis(placement.model2 > 1 ? Axis::Model1 : Axis::Model);
  for (std::int64_t g = 0; g < placement.data * p_; ++g)
    model_groups_.push_back(placement.model_group(g));
  // Two model axes (p = 1): group d * k2 + m2 of model1, d * k1 + m1 of model2.
  if (placement.model2 > 1) {
    for (std::int64_t d = 0; d < placement.data; ++d) {
      for (std::int64_t m2 = 0; m2 < placement.model2; ++m2)
        model1_groups_.push_back(placement.model1_group(d, m2));
      for (std::int64_t m1 = 0; m1 < placement.model1; ++m1)
        model2_groups_.push_back(placement.model2_group(d, m1));
    }
  }
  for (std::int64_t m = 0; m < w_; ++m)
    data_groups_.push_back(placement.data_group(m));
  allow_leaf_groups_ = allow_leaf_groups;
  decide_symmetry(allow_symmetry);
  replicas_ = symmetric_ ? 1 : shifted_ ? shift_replicas_ : placement.data;
  chips_ = replicas_ * w_;
  decide_rotation(allow_symmetry && allow_rotation);
  const auto n = static_cast<std::size_t>(chips_);
  pc_.assign(n, 0);
  blocked_.assign(n, 0);
  block_start_.assign(n, SimTime::zero());
  finish_.assign(n, SimTime::zero());
  recv_.assign(n * static_cast<std::size_t>(std::max(1, max_recv_)), 0);
  coll_done_.assign(n * static_cast<std::size_t>(std::max(1, max_coll_)), 0);
  for (Axis axis : {Axis::Model, Axis::Data, Axis::Model1, Axis::Model2}) {
    const std::int64_t groups = axis == Axis::Data ? w_ : replicas_ * groups_per_replica(axis);
    arrivals_[static_cast<std::size_t>(axis)].assign(
        static_cast<std::size_t>(groups) * static_cast<std::size_t>(std::max(1, max_coll_)), 0);
  }
  stats_.assign(n, ChipStats{});
  if (symmetric_) {
    batch_memo_.resize(static_cast<std::size_t>(w_));
    direct_in_flight_.assign(static_cast<std::size_t>(w_), 0);
    const auto links = topology.links().size();
    data_link_busy_ps_.assign(links, 0);
    data_link_bytes_.assign(links, 0);
    data_start_.assign(n * static_cast<std::size_t>(std::max(1, max_coll_)), SimTime::zero());
    collective_instr_.resize(programs.size());
    compute_until_next_batch_ps_.resize(programs.size());
    for (std::size_t st = 0; st < programs.size(); ++st) {
      auto& instr_of = collective_instr_[st];
      auto& until = compute_until_next_batch_ps_[st];
      instr_of.assign(static_cast<std::size_t>(std::max(1, max_coll_)), 0);
      // Compute time from each instruction to the next data-axis collective (end: none
      // follows).
      const auto& code = programs[st].code;
      until.assign(code.size() + 1, INT64_MAX);
      for (std::size_t i = code.size(); i-- > 0;) {
        if (code[i].kind == Kind::Collective) {
          instr_of[static_cast<std::size_t>(code[i].slot)] = i;
          if (code[i].axis == Axis::Data) {
            until[i] = 0;
            continue;
          }
        }
        const auto after = until[i + 1];
        until[i] = after == INT64_MAX || code[i].kind != Kind::Compute
                       ? after
                       : (SimTime::from_ps(after) + SimTime::from_ps(code[i].duration_ps)).ps();
      }
    }
  }
}

void StepSim::run() {
  for (std::int64_t c = 0; c < chips_; ++c) {
    if (executed(c))
      sim_.schedule_at(SimTime::zero(), &StepSim::resume_event, this,
                       static_cast<std::uint64_t>(c));
  }
  sim_.run();
  for (std::int64_t c = 0; c < chips_; ++c) {
    if (executed(c) && pc_[static_cast<std::size_t>(c)] != prog(c).code.size()) {
      throw std::logic_error("step: chip " + std::to_string(c) + " deadlocked at instruction " +
                             std::to_string(pc_[static_cast<std::size_t>(c)]));
    }
  }
  // With model-axis rotation every chip ran the timeline of the running chip it turns onto.
  for (std::int64_t c = 0; c < chips_ && rotation() > 1; ++c) {
    if (executed(c))
      continue;
    const auto from = static_cast<std::size_t>(runner_of(c));
    stats_[static_cast<std::size_t>(c)] = stats_[from];
    finish_[static_cast<std::size_t>(c)] = finish_[from];
  }
}

double StepSim::estimated_events() const {
  double events = 0;
  const auto& topology = network_.topology();
  const auto chips = static_cast<double>(chips_ / p_);  // per stage
  const auto k = placement_.model;
  for (std::int64_t st = 0; st < p_; ++st) {
    for (const auto& in : programs_[static_cast<std::size_t>(st)].code) {
      if (in.kind == Kind::Compute || in.kind == Kind::Send)
        events += chips;
      if (in.kind != Kind::Collective)
        continue;
      if (data_reduced() && in.axis == Axis::Data)
        continue;  // counted below
      // Per stage: its model group (the whole model axis, or with two model axes, p = 1, one
      // group of model1 or model2), or its k data groups.
      const bool model_axis = is_model_axis(in.axis);
      const auto& group = in.axis == Axis::Model ? model_groups_[static_cast<std::size_t>(st)]
                          : model_axis           ? groups_of(in.axis)[0]
                                                 : data_groups_[static_cast<std::size_t>(st * k)];
      const auto name = collectives::default_collective_algorithm(in.op, topology, group, in.bytes);
      const auto& algorithm = collectives::find_collective_algorithm(name, in.op);
      const double groups =
          static_cast<double>(in.axis == Axis::Model ? replicas_
                              : model_axis           ? replicas_ * groups_per_replica(in.axis)
                                                     : k);
      events += groups * static_cast<double>(algorithm.transfer_count(in.op, group, in.bytes, 1));
    }
  }
  if (data_reduced()) {
    events += data_collective_events(
        [&](const ReducedKey& key) { return static_cast<double>(reduced_.at(key).size()); });
  }
  return events / static_cast<double>(rotation());
}

std::array<double, network::kLinkClassCount> StepSim::bytes_per_link_class() const {
  std::array<double, network::kLinkClassCount> out{};
  const auto main = network_.bytes_per_link_class();
  const auto data = data_network_.bytes_per_link_class();
  for (std::size_t i = 0; i < out.size(); ++i)
    out[i] = static_cast<double>(main[i]) * replica_factor() +
             static_cast<double>(data[i]) * static_cast<double>(data_copies_);
  if (symmetric_) {
    const auto& links = network_.topology().links();
    for (std::size_t l = 0; l < links.size(); ++l) {
      out[static_cast<std::size_t>(links[l].link_class)] +=
          static_cast<double>(data_link_bytes_[l]);
    }
  }
  for (auto& bytes : out)
    bytes *= static_cast<double>(rotation());  // every transfer stands for its k rotations
  return out;
}

void StepSim::arrival(void* self, std::uint64_t arg) {
  auto* s = static_cast<StepSim*>(self);
  const auto slots = static_cast<std::uint64_t>(s->max_recv_);
  const auto chip = static_cast<std::int64_t>(arg / slots);
  const auto slot = static_cast<std::int32_t>(arg % slots);
  auto& count = s->recv_[static_cast<std::size_t>(chip) * slots + static_cast<std::size_t>(slot)];
  ++count;
  if (!s->blocked_[static_cast<std::size_t>(chip)])
    return;
  const auto& in = s->prog(chip).code[s->pc_[static_cast<std::size_t>(chip)]];
  if (in.kind == Kind::WaitRecv && in.slot == slot && count >= in.count) {
    s->unblock(chip);
  }
}

const char* StepSim::pass_name(Phase phase) {
  switch (phase) {
    case Phase::Forward:
      return "forward";
    case Phase::Backward:
      return "backward";
    case Phase::Recompute:
      return "recompute";
    case Phase::Optimizer:
      return "optimizer";
  }
  return "";
}

const char* StepSim::pass_short(Phase phase) {
  switch (phase) {
    case Phase::Forward:
      return "fwd";
    case Phase::Backward:
      return "bwd";
    case Phase::Recompute:
      return "recompute";
    case Phase::Optimizer:
      return "opt";
  }
  return "";
}

TraceEvent& StepSim::record(std::int64_t c, int track, const std::string& op, const char* category,
                            SimTime start, SimTime end, const Instr& in) {
  TraceEvent e;
  if (in.layer >= 0) {
    e.name = 'L';
    e.name += std::to_string(in.layer);
    e.name += ' ';
  }
  e.name += pass_short(in.phase);
  e.name += ' ';
  e.name += op;
  e.category = category;
  e.chip = placement_.chip[static_cast<std::size_t>(c)];
  e.track = track;
  e.start_s = start.seconds();
  e.duration_s = (end - start).seconds();
  e.layer = in.layer;
  e.microbatch = in.microbatch;
  e.pass = pass_name(in.phase);
  trace_events_.push_back(std::move(e));
  return trace_events_.back();
}

void StepSim::unblock(std::int64_t c) {
  const auto& in = prog(c).code[pc_[static_cast<std::size_t>(c)]];
  const auto waited =
      static_cast<double>((sim_.now() - block_start_[static_cast<std::size_t>(c)]).ps());
  stats_of(c).exposed_ps[static_cast<int>(in.axis)] += waited;
  if (in.row >= 0)
    row_of(c, in.row).exposed_ps += waited;
  if (traced(c) && waited > 0) {
    record(c, 0,
           is_model_axis(in.axis)      ? "wait model axis"
           : in.axis == Axis::Pipeline ? "wait pipeline"
                                       : "wait data axis",
           "wait", block_start_[static_cast<std::size_t>(c)], sim_.now(), in);
  }
  blocked_[static_cast<std::size_t>(c)] = 0;
  ++pc_[static_cast<std::size_t>(c)];
  execute(c);
}

std::int32_t StepSim::neighbour(std::int64_t c, int direction) const {
  const auto k = placement_.model;
  const std::int64_t d = c / k, m = c % k;
  const auto pos = ring_pos_[static_cast<std::size_t>(m)];
  const auto next_pos = ((pos + direction) % k + k) % k;
  const auto m2 = placement_.model_ring[static_cast<std::size_t>(next_pos)];
  return static_cast<std::int32_t>(d * k + m2);
}

const collectives::Schedule& StepSim::schedule_for(Axis axis, std::int64_t group, CollectiveOp op,
                                                   std::int64_t bytes) {
  auto key = std::make_tuple(static_cast<int>(axis), group, static_cast<int>(op), bytes);
  auto it = schedules_.find(key);
  if (it != schedules_.end())
    return it->second;
  const auto& g = groups_of(axis)[static_cast<std::size_t>(group)];
  const auto name = collectives::default_collective_algorithm(op, network_.topology(), g, bytes);
  const auto& algorithm = collectives::find_collective_algorithm(name, op);
  return schedules_.emplace(key, algorithm.build(op, g, bytes, 1)).first->second;
}

collectives::ScheduleIndex& StepSim::index_of(const collectives::Schedule* schedule) {
  auto it = indexes_.find(schedule);
  if (it == indexes_.end())
    it = indexes_.emplace(schedule, collectives::index_schedule(*schedule)).first;
  return it->second;
}

std::vector<std::pair<std::int32_t, std::int32_t>> StepSim::schedule_pairs(Axis axis,
                                                                           std::int64_t group,
                                                                           CollectiveOp op,
                                                                           std::int64_t bytes) {
  const auto& g = groups_of(axis)[static_cast<std::size_t>(group)];
  const auto name = collectives::default_collective_algorithm(op, network_.topology(), g, bytes);
  const auto& algorithm = collectives::find_collective_algorithm(name, op);
  if (algorithm.ring_plan != nullptr)
    return collectives::ring_plan_pairs(g, algorithm.ring_plan(op, g, bytes, 1));
  std::vector<std::pair<std::int32_t, std::int32_t>> pairs;
  for (const auto& tr : schedule_for(axis, group, op, bytes).transfers)
    pairs.emplace_back(tr.src_chip, tr.dst_chip);
  std::sort(pairs.begin(), pairs.end());
  pairs.erase(std::unique(pairs.begin(), pairs.end()), pairs.end());
  return pairs;
}

std::string StepSim::reduce_data_collectives(const TranslationSymmetry& sym,
                                             const std::set<std::pair<int, std::int64_t>>& data_ops,
                                             std::int64_t simulated_chips, ReducedSchedules& out) {
  using Key = ReducedKey;
  struct Reduction {
    const collectives::CollectiveAlgorithm* algorithm = nullptr;
    bool direct = false;  // a ring plan reduced by `shifts`; else the full schedule reduced
    collectives::RingPlan plan;
    collectives::MemberShifts shifts;
    double transfers = 0;  // direct: exact; else the full schedule's share
  };
  // What each would take, nothing built (a data ring over whole pods of a three-level cluster
  // reduces to a pod's share, too large to build).
  std::map<Key, Reduction> plans;
  double distinct = 0;
  for (std::int64_t m = 0; m < w_; ++m) {
    const auto& g = groups_of(Axis::Data)[static_cast<std::size_t>(m)];
    for (const auto& [op_id, bytes] : data_ops) {
      const auto op = static_cast<CollectiveOp>(op_id);
      Reduction r;
      const auto name =
          collectives::default_collective_algorithm(op, network_.topology(), g, bytes);
      r.algorithm = &collectives::find_collective_algorithm(name, op);
      if (r.algorithm->ring_plan != nullptr && shift_members(g, sym, r.shifts).empty()) {
        r.plan = r.algorithm->ring_plan(op, g, bytes, 1);
        r.transfers = static_cast<double>(collectives::ring_plan_reduced_count(r.plan, r.shifts));
        r.direct = true;
      }
      const auto full = r.algorithm->transfer_count(op, g, bytes, 1);
      if (!r.direct) {
        if (full > limits::kMaxScheduleTransfers)
          return "a data-axis schedule of " + std::to_string(full) +
                 " transfers is too large to reduce";
        r.transfers = static_cast<double>(full) / static_cast<double>(sym.offset.size());
      }
      distinct += r.transfers;
      plans.emplace(Key{m, op_id, bytes}, std::move(r));
    }
  }
  // The step's limits, from these sizes alone: every data collective of the program runs its
  // reduced schedule once (sim/limits.hpp).
  const double events =
      data_collective_events([&](const Key& key) { return plans.at(key).transfers; });
  if (events > limits::kMaxStepEvents)
    return "its reduced data-axis collectives alone would take about " +
           std::to_string(static_cast<long long>(events)) + " events";
  if (limits::estimated_simulation_memory_bytes(static_cast<std::uint64_t>(distinct),
                                                simulated_chips) >
      limits::kMaxSimulationMemoryBytes)
    return "its reduced data-axis schedules would need too much memory";
  ReducedSchedules reduced;
  for (auto& [key, r] : plans) {
    const auto& [m, op_id, bytes] = key;
    const auto op = static_cast<CollectiveOp>(op_id);
    const auto& g = groups_of(Axis::Data)[static_cast<std::size_t>(m)];
    collectives::Schedule schedule;
    std::string why = "not a ring";
    if (r.direct)
      why = collectives::build_ring_plan_reduced(g, r.plan, r.shifts, schedule);
    if (!why.empty()) {
      // Not provably alike ring by ring: the full schedule, checked transfer by transfer.
      if (r.algorithm->transfer_count(op, g, bytes, 1) > limits::kMaxScheduleTransfers)
        return why;
      why = reduce_schedule(schedule_for(Axis::Data, m, op, bytes), sym, schedule);
      if (!why.empty())
        return why;
    }
    reduced.emplace(key, std::move(schedule));
  }
  out = std::move(reduced);
  return {};
}

void StepSim::account_collective(std::int64_t c, const Instr& in) {
  const std::int64_t size = group_size(in.axis);
  const double share = static_cast<double>(size - 1) / static_cast<double>(size);
  const double factor = in.op == CollectiveOp::AllReduce ? 2.0 : 1.0;
  stats_of(c).bytes_sent[static_cast<int>(in.axis)] +=
      factor * share * static_cast<double>(in.bytes);
  if (in.row >= 0)
    row_of(c, in.row).bytes += factor * share * static_cast<double>(in.bytes);
}

void StepSim::start_collective(std::int64_t c, const Instr& in) {
  const auto slots = static_cast<std::size_t>(max_coll_);
  const std::int64_t group = group_of(in.axis, c);
  // Members that must arrive: with replica symmetry the others arrive at the same time.
  const bool rotated = rotated_axis(in.axis);
  // With a rotation, the running members: step of the rotated axis's (k / k2 x step of the
  // whole model group's with model2 turning).
  const std::int64_t needed = in.axis == Axis::Data ? replicas_
                              : rotated             ? group_size(in.axis) / rot_k_ * rot_step_
                                                    : group_size(in.axis);
  auto& arrivals = arrivals_[static_cast<std::size_t>(in.axis)];
  auto& n = arrivals[static_cast<std::size_t>(group) * slots + static_cast<std::size_t>(in.slot)];
  account_collective(c, in);
  if (++n < needed)
    return;  // the collective starts when its last member reaches it
  const auto arg = (static_cast<std::uint64_t>(in.axis) << 61) |
                   (static_cast<std::uint64_t>(group) << 32) | static_cast<std::uint64_t>(in.slot);
  // With shifts, replica 0's members' transfers; the shifted ones run alike on the shifted links.
  const auto* schedule =
      data_reduced() && in.axis == Axis::Data
          ? &reduced_.at(std::make_tuple(group, static_cast<int>(in.op), in.bytes))
      : rotated ? &(in.axis == rot_axis_ ? rotated_ : rotated_model_)
                       .at(std::make_tuple(group, static_cast<int>(in.op), in.bytes))
                : &schedule_for(in.axis, group, in.op, in.bytes);
  // With symmetry a data-axis collective runs on the group's links apart from replica 0's
  // model-axis traffic (whose totals count once per replica).
  const bool apart = symmetric_ && in.axis == Axis::Data;
  if (apart)
    ++direct_in_flight_[static_cast<std::size_t>(group)];
  auto run = std::make_unique<collectives::CollectiveRun>(apart ? data_network_ : network_,
                                                          *schedule, index_of(schedule),
                                                          &StepSim::collective_done, this, arg);
  runs_.emplace(arg, std::move(run));
  run_names_[arg] = in.name;
  run_rows_[arg] = in.row;
  if (trace_.enabled)
    run_instrs_[arg] = &in;
  // Collectives ready in the same picosecond start together, after everything already queued
  // for it, in a fixed order (model axis by replica, then data axis by group): which chip
  // arrives last, and when, differs with and without replica symmetry, and the order of
  // same-picosecond sends decides who gets a shared link first.
  if (ready_.empty())
    sim_.schedule_at(sim_.now(), &StepSim::start_ready, this, 0);
  ready_.push_back(arg);
}

void StepSim::start_ready(void* self, std::uint64_t) {
  auto* s = static_cast<StepSim*>(self);
  auto ready = std::move(s->ready_);
  s->ready_.clear();
  // axis (model < data < model1 < model2), group, slot
  std::sort(ready.begin(), ready.end());
  for (auto arg : ready)
    s->runs_.at(arg)->start();
}

void StepSim::finish_collective(std::uint64_t arg) {
  const auto axis = static_cast<Axis>(arg >> 61);
  const auto group = static_cast<std::int64_t>((arg >> 32) & 0x1fffffff);
  const auto slot = static_cast<std::int32_t>(arg & 0xffffffff);
  auto it = runs_.find(arg);
  const SimTime start = it->second->start_time();
  const std::int32_t row = run_rows_[arg];
  // A member: its stage's program has the collective's name.
  const std::string& name =
      prog(member(axis, group, 0)).names[static_cast<std::size_t>(run_names_[arg])];
  const bool rotated = rotated_axis(axis);
  const std::int64_t size = axis == Axis::Data ? replicas_ : rotated ? rot_step_ : group_size(axis);
  if (symmetric_ && axis == Axis::Data)
    --direct_in_flight_[static_cast<std::size_t>(group)];
  // With the rotation the running members: ring positions 0 .. step - 1 of the rotated axis (of
  // each of the whole model group's k1 model2 rings, member m1 + k1 m2, with model2 turning).
  const std::int64_t rings =
      rotated && axis == Axis::Model && rot_axis_ == Axis::Model2 ? placement_.model1 : 1;
  for (std::int64_t r = 0; r < rings; ++r) {
    for (std::int64_t i = 0; i < size; ++i) {
      const auto index = rotated ? r + rot_ring_[static_cast<std::size_t>(i)] * rings : i;
      member_done(member(axis, group, index), axis, slot, row, name, start,
                  trace_.enabled ? run_instrs_.at(arg) : nullptr);
    }
  }
  runs_.erase(it);
  run_names_.erase(arg);
  run_rows_.erase(arg);
  run_instrs_.erase(arg);
}

void StepSim::member_done(std::int64_t c, Axis axis, std::int32_t slot, std::int32_t row,
                          const std::string& name, SimTime start, const Instr* instr) {
  const auto slots = static_cast<std::size_t>(max_coll_);
  coll_done_[static_cast<std::size_t>(c) * slots + static_cast<std::size_t>(slot)] = 1;
  if (row >= 0)
    row_of(c, row).comm_ps += static_cast<double>((sim_.now() - start).ps());
  if (traced(c) && instr != nullptr) {
    const bool model = is_model_axis(axis);
    record(c, model ? 2 : 4, name, model ? "model-comm" : "data-comm", start, sim_.now(), *instr)
        .bytes = static_cast<double>(instr->bytes);
  }
  if (!blocked_[static_cast<std::size_t>(c)])
    return;
  const auto& in = prog(c).code[pc_[static_cast<std::size_t>(c)]];
  if (in.kind == Kind::WaitCollective && in.slot == slot)
    unblock(c);
}

void StepSim::set_rotated_axis(Axis axis) {
  const auto& placement = placement_;
  rot_axis_ = axis;
  rot_k_ = axis == Axis::Model1   ? placement.model1
           : axis == Axis::Model2 ? placement.model2
                                  : placement.model;
  rot_ring_ = axis == Axis::Model1   ? collectives::snake_order(placement.model1_shape)
              : axis == Axis::Model2 ? collectives::snake_order(placement.model2_shape)
                                     : placement.model_ring;
  rot_pos_.assign(rot_ring_.size(), 0);
  for (std::size_t i = 0; i < rot_ring_.size(); ++i)
    rot_pos_[static_cast<std::size_t>(rot_ring_[i])] = static_cast<int>(i);
  rot_stride_ = axis == Axis::Model2 ? placement.model1 : 1;
  rot_step_ = rot_k_;
}

std::int64_t StepSim::groups_per_replica(Axis axis) const {
  // Model: one group per pipeline stage; two model axes (p = 1): k2 groups of model1 and k1 of
  // model2.
  return axis == Axis::Model1   ? placement_.model2
         : axis == Axis::Model2 ? placement_.model1
         : axis == Axis::Model  ? p_
                                : 1;
}

std::int64_t StepSim::group_size(Axis axis) const {
  switch (axis) {
    case Axis::Model:
      return placement_.model;
    case Axis::Model1:
      return placement_.model1;
    case Axis::Model2:
      return placement_.model2;
    default:
      return placement_.data;
  }
}

std::int64_t StepSim::group_of(Axis axis, std::int64_t c) const {
  const std::int64_t k = placement_.model, d = c / k, m = c % k;
  switch (axis) {
    case Axis::Model:
      return d;  // d p + s with a pipeline
    case Axis::Model1:
      return d * placement_.model2 + m / placement_.model1;
    case Axis::Model2:
      return d * placement_.model1 + m % placement_.model1;
    default:
      return c % w_;  // the replica position s k + m
  }
}

std::int64_t StepSim::member(Axis axis, std::int64_t group, std::int64_t i) const {
  const std::int64_t k = placement_.model, k1 = placement_.model1, k2 = placement_.model2;
  switch (axis) {
    case Axis::Model:
      return group * k + i;
    case Axis::Model1:
      return group / k2 * k + group % k2 * k1 + i;
    case Axis::Model2:
      return group / k1 * k + i * k1 + group % k1;
    default:
      return i * w_ + group;  // data: replica i's chip at position `group`
  }
}

const std::vector<collectives::Group>& StepSim::groups_of(Axis axis) const {
  switch (axis) {
    case Axis::Model:
      return model_groups_;
    case Axis::Model1:
      return model1_groups_;
    case Axis::Model2:
      return model2_groups_;
    default:
      return data_groups_;
  }
}

void StepSim::flush_sends(void* self, std::uint64_t) {
  auto* s = static_cast<StepSim*>(self);
  auto pending = std::move(s->pending_sends_);
  s->pending_sends_.clear();
  // Instruction first, then chip: a link two sends of one picosecond share serves them in an
  // order that turning the model ring (or shifting the replicas) does not change, so every chip of
  // a symmetric step sees the same contention (issue 15).
  std::sort(pending.begin(), pending.end());
  for (const auto& [pc, c] : pending)
    s->send(c, s->prog(c).code[pc]);
}

void StepSim::send(std::int64_t c, const Instr& in) {
  const auto ci = static_cast<std::size_t>(c);
  const auto recv_slots = static_cast<std::size_t>(max_recv_);
  if (send_slots_.empty())
    send_slots_.resize(placement_.chip.size() * 4);
  auto& slot = send_slots_[ci * 4 + (in.axis == Axis::Pipeline ? 2 : 0) + (in.direction > 0)];
  if (slot.receiver < 0) {
    const auto to =
        in.axis == Axis::Pipeline ? stage_neighbour(c, in.direction) : neighbour(c, in.direction);
    // With model-axis rotation a send to a chip that does not run goes to the running chip it
    // turns onto: that chip receives, at the same time, the send the rotation carries onto this
    // one.
    const bool turned = rotation() > 1 && in.axis != Axis::Pipeline && !executed(to);
    slot.dst = static_cast<std::int32_t>(to);
    slot.receiver = static_cast<std::int32_t>(turned ? runner_of(to) : to);
  }
  const std::int64_t dst = slot.dst, receiver = slot.receiver;
  const bool rotated = receiver != dst;
  const SimTime now = sim_.now();
  if (send_epoch_ != network_.route_epoch()) {
    send_epoch_ = network_.route_epoch();
    for (auto& s : send_slots_)
      s.route = -1;
  }
  auto& route = slot.route;
  if (route == -1) {
    route = network_.route_id(placement_.chip[ci], placement_.chip[static_cast<std::size_t>(dst)]);
    route = route >= 0 ? route : -2;
  }
#ifndef NDEBUG
  // A chip's send of one axis and direction always goes to the same chip (debug builds check).
  if (route >= 0 && network_.route_id(placement_.chip[ci],
                                      placement_.chip[static_cast<std::size_t>(dst)]) != route)
    throw std::logic_error("StepSim::send: a kept route number is another pair's");
#endif
  const auto arg =
      static_cast<std::uint64_t>(receiver) * recv_slots + static_cast<std::uint64_t>(in.slot);
  const SimTime arrive =
      route >= 0
          ? network_.send_on(route, in.bytes, &StepSim::arrival, this, arg)
          : network_.send(placement_.chip[ci], placement_.chip[static_cast<std::size_t>(dst)],
                          in.bytes, &StepSim::arrival, this, arg);
  auto& st = stats_of(c);
  st.bytes_sent[static_cast<int>(in.axis)] += static_cast<double>(in.bytes);
  if (in.row >= 0) {
    row_of(c, in.row).comm_ps += static_cast<double>((arrive - now).ps());
    row_of(c, in.row).bytes += static_cast<double>(in.bytes);
  }
  if (traced(c) || traced(dst) || (rotated && traced(receiver))) {
    // The send on this chip, its receive on the peer (from the send until the data has
    // arrived), one flow id joining them when both chips are traced.
    const char* category = in.axis == Axis::Pipeline ? "pipeline-comm" : "model-comm";
    const auto peer = placement_.chip[static_cast<std::size_t>(dst)];
    const std::uint64_t flow = traced(c) && traced(dst) ? ++flows_ : 0;
    if (traced(c)) {
      auto& sent = record(c, 1, "send to chip " + std::to_string(peer), category, now, arrive, in);
      sent.bytes = static_cast<double>(in.bytes);
      sent.peer = peer;
      sent.flow = flow;
    }
    if (traced(dst)) {
      auto& got = record(dst, 3, "receive from chip " + std::to_string(placement_.chip[ci]),
                         category, now, arrive, in);
      got.bytes = static_cast<double>(in.bytes);
      got.peer = placement_.chip[ci];
      got.flow = flow;
    }
    if (rotated && traced(receiver)) {
      // The rotation of this send that the running chip receives (its sender does not run).
      const auto from =
          placement_.chip[static_cast<std::size_t>(neighbour(receiver, -in.direction))];
      auto& got = record(receiver, 3, "receive from chip " + std::to_string(from), category, now,
                         arrive, in);
      got.bytes = static_cast<double>(in.bytes);
      got.peer = from;
    }
    if (!traced(c))
      return;
    // The link-class track shows the first hop's class (ICI, NVLink, NIC).
    network_.topology().route(placement_.chip[ci], placement_.chip[static_cast<std::size_t>(dst)],
                              route_);
    if (!route_.empty()) {
      const auto cls = network_.topology().links()[static_cast<std::size_t>(route_[0])].link_class;
      TraceEvent link;
      link.name = "chip " + std::to_string(placement_.chip[ci]) + " -> " +
                  std::to_string(placement_.chip[static_cast<std::size_t>(dst)]);
      link.category = network::to_string(cls);
      link.chip = -1;
      link.track = static_cast<int>(cls);
      link.start_s = now.seconds();
      link.duration_s = (arrive - now).seconds();
      link.layer = in.layer;
      link.microbatch = in.microbatch;
      link.pass = pass_name(in.phase);
      link.bytes = static_cast<double>(in.bytes);
      link.peer = placement_.chip[static_cast<std::size_t>(dst)];
      trace_events_.push_back(std::move(link));
    }
  }
}

void StepSim::execute(std::int64_t c) {
  const auto ci = static_cast<std::size_t>(c);
  const auto recv_slots = static_cast<std::size_t>(max_recv_);
  const auto coll_slots = static_cast<std::size_t>(max_coll_);
  const Program& program = prog(c);
  while (pc_[ci] < program.code.size()) {
    const Instr& in = program.code[pc_[ci]];
    switch (in.kind) {
      case Kind::Compute: {
        auto& st = stats_of(c);
        const auto d = static_cast<double>(in.duration_ps);
        st.compute_ps += d;
        st.flop += in.flop;
        if (in.phase == Phase::Recompute)
          st.recompute_ps += d;
        if (in.phase == Phase::Optimizer)
          st.optimizer_ps += d;
        if (in.row >= 0)
          row_of(c, in.row).compute_ps += d;
        const SimTime end = sim_.now() + SimTime::from_ps(in.duration_ps);
        if (traced(c)) {
          record(c, 0, program.names[static_cast<std::size_t>(in.name)], "compute", sim_.now(), end,
                 in)
              .flop = in.flop;
        }
        sim_.schedule_at(end, &StepSim::compute_done, this, ci);
        return;
      }
      case Kind::Send:
        // Sent at the end of this picosecond, with every chip's sends of it in a fixed order.
        if (pending_sends_.empty())
          sim_.schedule_at_end_of_now(&StepSim::flush_sends, this, 0);
        pending_sends_.push_back({pc_[ci], c});
        break;
      case Kind::WaitRecv:
        if (recv_[ci * recv_slots + static_cast<std::size_t>(in.slot)] < in.count) {
          blocked_[ci] = 1;
          block_start_[ci] = sim_.now();
          return;
        }
        break;
      case Kind::Collective:
        if (symmetric_ && in.axis == Axis::Data) {
          pc_[ci] = start_data_batch(c, pc_[ci]);
        } else {
          start_collective(c, in);
        }
        break;
      case Kind::WaitCollective:
        if (!coll_done_[ci * coll_slots + static_cast<std::size_t>(in.slot)]) {
          blocked_[ci] = 1;
          block_start_[ci] = sim_.now();
          return;
        }
        break;
    }
    ++pc_[ci];
  }
  finish_[ci] = sim_.now();
}

}  // namespace meshsim::execution::detail
