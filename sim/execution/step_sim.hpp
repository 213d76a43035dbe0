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
#include <unordered_map>
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
          bool allow_leaf_groups = true, bool allow_rotation = true);

  void run();

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
  double estimated_events() const;
  std::int64_t simulated_chips() const { return chips_ / rotation(); }
  // Every replica's traffic counts the same as replica 0's.
  double replica_factor() const {
    return static_cast<double>(placement_.data) / static_cast<double>(replicas_);
  }
  std::uint64_t events() const { return sim_.events_run() + batch_events_; }
  std::int64_t memoized_collectives() const { return memoized_collectives_; }
  std::int64_t stepwise_collectives() const { return stepwise_collectives_; }
  std::int64_t messages() const {
    return (network_.messages_sent() * (placement_.data / replicas_) + data_messages_ +
            data_network_.messages_sent() * data_copies_) *
           rotation();
  }
  std::array<double, network::kLinkClassCount> bytes_per_link_class() const;
  // Busy time of a link: replica 0's links carry what every replica's carry (the others are
  // idle in the simulation but busy alike in the machine); data links what their memoized
  // batches and their transfer-by-transfer collectives carried.
  double link_busy_s(std::int32_t link) const {
    const auto& data_map = data_network_.link_map();
    const auto data_link = data_map.empty() ? link : data_map[static_cast<std::size_t>(link)];
    double busy =
        network_.link_busy_time(link).seconds() + data_network_.link_busy_time(data_link).seconds();
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
  static void arrival(void* self, std::uint64_t arg);
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
  static const char* pass_name(Phase phase);
  static const char* pass_short(Phase phase);
  // A slice of chip c's track for instruction `in`: named "L3 fwd fused_in_proj" (layer, pass,
  // op), with the layer, microbatch and pass as fields (docs/execution.md "Trace").
  TraceEvent& record(std::int64_t c, int track, const std::string& op, const char* category,
                     SimTime start, SimTime end, const Instr& in);

  void unblock(std::int64_t c);

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

  std::int32_t neighbour(std::int64_t c, int direction) const;

  const collectives::Schedule& schedule_for(Axis axis, std::int64_t group, CollectiveOp op,
                                            std::int64_t bytes);
  // Each schedule's index (collectives::index_schedule), built on its first run and kept: the
  // schedules of a step run once per layer and microbatch.
  collectives::ScheduleIndex& index_of(const collectives::Schedule* schedule);
  // The distinct (source, destination) chip pairs of schedule_for's transfers (from a ring-type
  // algorithm's rings, without building its schedule).
  std::vector<std::pair<std::int32_t, std::int32_t>> schedule_pairs(Axis axis, std::int64_t group,
                                                                    CollectiveOp op,
                                                                    std::int64_t bytes);
  // Every data group's collectives (`data_ops`) reduced by the shifts `sym` into `out` (built
  // directly for a ring-type algorithm, else derived from the full schedule), once their sizes,
  // counted first, keep the step within its event and memory limits with `simulated_chips`
  // simulated: "" or why not.
  using ReducedKey = std::tuple<std::int64_t, int, std::int64_t>;  // data group, op, bytes
  using ReducedSchedules = std::map<ReducedKey, collectives::Schedule>;
  // Transfers of every data-axis collective the programs run, `size_of(key)` each: the k data
  // groups of each stage run each of its data-axis instructions.
  template <class SizeOf>
  double data_collective_events(const SizeOf& size_of) const {
    double events = 0;
    for (std::int64_t st = 0; st < p_; ++st) {
      for (const auto& in : programs_[static_cast<std::size_t>(st)].code) {
        if (in.kind != Kind::Collective || in.axis != Axis::Data)
          continue;
        for (std::int64_t m = st * placement_.model; m < (st + 1) * placement_.model; ++m)
          events += size_of(ReducedKey{m, static_cast<int>(in.op), in.bytes});
      }
    }
    return events;
  }
  std::string reduce_data_collectives(const TranslationSymmetry& sym,
                                      const std::set<std::pair<int, std::int64_t>>& data_ops,
                                      std::int64_t simulated_chips, ReducedSchedules& out);

  // Bytes each member sends: (p-1)/p of the buffer for AG/RS, twice for AR (ring algorithms).
  void account_collective(std::int64_t c, const Instr& in);

  void start_collective(std::int64_t c, const Instr& in);

  static void start_ready(void* self, std::uint64_t);
  // Chip c's Send instruction `in`, now; flush_sends runs the sends of this picosecond.
  void send(std::int64_t c, const Instr& in);
  static void flush_sends(void* self, std::uint64_t);

  void finish_collective(std::uint64_t arg);

  void member_done(std::int64_t c, Axis axis, std::int32_t slot, std::int32_t row,
                   const std::string& name, SimTime start, const Instr* instr = nullptr);

  // ---- Groups of the mesh axes ----
  // Simulated chip c = d * k + m (m = m1 + k1 * m2 with two model axes). Model groups are
  // numbered replica by replica: Model d, Model1 d * k2 + m2, Model2 d * k1 + m1; Data m.

  std::int64_t groups_per_replica(Axis axis) const;
  std::int64_t group_size(Axis axis) const;
  std::int64_t group_of(Axis axis, std::int64_t c) const;
  // The i-th member of `group` (as a simulated chip).
  std::int64_t member(Axis axis, std::int64_t group, std::int64_t i) const;
  const std::vector<collectives::Group>& groups_of(Axis axis) const;

  // ---- Replica symmetry ----

  // Model-axis rotation (model_rotation.hpp): when turning every group of the rotated axis (the
  // model axis, or model1 with two model axes) `step` ring positions (the least divisor of its
  // size that works, 1 first) maps the machine, the routes and the programs onto themselves, only
  // the chips at ring positions below `step` run (rotation() = size / step): their collectives on
  // the rotated axis as their own transfers, a ring send to a chip that does not run received by
  // the running chip it turns onto, every other group (model2, data) that does not run the turn
  // of one that does, every link standing for its orbit. Else the step stays the axis's size
  // (rotation() 1) and the symmetry note says why.
  void decide_rotation(bool allow);
  // Chips each running chip stands for: size / step.
  std::int64_t rotation() const { return rot_k_ / rot_step_; }
  std::string try_rotation(std::int64_t step);  // "" and the rotation set, or why not
  // Chip c's index along the rotated axis (m; with two model axes m1, or m2 for a decoder).
  std::int64_t rot_index(std::int64_t c) const {
    const auto m = c % placement_.model;
    return rot_axis_ == Axis::Model    ? m
           : rot_axis_ == Axis::Model1 ? m % placement_.model1
                                       : m / placement_.model1;
  }
  bool executed(std::int64_t c) const {
    return rot_pos_[static_cast<std::size_t>(rot_index(c))] < rot_step_;
  }
  // The running chip standing for chip c: the one of c's group on the rotated axis at c's ring
  // position modulo the step.
  std::int64_t runner_of(std::int64_t c) const {
    const auto i = rot_index(c);
    return c +
           (rot_ring_[static_cast<std::size_t>(rot_pos_[static_cast<std::size_t>(i)] % rot_step_)] -
            i) *
               rot_stride_;
  }
  // Whether a collective on `axis` runs as its running members' transfers: the rotated axis's,
  // and with model2 turning, the whole model group's (a turn of model2 is a ring rotation of it).
  bool rotated_axis(Axis axis) const {
    return rotation() > 1 &&
           (axis == rot_axis_ || (axis == Axis::Model && rot_axis_ == Axis::Model2));
  }
  // Sets the rotated axis (Model, Model1 or Model2), its size, ring and stride.
  void set_rotated_axis(Axis axis);

  // Decides whether every data replica provably follows replica 0's timeline: the model-axis
  // collectives of every replica have replica 0's schedule (member for member), the replicas'
  // exchanges run on links of their own laid out alike, and each data group's collectives on
  // links of their own (replica_symmetry_violation).
  void decide_symmetry(bool allow);

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
  std::size_t start_data_batch(std::int64_t c, std::size_t first);

  std::int32_t schedule_id(std::size_t m, const Instr& in);

  static void batch_member_done(void* self, std::uint64_t arg);

  struct BatchOutcome {
    std::vector<std::int64_t> finish_ps;  // per member, from the batch's start
    std::int64_t duration_ps = 0;         // the last member's
    std::vector<std::pair<std::int32_t, std::int64_t>> link_busy_ps, link_bytes;
    std::int64_t messages = 0;
  };

  // A batch alone on data group m's links: every member's transfers on a private network.
  BatchOutcome run_batch(std::size_t m, const std::vector<std::int32_t>& schedules);

  // Runs chip c's program from its program counter until it blocks, starts a compute op, or ends.
  void execute(std::int64_t c);

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
  ReducedSchedules reduced_;
  // With replica symmetry and shifts of the data groups onto themselves (leaf groups): the data
  // collectives run as reduced_ on data_network_'s mapped links, each transfer standing for
  // data_copies_ (1: the full schedules).
  std::int64_t data_copies_ = 1;
  // The rotated axis (Model; with two model axes Model1, or Model2 for a decoder, whose LM head
  // runs collectives over the whole model group), its size, its ring order (rot_ring_[i] = the
  // index at ring position i), each index's ring position, and how far apart its indices' chips
  // are (1, or k1 for model2).
  Axis rot_axis_ = Axis::Model;
  std::int64_t rot_k_ = 1;
  std::vector<int> rot_ring_, rot_pos_;
  std::int64_t rot_stride_ = 1;
  std::int64_t rot_step_ = 1;       // ring positions that run: the rotation's step (k without)
  ReducedSchedules rotated_;        // rotated group, op, bytes: the running members' transfers
  ReducedSchedules rotated_model_;  // with model2 turning: the whole model group's
  bool data_reduced() const { return shifted_ || data_copies_ > 1; }
  std::string symmetry_note_;
  std::int64_t replicas_ = 1;  // data replicas simulated chip by chip: 1 with symmetry, else t
  std::int64_t shift_replicas_ = 1;  // with shifts: replica 0 (torus) or a leaf group's replicas
  bool allow_leaf_groups_ = true;    // StepOptions::leaf_group_symmetry
  std::int64_t chips_ = 0;
  std::vector<std::vector<std::int32_t>> data_links_;  // per data group, with symmetry
  network::Network data_network_;  // with symmetry: data collectives run transfer by transfer
  std::vector<std::map<std::vector<std::int32_t>, BatchOutcome>> batch_memo_;  // per data group
  std::vector<const collectives::Schedule*> batch_schedules_;
  std::unordered_map<const collectives::Schedule*, collectives::ScheduleIndex> indexes_;
  std::vector<std::int32_t> direct_in_flight_;  // per data group: collectives on data_network_
  std::vector<std::vector<std::int64_t>> compute_until_next_batch_ps_;  // per stage
  std::vector<std::vector<std::size_t>> collective_instr_;  // per stage, per slot: instruction
  // The chips' point-to-point sends, per slot [chip * 4 + model or pipeline x direction], taken
  // on first use: the destination chip, the chip that receives (the running chip the destination
  // turns onto with the model-axis rotation; fixed once the rotation is decided), and the route
  // number on network_'s current routes (send_epoch_; -1 unknown, -2 not numbered: the network's
  // table is full, sent by chip pair).
  struct SendSlot {
    std::int32_t dst = -1, receiver = -1, route = -1;
  };
  std::vector<SendSlot> send_slots_;
  std::uint64_t send_epoch_ = 0;
  std::vector<SimTime> data_start_;  // [chip * slots + slot]: memoized start
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
  std::vector<std::pair<std::size_t, std::int64_t>> pending_sends_;  // (pc, chip) of this ps
  std::map<std::uint64_t, std::int32_t> run_names_, run_rows_;
  std::map<std::uint64_t, const Instr*> run_instrs_;  // traces only: the collective's instruction
  std::uint64_t flows_ = 0;                           // trace flow ids given so far
  std::vector<TraceEvent> trace_events_;
  std::vector<std::int32_t> route_;  // scratch for trace link classes
};

}  // namespace meshsim::execution::detail
