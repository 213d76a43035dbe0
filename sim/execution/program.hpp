#pragma once
// The per-chip program of one training step (docs/execution.md): the instruction list every chip
// runs, what building it needs to know about the plan (Context), and the builder that merges
// consecutive memory-bound ops into one instruction. Internal to sim/execution.
#include <algorithm>
#include <array>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "hardware_profiles/hardware.hpp"
#include "models/model.hpp"
#include "sim/collectives/schedule.hpp"
#include "sim/engine/sim_time.hpp"
#include "sim/execution/lm_head.hpp"
#include "sim/execution/placement.hpp"
#include "sim/network/topology.hpp"
#include "sim/plan/plan.hpp"
#include "sim/plan/sharding.hpp"

namespace meshsim::execution::detail {

using collectives::CollectiveOp;
using engine::SimTime;

// ---- The per-chip program ------------------------------------------------------------------
// Every chip runs the same instruction list; chip-specific values (ring neighbours, groups) are
// looked up when an instruction runs. The compute stream executes in program order; sends and
// collectives are issued without blocking it, and waits block it until the data has arrived.

enum class Kind : std::uint8_t { Compute, Send, WaitRecv, Collective, WaitCollective };
// Model: the whole model group of a replica (k chips); Model1 / Model2: with two model axes, the
// k1 chips of one model2 index, and the k2 chips of one model index (placement.hpp). Pipeline:
// sends between neighbouring stages.
enum class Axis : std::uint8_t { None, Model, Data, Model1, Model2, Pipeline };
inline constexpr int kAxisCount = 6;
inline bool is_model_axis(Axis axis) {
  return axis == Axis::Model || axis == Axis::Model1 || axis == Axis::Model2;
}
enum class Phase : std::uint8_t { Forward, Backward, Recompute, Optimizer };

struct Instr {
  Kind kind = Kind::Compute;
  Axis axis = Axis::None;
  Phase phase = Phase::Forward;
  // Send: +1 to the next ring neighbour, -1 to the previous (Pipeline: the next or previous stage)
  std::int8_t direction = 0;
  CollectiveOp op = CollectiveOp::AllGather;
  std::int32_t slot = 0;         // receive slot (Send, WaitRecv) or collective slot
  std::int32_t count = 0;        // WaitRecv: receptions needed in that slot
  std::int32_t row = -1;         // statistics row: 2 * linear + (backward ? 1 : 0); -1 = other ops
  std::int32_t name = 0;         // index into Program::names
  std::int64_t bytes = 0;        // Send, Collective (the full buffer)
  std::int64_t duration_ps = 0;  // Compute
  double flop = 0;               // Compute
  std::int32_t layer = -1;       // the layer it belongs to (traces); -1: head, optimizer, step
  std::int32_t microbatch = 0;   // the microbatch it belongs to (traces)
};

struct Program {
  std::vector<Instr> code;
  // Compute-stream busy time by cost component (matmul, attention, memory-bound ops), one chip.
  std::array<double, kFidelityComponents> component_s{};
  std::vector<std::string> names;
  std::int32_t recv_slots = 0;
  std::int32_t collective_slots = 0;
};

// What the program builder needs to know about the plan, per chip.
struct Context {
  const ModelConfig* model = nullptr;
  const HardwareProfile* hardware = nullptr;
  const Plan* plan = nullptr;
  std::vector<ResolvedLinear> linears;
  std::int64_t k = 1;  // model axis (k1 x k2 with two model axes)
  std::int64_t t = 1;  // data axis
  // Two model axes of more than one chip each way (model2 > 1): every linear's moves run as
  // synchronous collectives over their own axis (docs/execution.md "Two model axes").
  bool two_axes = false;
  std::int64_t microbatch_images = 1;
  std::int64_t microbatch_tokens = 1;
  double layer_weight_bytes = 0;    // this chip's model shard of one layer's weights (bf16)
  double layer_gradient_bytes = 0;  // the same in the gradient dtype
  // For choosing per linear between collective matmul and collective-then-matmul (async on):
  // one model-axis ring step (bytes / bottleneck bandwidth + path latency) and the closed-form
  // time of the synchronous collective on the first model group.
  double ring_step_bandwidth = 0;
  double ring_step_latency_s = 0;
  const network::Topology* topology = nullptr;
  const Placement* placement = nullptr;
  LmHeadWork lm_head;  // a decoder's embedding, LM head and loss (lm_head.hpp); disabled otherwise
};

class ProgramBuilder {
 public:
  ProgramBuilder() = default;

  Program take() {
    flush();
    return std::move(program_);
  }
  std::size_t size() const { return program_.code.size(); }
  std::int32_t new_recv_slot() { return program_.recv_slots++; }
  // Slots 0..n-1 kept for pipeline receives, numbered alike in every stage's program.
  void reserve_recv_slots(std::int32_t n) { program_.recv_slots += n; }
  // The layer and microbatch the next instructions belong to (what a trace labels them with; a
  // merged compute instruction keeps its first op's).
  void at(std::int64_t layer, std::int64_t microbatch) {
    layer_ = static_cast<std::int32_t>(layer);
    microbatch_ = static_cast<std::int32_t>(microbatch);
  }
  std::int32_t new_collective_slot() { return program_.collective_slots++; }

  // Consecutive memory-bound ops of one row and phase become one compute instruction (one event).
  void compute(const std::string& name, double seconds, double flop, std::int32_t row, Phase phase,
               bool mergeable, FidelityComponent component = FidelityComponent::Matmul) {
    program_.component_s[static_cast<std::size_t>(component)] += seconds;
    if (!mergeable || !pending_ || pending_row_ != row || pending_phase_ != phase) {
      flush();
    }
    if (!pending_) {
      pending_ = true;
      pending_instr_ = Instr{};
      pending_instr_.kind = Kind::Compute;
      pending_instr_.phase = phase;
      pending_instr_.row = row;
      pending_instr_.name = name_index(mergeable ? std::string("layer ops") : name);
      pending_instr_.layer = layer_;
      pending_instr_.microbatch = microbatch_;
      pending_row_ = row;
      pending_phase_ = phase;
    }
    pending_instr_.duration_ps =
        (SimTime::from_ps(pending_instr_.duration_ps) + SimTime::from_seconds(seconds)).ps();
    pending_instr_.flop += flop;
    if (!mergeable)
      flush();
  }
  void send(int direction, std::int64_t bytes, std::int32_t slot, std::int32_t row, Phase phase,
            Axis axis = Axis::Model) {
    Instr i;
    i.kind = Kind::Send;
    i.axis = axis;
    i.direction = static_cast<std::int8_t>(direction);
    i.bytes = bytes;
    i.slot = slot;
    i.row = row;
    i.phase = phase;
    push(i);
  }
  void wait_recv(std::int32_t slot, std::int32_t count, std::int32_t row, Phase phase,
                 Axis axis = Axis::Model) {
    Instr i;
    i.kind = Kind::WaitRecv;
    i.axis = axis;
    i.slot = slot;
    i.count = count;
    i.row = row;
    i.phase = phase;
    push(i);
  }
  void collective(Axis axis, CollectiveOp op, std::int64_t bytes, std::int32_t slot,
                  std::int32_t row, Phase phase, const std::string& name) {
    Instr i;
    i.kind = Kind::Collective;
    i.axis = axis;
    i.op = op;
    i.bytes = bytes;
    i.slot = slot;
    i.row = row;
    i.phase = phase;
    i.name = name_index(name);
    push(i);
  }
  void wait_collective(Axis axis, std::int32_t slot, std::int32_t row, Phase phase) {
    Instr i;
    i.kind = Kind::WaitCollective;
    i.axis = axis;
    i.slot = slot;
    i.row = row;
    i.phase = phase;
    push(i);
  }

 private:
  void push(Instr i) {
    flush();
    i.layer = layer_;
    i.microbatch = microbatch_;
    program_.code.push_back(i);
  }
  void flush() {
    if (pending_)
      program_.code.push_back(pending_instr_);
    pending_ = false;
  }
  std::int32_t name_index(const std::string& name) {
    auto it = std::find(program_.names.begin(), program_.names.end(), name);
    if (it != program_.names.end())
      return static_cast<std::int32_t>(it - program_.names.begin());
    program_.names.push_back(name);
    return static_cast<std::int32_t>(program_.names.size() - 1);
  }

  Program program_;
  bool pending_ = false;
  Instr pending_instr_;
  std::int32_t pending_row_ = -1;
  Phase pending_phase_ = Phase::Forward;
  std::int32_t layer_ = -1;
  std::int32_t microbatch_ = 0;
};

}  // namespace meshsim::execution::detail
