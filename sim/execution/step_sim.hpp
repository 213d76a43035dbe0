#pragma once
// The interpreter of the per-chip program (program.hpp) on the discrete-event engine: compute
// streams, ring sends and collectives over the shared network, and replica symmetry
// (docs/execution.md "Replica symmetry"). Internal to sim/execution.
#include <algorithm>
#include <array>
#include <cstdint>
#include <map>
#include <memory>
#include <set>
#include <stdexcept>
#include <string>
#include <tuple>
#include <vector>

#include "sim/collectives/executor.hpp"
#include "sim/collectives/registry.hpp"
#include "sim/engine/simulator.hpp"
#include "sim/execution/placement.hpp"
#include "sim/execution/program.hpp"
#include "sim/execution/step.hpp"
#include "sim/execution/symmetry.hpp"
#include "sim/network/network.hpp"

namespace meshsim::execution::detail {

class StepSim {
 public:
  // `programs`: one per pipeline stage (one without a pipeline); chip c = (d p + s) k + m runs
  // programs[s].
  StepSim(const std::vector<Program>& programs, const Placement& placement,
          const network::Topology& topology, const TraceOptions& trace, bool allow_symmetry,
          bool allow_leaf_groups = true)
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

  void run() {
    for (std::int64_t c = 0; c < chips_; ++c) {
      sim_.schedule_at(SimTime::zero(), &StepSim::resume_event, this,
                       static_cast<std::uint64_t>(c));
    }
    sim_.run();
    for (std::int64_t c = 0; c < chips_; ++c) {
      if (pc_[static_cast<std::size_t>(c)] != prog(c).code.size()) {
        throw std::logic_error("step: chip " + std::to_string(c) + " deadlocked at instruction " +
                               std::to_string(pc_[static_cast<std::size_t>(c)]));
      }
    }
  }

  struct RowStats {
    double compute_ps = 0, comm_ps = 0, exposed_ps = 0, bytes = 0;
  };
  struct ChipStats {
    double compute_ps = 0, recompute_ps = 0, optimizer_ps = 0;
    double exposed_ps[kAxisCount] = {};  // by Axis
    double bytes_sent[kAxisCount] = {};  // by Axis
    double flop = 0;
    std::vector<RowStats> rows;
  };

  const std::vector<ChipStats>& stats() const { return stats_; }
  const std::vector<SimTime>& finish() const { return finish_; }
  std::vector<TraceEvent>& trace_events() { return trace_events_; }

  // Replica symmetry (docs/execution.md): only replica 0 is simulated chip by chip, the other
  // data replicas follow the same timeline; data-axis collectives are reduced to replica 0's
  // transfers (torus shifts) or run in full on links of their own (memoized or step by step).
  const std::string& symmetry_note() const { return symmetry_note_; }

  // Events the run will take at most: one per compute instruction and per send on every simulated
  // chip, plus the transfers of every collective as it will run (replica 0's share when the shifts
  // reduce it; all members otherwise, an upper bound when a batch is memoized).
  double estimated_events() const {
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
        if (shifted_ && in.axis == Axis::Data) {
          for (std::int64_t m = st * k; m < (st + 1) * k; ++m)
            events += static_cast<double>(
                reduced_.at(std::make_tuple(m, static_cast<int>(in.op), in.bytes)).size());
          continue;
        }
        // Per stage: its model group (the whole model axis, or with two model axes, p = 1, one
        // group of model1 or model2), or its k data groups.
        const bool model_axis = is_model_axis(in.axis);
        const auto& group = in.axis == Axis::Model ? model_groups_[static_cast<std::size_t>(st)]
                            : model_axis           ? groups_of(in.axis)[0]
                                                   : data_groups_[static_cast<std::size_t>(st * k)];
        const auto name =
            collectives::default_collective_algorithm(in.op, topology, group, in.bytes);
        const auto& algorithm = collectives::find_collective_algorithm(name, in.op);
        const double groups =
            static_cast<double>(in.axis == Axis::Model ? replicas_
                                : model_axis           ? replicas_ * groups_per_replica(in.axis)
                                                       : k);
        events += groups * static_cast<double>(algorithm.transfer_count(in.op, group, in.bytes, 1));
      }
    }
    return events;
  }
  std::int64_t simulated_chips() const { return chips_; }
  // Every replica's traffic counts the same as replica 0's.
  double replica_factor() const {
    return static_cast<double>(placement_.data) / static_cast<double>(replicas_);
  }
  std::uint64_t events() const { return sim_.events_run() + batch_events_; }
  std::int64_t memoized_collectives() const { return memoized_collectives_; }
  std::int64_t stepwise_collectives() const { return stepwise_collectives_; }
  std::int64_t messages() const {
    return network_.messages_sent() * (placement_.data / replicas_) + data_messages_ +
           data_network_.messages_sent();
  }
  std::array<double, network::kLinkClassCount> bytes_per_link_class() const {
    std::array<double, network::kLinkClassCount> out{};
    const auto main = network_.bytes_per_link_class();
    const auto data = data_network_.bytes_per_link_class();
    for (std::size_t i = 0; i < out.size(); ++i)
      out[i] = static_cast<double>(main[i]) * replica_factor() + static_cast<double>(data[i]);
    if (symmetric_) {
      const auto& links = network_.topology().links();
      for (std::size_t l = 0; l < links.size(); ++l) {
        out[static_cast<std::size_t>(links[l].link_class)] +=
            static_cast<double>(data_link_bytes_[l]);
      }
    }
    return out;
  }
  // Busy time of a link: replica 0's links carry what every replica's carry (the others are
  // idle in the simulation but busy alike in the machine); data links what their memoized
  // batches and their transfer-by-transfer collectives carried.
  double link_busy_s(std::int32_t link) const {
    double busy =
        network_.link_busy_time(link).seconds() + data_network_.link_busy_time(link).seconds();
    if (symmetric_)
      busy += static_cast<double>(data_link_busy_ps_[static_cast<std::size_t>(link)]) * 1e-12;
    return busy;
  }

 private:
  static void resume_event(void* self, std::uint64_t chip) {
    static_cast<StepSim*>(self)->execute(static_cast<std::int64_t>(chip));
  }
  static void compute_done(void* self, std::uint64_t chip) {
    auto* s = static_cast<StepSim*>(self);
    ++s->pc_[chip];
    s->execute(static_cast<std::int64_t>(chip));
  }
  static void arrival(void* self, std::uint64_t arg) {
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
  static void collective_done(void* self, std::uint64_t arg) {
    auto* s = static_cast<StepSim*>(self);
    s->finish_collective(arg);
  }

  ChipStats& stats_of(std::int64_t c) { return stats_[static_cast<std::size_t>(c)]; }
  RowStats& row_of(std::int64_t c, std::int32_t row) {
    auto& rows = stats_of(c).rows;
    if (rows.size() <= static_cast<std::size_t>(row))
      rows.resize(static_cast<std::size_t>(row) + 1);
    return rows[static_cast<std::size_t>(row)];
  }
  bool traced(std::int64_t c) const { return trace_.enabled && c < trace_.chips; }
  static const char* pass_name(Phase phase) {
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
  static const char* pass_short(Phase phase) {
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
  // A slice of chip c's track for instruction `in`: named "L3 fwd fused_in_proj" (layer, pass,
  // op), with the layer, microbatch and pass as fields (docs/execution.md "Trace").
  TraceEvent& record(std::int64_t c, int track, const std::string& op, const char* category,
                     SimTime start, SimTime end, const Instr& in) {
    TraceEvent e;
    e.name = (in.layer >= 0 ? "L" + std::to_string(in.layer) + " " : std::string()) +
             pass_short(in.phase) + " " + op;
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

  void unblock(std::int64_t c) {
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

  std::int64_t stage_of(std::int64_t c) const { return (c / placement_.model) % p_; }
  const Program& prog(std::int64_t c) const {
    return programs_[static_cast<std::size_t>(stage_of(c))];
  }
  // The same (data, model) position on the next (+1) or previous (-1) stage, wrapping (the
  // interleaved schedule's last stage feeds the first stage's next chunk).
  std::int32_t stage_neighbour(std::int64_t c, int direction) const {
    const auto k = placement_.model;
    const std::int64_t g = c / k, m = c % k, d = g / p_, s = g % p_;
    const std::int64_t s2 = ((s + direction) % p_ + p_) % p_;
    return static_cast<std::int32_t>((d * p_ + s2) * k + m);
  }

  std::int32_t neighbour(std::int64_t c, int direction) const {
    const auto k = placement_.model;
    const std::int64_t d = c / k, m = c % k;
    const auto pos = ring_pos_[static_cast<std::size_t>(m)];
    const auto next_pos = ((pos + direction) % k + k) % k;
    const auto m2 = placement_.model_ring[static_cast<std::size_t>(next_pos)];
    return static_cast<std::int32_t>(d * k + m2);
  }

  const collectives::Schedule& schedule_for(Axis axis, std::int64_t group, CollectiveOp op,
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

  // Bytes each member sends: (p-1)/p of the buffer for AG/RS, twice for AR (ring algorithms).
  void account_collective(std::int64_t c, const Instr& in) {
    const std::int64_t size = group_size(in.axis);
    const double share = static_cast<double>(size - 1) / static_cast<double>(size);
    const double factor = in.op == CollectiveOp::AllReduce ? 2.0 : 1.0;
    stats_of(c).bytes_sent[static_cast<int>(in.axis)] +=
        factor * share * static_cast<double>(in.bytes);
    if (in.row >= 0)
      row_of(c, in.row).bytes += factor * share * static_cast<double>(in.bytes);
  }

  void start_collective(std::int64_t c, const Instr& in) {
    const auto slots = static_cast<std::size_t>(max_coll_);
    const std::int64_t group = group_of(in.axis, c);
    // Members that must arrive: with replica symmetry the others arrive at the same time.
    const std::int64_t needed = in.axis == Axis::Data ? replicas_ : group_size(in.axis);
    auto& arrivals = arrivals_[static_cast<std::size_t>(in.axis)];
    auto& n = arrivals[static_cast<std::size_t>(group) * slots + static_cast<std::size_t>(in.slot)];
    account_collective(c, in);
    if (++n < needed)
      return;  // the collective starts when its last member reaches it
    const auto arg = (static_cast<std::uint64_t>(in.axis) << 61) |
                     (static_cast<std::uint64_t>(group) << 32) |
                     static_cast<std::uint64_t>(in.slot);
    const auto* schedule = &schedule_for(in.axis, group, in.op, in.bytes);
    if (shifted_ && in.axis == Axis::Data) {
      // Replica 0's members' transfers; the shifted ones run alike on the shifted links.
      schedule = &reduced_.at(std::make_tuple(group, static_cast<int>(in.op), in.bytes));
    }
    // With symmetry a data-axis collective runs on the group's links apart from replica 0's
    // model-axis traffic (whose totals count once per replica).
    const bool apart = symmetric_ && in.axis == Axis::Data;
    if (apart)
      ++direct_in_flight_[static_cast<std::size_t>(group)];
    auto run = std::make_unique<collectives::CollectiveRun>(
        apart ? data_network_ : network_, *schedule, &StepSim::collective_done, this, arg);
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

  static void start_ready(void* self, std::uint64_t) {
    auto* s = static_cast<StepSim*>(self);
    auto ready = std::move(s->ready_);
    s->ready_.clear();
    // axis (model < data < model1 < model2), group, slot
    std::sort(ready.begin(), ready.end());
    for (auto arg : ready)
      s->runs_.at(arg)->start();
  }

  void finish_collective(std::uint64_t arg) {
    const auto axis = static_cast<Axis>(arg >> 61);
    const auto group = static_cast<std::int64_t>((arg >> 32) & 0x1fffffff);
    const auto slot = static_cast<std::int32_t>(arg & 0xffffffff);
    auto it = runs_.find(arg);
    const SimTime start = it->second->start_time();
    const std::int32_t row = run_rows_[arg];
    // A member: its stage's program has the collective's name.
    const std::string& name =
        prog(member(axis, group, 0)).names[static_cast<std::size_t>(run_names_[arg])];
    const std::int64_t size = axis == Axis::Data ? replicas_ : group_size(axis);
    if (symmetric_ && axis == Axis::Data)
      --direct_in_flight_[static_cast<std::size_t>(group)];
    for (std::int64_t i = 0; i < size; ++i) {
      member_done(member(axis, group, i), axis, slot, row, name, start,
                  trace_.enabled ? run_instrs_.at(arg) : nullptr);
    }
    runs_.erase(it);
    run_names_.erase(arg);
    run_rows_.erase(arg);
    run_instrs_.erase(arg);
  }

  void member_done(std::int64_t c, Axis axis, std::int32_t slot, std::int32_t row,
                   const std::string& name, SimTime start, const Instr* instr = nullptr) {
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

  // ---- Groups of the mesh axes ----
  // Simulated chip c = d * k + m (m = m1 + k1 * m2 with two model axes). Model groups are
  // numbered replica by replica: Model d, Model1 d * k2 + m2, Model2 d * k1 + m1; Data m.

  std::int64_t groups_per_replica(Axis axis) const {
    // Model: one group per pipeline stage; two model axes (p = 1): k2 groups of model1 and k1 of
    // model2.
    return axis == Axis::Model1   ? placement_.model2
           : axis == Axis::Model2 ? placement_.model1
           : axis == Axis::Model  ? p_
                                  : 1;
  }
  std::int64_t group_size(Axis axis) const {
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
  std::int64_t group_of(Axis axis, std::int64_t c) const {
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
  // The i-th member of `group` (as a simulated chip).
  std::int64_t member(Axis axis, std::int64_t group, std::int64_t i) const {
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
  const std::vector<collectives::Group>& groups_of(Axis axis) const {
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

  // ---- Replica symmetry ----

  // Decides whether every data replica provably follows replica 0's timeline: the model-axis
  // collectives of every replica have replica 0's schedule (member for member), the replicas'
  // exchanges run on links of their own laid out alike, and each data group's collectives on
  // links of their own (replica_symmetry_violation).
  void decide_symmetry(bool allow) {
    const auto t = placement_.data, k = w_;  // a replica: the p x k chips of one data index
    if (!allow) {
      symmetry_note_ = "off: every chip simulated (--all-chips)";
      return;
    }
    if (trace_.enabled && !(trace_.keep_symmetry && trace_.chips <= k)) {
      symmetry_note_ = "off: a trace simulates every chip";
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
          bool same =
              s.size() == base.size() && s.deps == base.deps && s.dep_offsets == base.dep_offsets;
          for (std::size_t i = 0; same && i < s.size(); ++i) {
            const auto &a = s.transfers[i], &b = base.transfers[i];
            same = a.bytes == b.bytes && pos(a.src_chip) == pos(b.src_chip) + d * k &&
                   pos(a.dst_chip) == pos(b.dst_chip) + d * k;
          }
          if (!same) {
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
    auto try_shifts = [&](const TranslationSymmetry& sym, std::int64_t simulated_replicas,
                          const std::string& what) {
      std::map<std::tuple<std::int64_t, int, std::int64_t>, collectives::Schedule> reduced;
      for (std::int64_t m = 0; m < k && shift_why.empty(); ++m) {
        for (const auto& [op, bytes] : data_ops) {
          collectives::Schedule r;
          shift_why = reduce_schedule(
              schedule_for(Axis::Data, m, static_cast<CollectiveOp>(op), bytes), sym, r);
          if (!shift_why.empty())
            break;
          reduced.emplace(std::make_tuple(m, op, bytes), std::move(r));
        }
      }
      if (!shift_why.empty())
        return false;
      shifted_ = true;
      shift_replicas_ = simulated_replicas;
      reduced_ = std::move(reduced);
      network_.set_link_map(sym.link_rep);
      symmetry_note_ = "on: the other " + std::to_string(t - simulated_replicas) +
                       " data replicas are " + what + ", " +
                       std::to_string(simulated_replicas * k) + " of " + std::to_string(t * k) +
                       " chips simulated";
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
        const auto& s = schedule_for(Axis::Data, m, static_cast<CollectiveOp>(op), bytes);
        for (const auto& tr : s.transfers) {
          topology.route(tr.src_chip, tr.dst_chip, route);
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
    // Leaf-group shifts are checked for data x model meshes only (p = 1): a pipeline's stage
    // sends are not part of their checks yet.
    if (!why.empty() && topology.kind() == network::TopologyKind::GpuCluster &&
        allow_leaf_groups_ && p_ == 1) {
      TranslationSymmetry sym;
      std::int64_t per_group = 1;
      shift_why = leaf_group_symmetry(topology, view, sym, per_group);
      if (shift_why.empty() && try_shifts(sym, per_group,
                                          "shifts of the first leaf group's " +
                                              std::to_string(per_group) + " by whole leaf groups"))
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
  }

  // Data-axis collectives with replica symmetry. Replica 0's member of data group m issues the
  // group's collectives (the other members issue them at the same time); collectives issued
  // back to back form a batch. Every member of a data group runs on links no other traffic uses,
  // so a batch that provably ends before the group's next batch is issued runs alone on them: its
  // result (every member, every transfer, on a private network) depends on nothing else and is
  // memoized by the batch's schedules. "Provably": the chip issues the next batch no earlier than
  // the sum of the compute instructions before it (the compute stream runs them one after
  // another). A batch that may overlap the next one, or that starts while such a batch is still
  // running, runs transfer by transfer on the group's links in this simulation instead, exactly as
  // without symmetry.
  std::size_t start_data_batch(std::int64_t c, std::size_t first) {
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
          data_start_[static_cast<std::size_t>(c) * static_cast<std::size_t>(max_coll_) + slot] =
              now;
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

  std::int32_t schedule_id(std::size_t m, const Instr& in) {
    const auto* s = &schedule_for(Axis::Data, static_cast<std::int64_t>(m), in.op, in.bytes);
    const auto found = std::find(batch_schedules_.begin(), batch_schedules_.end(), s);
    if (found != batch_schedules_.end())
      return static_cast<std::int32_t>(found - batch_schedules_.begin());
    batch_schedules_.push_back(s);
    return static_cast<std::int32_t>(batch_schedules_.size() - 1);
  }

  static void batch_member_done(void* self, std::uint64_t arg) {
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

  struct BatchOutcome {
    std::vector<std::int64_t> finish_ps;  // per member, from the batch's start
    std::int64_t duration_ps = 0;         // the last member's
    std::vector<std::pair<std::int32_t, std::int64_t>> link_busy_ps, link_bytes;
    std::int64_t messages = 0;
  };

  // A batch alone on data group m's links: every member's transfers on a private network.
  BatchOutcome run_batch(std::size_t m, const std::vector<std::int32_t>& schedules) {
    engine::Simulator sim;
    network::Network net(sim, network_.topology());
    std::vector<std::unique_ptr<collectives::CollectiveRun>> runs;
    for (auto id : schedules) {
      runs.push_back(std::make_unique<collectives::CollectiveRun>(
          net, *batch_schedules_[static_cast<std::size_t>(id)]));
      runs.back()->start();
    }
    sim.run();
    BatchOutcome out;
    for (const auto& run : runs) {
      out.finish_ps.push_back(run->end_time().ps());
      out.duration_ps = std::max(out.duration_ps, run->end_time().ps());
    }
    for (auto l : data_links_[m]) {
      if (net.link_bytes(l) > 0) {
        out.link_busy_ps.push_back({l, net.link_busy_time(l).ps()});
        out.link_bytes.push_back({l, net.link_bytes(l)});
      }
    }
    out.messages = net.messages_sent();
    batch_events_ += sim.events_run();
    return out;
  }

  // Runs chip c's program from its program counter until it blocks, starts a compute op, or ends.
  void execute(std::int64_t c) {
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
            record(c, 0, program.names[static_cast<std::size_t>(in.name)], "compute", sim_.now(),
                   end, in)
                .flop = in.flop;
          }
          sim_.schedule_at(end, &StepSim::compute_done, this, ci);
          return;
        }
        case Kind::Send: {
          const auto dst = in.axis == Axis::Pipeline ? stage_neighbour(c, in.direction)
                                                     : neighbour(c, in.direction);
          const SimTime now = sim_.now();
          const SimTime arrive = network_.send(
              placement_.chip[ci], placement_.chip[static_cast<std::size_t>(dst)], in.bytes,
              &StepSim::arrival, this,
              static_cast<std::uint64_t>(dst) * recv_slots + static_cast<std::uint64_t>(in.slot));
          auto& st = stats_of(c);
          st.bytes_sent[static_cast<int>(in.axis)] += static_cast<double>(in.bytes);
          if (in.row >= 0) {
            row_of(c, in.row).comm_ps += static_cast<double>((arrive - now).ps());
            row_of(c, in.row).bytes += static_cast<double>(in.bytes);
          }
          if (traced(c) || traced(dst)) {
            // The send on this chip, its receive on the peer (from the send until the data has
            // arrived), one flow id joining them when both chips are traced.
            const char* category = in.axis == Axis::Pipeline ? "pipeline-comm" : "model-comm";
            const auto peer = placement_.chip[static_cast<std::size_t>(dst)];
            const std::uint64_t flow = traced(c) && traced(dst) ? ++flows_ : 0;
            if (traced(c)) {
              auto& sent =
                  record(c, 1, "send to chip " + std::to_string(peer), category, now, arrive, in);
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
            if (!traced(c))
              break;
            // The link-class track shows the first hop's class (ICI, NVLink, NIC).
            network_.topology().route(placement_.chip[ci],
                                      placement_.chip[static_cast<std::size_t>(dst)], route_);
            if (!route_.empty()) {
              const auto cls =
                  network_.topology().links()[static_cast<std::size_t>(route_[0])].link_class;
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
          break;
        }
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

  const std::vector<Program>& programs_;
  std::int64_t p_ = 1;                        // pipeline stages
  std::int64_t w_ = 1;                        // chips of one data replica: p x k
  std::int32_t max_recv_ = 0, max_coll_ = 0;  // slots per chip (the most of any stage)
  const Placement& placement_;
  engine::Simulator sim_;
  network::Network network_;
  TraceOptions trace_;
  bool symmetric_ = false;  // replicas on links of their own: data collectives memoized
  bool shifted_ = false;    // replicas are torus shifts of replica 0: everything reduced
  std::map<std::tuple<std::int64_t, int, std::int64_t>, collectives::Schedule> reduced_;
  std::string symmetry_note_;
  std::int64_t replicas_ = 1;  // data replicas simulated chip by chip: 1 with symmetry, else t
  std::int64_t shift_replicas_ = 1;  // with shifts: replica 0 (torus) or a leaf group's replicas
  bool allow_leaf_groups_ = true;    // StepOptions::leaf_group_symmetry
  std::int64_t chips_ = 0;
  std::vector<std::vector<std::int32_t>> data_links_;  // per data group, with symmetry
  network::Network data_network_;  // with symmetry: data collectives run transfer by transfer
  std::vector<std::map<std::vector<std::int32_t>, BatchOutcome>> batch_memo_;  // per data group
  std::vector<const collectives::Schedule*> batch_schedules_;
  std::vector<std::int32_t> direct_in_flight_;  // per data group: collectives on data_network_
  std::vector<std::vector<std::int64_t>> compute_until_next_batch_ps_;  // per stage
  std::vector<std::vector<std::size_t>> collective_instr_;  // per stage, per slot: instruction
  std::vector<SimTime> data_start_;                         // [chip * slots + slot]: memoized start
  std::vector<std::int64_t> data_link_busy_ps_, data_link_bytes_;  // memoized batches
  std::int64_t data_messages_ = 0;
  std::uint64_t batch_events_ = 0;
  std::int64_t memoized_collectives_ = 0, stepwise_collectives_ = 0;
  std::vector<std::size_t> pc_;
  std::vector<std::uint8_t> blocked_;
  std::vector<SimTime> block_start_, finish_;
  std::vector<std::int32_t> recv_;
  std::vector<std::uint8_t> coll_done_;
  std::array<std::vector<std::int32_t>, kAxisCount> arrivals_;  // by Axis: [group * slots + slot]
  std::vector<ChipStats> stats_;
  std::vector<int> ring_pos_;
  std::vector<collectives::Group> model_groups_, data_groups_;
  std::vector<collectives::Group> model1_groups_, model2_groups_;  // two model axes
  std::map<std::tuple<int, std::int64_t, int, std::int64_t>, collectives::Schedule> schedules_;
  std::map<std::uint64_t, std::unique_ptr<collectives::CollectiveRun>> runs_;
  std::vector<std::uint64_t> ready_;  // collectives to start at the end of this picosecond
  std::map<std::uint64_t, std::int32_t> run_names_, run_rows_;
  std::map<std::uint64_t, const Instr*> run_instrs_;  // traces only: the collective's instruction
  std::uint64_t flows_ = 0;                           // trace flow ids given so far
  std::vector<TraceEvent> trace_events_;
  std::vector<std::int32_t> route_;  // scratch for trace link classes
};

}  // namespace meshsim::execution::detail
