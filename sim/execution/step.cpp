#include "sim/execution/step.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <memory>
#include <set>
#include <stdexcept>
#include <tuple>

#include "hardware_profiles/cost_model.hpp"
#include "sim/collectives/executor.hpp"
#include "sim/collectives/registry.hpp"
#include "sim/engine/simulator.hpp"
#include "sim/execution/accumulation_ops.hpp"
#include "sim/execution/lm_head.hpp"
#include "sim/execution/matmul_chunk.hpp"
#include "sim/execution/optimizer_update.hpp"
#include "sim/execution/placement.hpp"
#include "sim/execution/symmetry.hpp"
#include "sim/limits.hpp"
#include "sim/network/network.hpp"

namespace meshsim::execution {
namespace {

using collectives::CollectiveOp;
using engine::SimTime;

// ---- The per-chip program ------------------------------------------------------------------
// Every chip runs the same instruction list; chip-specific values (ring neighbours, groups) are
// looked up when an instruction runs. The compute stream executes in program order; sends and
// collectives are issued without blocking it, and waits block it until the data has arrived.

enum class Kind : std::uint8_t { Compute, Send, WaitRecv, Collective, WaitCollective };
enum class Axis : std::uint8_t { None, Model, Data };
enum class Phase : std::uint8_t { Forward, Backward, Recompute, Optimizer };

struct Instr {
  Kind kind = Kind::Compute;
  Axis axis = Axis::None;
  Phase phase = Phase::Forward;
  std::int8_t direction = 0;  // Send: +1 to the next ring neighbour, -1 to the previous
  CollectiveOp op = CollectiveOp::AllGather;
  std::int32_t slot = 0;         // receive slot (Send, WaitRecv) or collective slot
  std::int32_t count = 0;        // WaitRecv: receptions needed in that slot
  std::int32_t row = -1;         // statistics row: 2 * linear + (backward ? 1 : 0); -1 = other ops
  std::int32_t name = 0;         // index into Program::names
  std::int64_t bytes = 0;        // Send, Collective (the full buffer)
  std::int64_t duration_ps = 0;  // Compute
  double flop = 0;               // Compute
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
  std::int64_t k = 1;  // model axis
  std::int64_t t = 1;  // data axis
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

// Closed-form time of the synchronous model-axis collective (docs/execution.md), or a ring
// estimate when the algorithm has no closed form for this group.
double sync_collective_estimate_s(const Context& ctx, CollectiveOp op, std::int64_t bytes) {
  const auto group = ctx.placement->model_group(0);
  const auto name = collectives::default_collective_algorithm(op, *ctx.topology, group, bytes);
  const auto& algorithm = collectives::find_collective_algorithm(name, op);
  if (algorithm.closed_form_s != nullptr) {
    if (auto t = algorithm.closed_form_s(op, group, *ctx.topology, bytes, 1))
      return *t;
  }
  const double k = static_cast<double>(ctx.k);
  return (k - 1) *
         (static_cast<double>(bytes) / k / ctx.ring_step_bandwidth + ctx.ring_step_latency_s);
}

class ProgramBuilder {
 public:
  explicit ProgramBuilder(const Context& ctx) : ctx_(ctx) {}

  Program take() {
    flush();
    return std::move(program_);
  }
  std::size_t size() const { return program_.code.size(); }
  std::int32_t new_recv_slot() { return program_.recv_slots++; }
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
      pending_row_ = row;
      pending_phase_ = phase;
    }
    pending_instr_.duration_ps =
        (SimTime::from_ps(pending_instr_.duration_ps) + SimTime::from_seconds(seconds)).ps();
    pending_instr_.flop += flop;
    if (!mergeable)
      flush();
  }
  void send(int direction, std::int64_t bytes, std::int32_t slot, std::int32_t row, Phase phase) {
    Instr i;
    i.kind = Kind::Send;
    i.axis = Axis::Model;
    i.direction = static_cast<std::int8_t>(direction);
    i.bytes = bytes;
    i.slot = slot;
    i.row = row;
    i.phase = phase;
    push(i);
  }
  void wait_recv(std::int32_t slot, std::int32_t count, std::int32_t row, Phase phase) {
    Instr i;
    i.kind = Kind::WaitRecv;
    i.axis = Axis::Model;
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
  void push(const Instr& i) {
    flush();
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

  const Context& ctx_;
  Program program_;
  bool pending_ = false;
  Instr pending_instr_;
  std::int32_t pending_row_ = -1;
  Phase pending_phase_ = Phase::Forward;
};

// Which fit an op's time comes from (hardware_profiles/fidelity.hpp).
FidelityComponent component_of(OpKind kind) {
  switch (kind) {
    case OpKind::Matmul:
      return FidelityComponent::Matmul;
    case OpKind::BatchedMatmul:
    case OpKind::FlashAttention:
      return FidelityComponent::Attention;
    default:
      return FidelityComponent::MemoryOps;
  }
}

double op_seconds(const Context& ctx, const Op& op) {
  return op_time_s(ctx.hardware->cost, ctx.hardware->chip, op);
}

// Emits the ops of one layer pass (forward or backward) with every linear's model-axis traffic,
// as collective matmul (async) or collective-then-matmul (sync), DESIGN §2.
class LayerEmitter {
 public:
  LayerEmitter(const Context& ctx, ProgramBuilder& b) : ctx_(ctx), b_(b) {}

  // Async on: collective matmul unless its k chunks (k kernel overheads, k ring steps each paying
  // the path latency) would take longer than the collective followed by one matmul, as a
  // compiler's cost model would decide (XLA applies the decomposition only where it pays).
  bool use_collective_matmul(const Op& op, double block_bytes, CollectiveOp op_kind) const {
    const ChunkedMove move =
        op_kind == CollectiveOp::AllGather ? ChunkedMove::AllGather : ChunkedMove::ReduceScatter;
    if (!ctx_.plan->async_collective_matmul)
      return false;
    const std::int64_t k = ctx_.k;
    const bool bidi = ctx_.plan->bidirectional && k > 2;
    const double accumulate_s =
        op_kind == CollectiveOp::ReduceScatter
            ? op_seconds(ctx_, collective_matmul_accumulate_op(op.name, block_bytes))
            : 0.0;
    const double chunk_s = op_seconds(ctx_, matmul_chunk(op, k, move));
    const double step_s = (bidi ? block_bytes / 2 : block_bytes) / ctx_.ring_step_bandwidth +
                          ctx_.ring_step_latency_s;
    // A reduce-scatter chunk's accumulator add waits for the block received, so it follows both.
    const double overlapped =
        chunk_s + static_cast<double>(k - 1) * (std::max(chunk_s, step_s) + accumulate_s);
    const auto full = static_cast<std::int64_t>(std::llround(block_bytes)) * k;
    const double sequential =
        sync_collective_estimate_s(ctx_, op_kind, full) + op_seconds(ctx_, op);
    return overlapped <= sequential;
  }

  // One ring step's transfer of `block` bytes: to the neighbour in `direction`, or half each way
  // on a bidirectional ring. Returns the receptions one step adds at the receiver.
  std::int32_t pass_block(int direction, std::int64_t block, std::int32_t slot, std::int32_t row,
                          Phase phase) {
    if (ctx_.plan->bidirectional && ctx_.k > 2) {
      b_.send(+1, block / 2, slot, row, phase);
      b_.send(-1, block - block / 2, slot, row, phase);
      return 2;
    }
    b_.send(direction, block, slot, row, phase);
    return 1;
  }

  // Sync: the whole model-axis collective, and the compute stream waits for it.
  void model_collective(CollectiveOp op_kind, std::int64_t bytes, const std::string& name,
                        std::int32_t row, Phase phase) {
    const auto slot = b_.new_collective_slot();
    b_.collective(Axis::Model, op_kind, bytes, slot, row, phase, name);
    b_.wait_collective(Axis::Model, slot, row, phase);
  }

  // An all-gather of `block_bytes` per chip, overlapped with the k chunks of `op`.
  void gather_then_matmul(const Op& op, double block_bytes, std::int32_t row, Phase phase) {
    const std::int64_t k = ctx_.k;  // > 1: linear_op computes locally when nothing moves
    const auto block = static_cast<std::int64_t>(std::llround(block_bytes));
    if (!use_collective_matmul(op, block_bytes, CollectiveOp::AllGather)) {
      model_collective(CollectiveOp::AllGather, block * k, op.name + " all-gather", row, phase);
      b_.compute(op.name, op_seconds(ctx_, op), op.flop, row, phase, false);
      return;
    }
    const Op chunk = matmul_chunk(op, k, ChunkedMove::AllGather);
    const double chunk_s = op_seconds(ctx_, chunk);
    const auto slot = b_.new_recv_slot();
    std::int32_t expected = 0;
    for (std::int64_t j = 0; j < k; ++j) {
      // Pass the block in hand on while multiplying it.
      if (j < k - 1)
        expected += pass_block(-1, block, slot, row, phase);
      b_.compute(op.name, chunk_s, chunk.flop, row, phase, false);
      if (j < k - 1)
        b_.wait_recv(slot, expected, row, phase);
    }
  }

  // The k chunks of `op`, each producing a partial sum for one output block that is passed on
  // and accumulated (a reduce-scatter of `block_bytes` per chip per step).
  void matmul_then_scatter(const Op& op, double block_bytes, std::int32_t row, Phase phase) {
    const std::int64_t k = ctx_.k;  // > 1: linear_op computes locally when nothing moves
    const auto block = static_cast<std::int64_t>(std::llround(block_bytes));
    if (!use_collective_matmul(op, block_bytes, CollectiveOp::ReduceScatter)) {
      b_.compute(op.name, op_seconds(ctx_, op), op.flop, row, phase, false);
      model_collective(CollectiveOp::ReduceScatter, block * k, op.name + " reduce-scatter", row,
                       phase);
      return;
    }
    const Op chunk = matmul_chunk(op, k, ChunkedMove::ReduceScatter);
    const double chunk_s = op_seconds(ctx_, chunk);
    const Op accumulate = collective_matmul_accumulate_op(op.name, block_bytes);
    const double accumulate_s = op_seconds(ctx_, accumulate);
    const auto slot = b_.new_recv_slot();
    std::int32_t expected = 0, per_step = 0;
    for (std::int64_t j = 0; j < k; ++j) {
      b_.compute(op.name, chunk_s, chunk.flop, row, phase, false);
      if (j > 0) {
        expected += per_step;  // the accumulator of the previous step, to add
        b_.wait_recv(slot, expected, row, phase);
        b_.compute(accumulate.name, accumulate_s, accumulate.flop, row, phase, false,
                   FidelityComponent::MemoryOps);
      }
      if (j < k - 1)
        per_step = pass_block(+1, block, slot, row, phase);
    }
  }

  // Bytes each chip sends per ring step for a move: the move's per-token volume is (k-1) blocks.
  double block_bytes(const LinearMove& move) const {
    return move.bytes_per_token / static_cast<double>(ctx_.k - 1) *
           static_cast<double>(ctx_.microbatch_tokens);
  }

  void linear_op(const Op& op, const ResolvedLinear& r, std::int32_t row, Phase phase) {
    const std::vector<LinearMove>* moves = &r.forward;
    if (op.pass == Pass::BackwardInput)
      moves = &r.backward_input;
    if (op.pass == Pass::BackwardWeight)
      moves = &r.backward_weight;
    const LinearMove* model_move = nullptr;
    for (const auto& m : *moves) {
      if (m.axis == MeshAxis::Model1)
        model_move = &m;
    }
    if (model_move == nullptr || ctx_.k == 1) {
      b_.compute(op.name, op_seconds(ctx_, op), op.flop, row, phase, false);
    } else if (model_move->kind == MoveKind::AllGather) {
      gather_then_matmul(op, block_bytes(*model_move), row, phase);
    } else if (model_move->kind == MoveKind::ReduceScatter) {
      matmul_then_scatter(op, block_bytes(*model_move), row, phase);
    } else {
      // All-reduce (replicated activations): the reduce-scatter of the partial sums, overlapped
      // as above, then the all-gather of the reduced blocks; half of the move's bytes each.
      const double block = block_bytes(*model_move) / 2.0;
      matmul_then_scatter(op, block, row, phase);
      const auto full = static_cast<std::int64_t>(std::llround(block)) * ctx_.k;
      model_collective(CollectiveOp::AllGather, full, op.name + " all-gather", row, phase);
    }
  }

  // Emits `ops` (one pass of one layer); `only` restricts to ops with those names (selective
  // recomputation); `phase` labels the work.
  void emit(const std::vector<Op>& ops, Phase phase,
            const std::vector<std::string>* only = nullptr) {
    for (const auto& op : ops) {
      if (only && std::find(only->begin(), only->end(), op.name) == only->end())
        continue;
      const bool backward = op.pass != Pass::Forward;
      if (op.kind == OpKind::Matmul && !op.linear.empty()) {
        const auto idx = linear_index(op.linear);
        const auto row = static_cast<std::int32_t>(2 * idx + (backward ? 1 : 0));
        linear_op(op, ctx_.linears[idx], row, phase);
      } else {
        b_.compute(op.name, op_seconds(ctx_, op), op.flop, -1, phase, true, component_of(op.kind));
      }
    }
  }

 private:
  std::size_t linear_index(const std::string& name) const {
    for (std::size_t i = 0; i < ctx_.linears.size(); ++i) {
      if (ctx_.linears[i].name == name)
        return i;
    }
    throw std::logic_error("step: op of unknown linear " + name);
  }
  const Context& ctx_;
  ProgramBuilder& b_;
};

// The whole step: microbatches x (forward, backward), data-axis weight gathers (FSDP, prefetched
// one layer ahead) and gradient reduction, then the optimizer update.
// Refuses a step that would run for many minutes (docs/limits.md).
void check_step_events(const Plan& plan, double events) {
  if (events <= limits::kMaxStepEvents)
    return;
  throw InputError(plan.site("microbatches"),
                   "this step would take about " + std::to_string(static_cast<long long>(events)) +
                       " simulation events, more than the limit (docs/limits.md)",
                   std::to_string(plan.microbatches) + " microbatches on " +
                       std::to_string(plan.mesh.chips()) + " chips",
                   "at most 1e9 events: fewer microbatches or chips");
}

Program build_program(const Context& ctx) {
  ProgramBuilder b(ctx);
  LayerEmitter emitter(ctx, b);
  const auto& model = *ctx.model;
  const auto& plan = *ctx.plan;
  const auto ops =
      layer_ops(model, LayerShape{ctx.microbatch_images, ctx.k, 2, plan.attention,
                                  plan.activation_layout == ActivationLayout::Replicated});
  std::vector<Op> forward, backward;
  for (const auto& op : ops)
    (op.pass == Pass::Forward ? forward : backward).push_back(op);
  // Selective recomputation rebuilds what the memory model does not keep (docs/plans.md).
  const std::vector<std::string> selective = {
      "qk_norm",     "split_heads",     "attn_scores", "softmax", "attn_values",
      "merge_heads", "flash_attention", "gelu",        "relu",    "swiglu"};
  const std::int64_t layers = model.depth;
  const bool data_traffic = ctx.t > 1;
  // Data-axis buffers are padded to a multiple of 2t bytes, so every ring step of every phase moves
  // equal pieces from every member (as XLA pads sharded buffers; at most 2t - 1 bytes).
  auto padded = [&](double bytes) {
    const std::int64_t q = 2 * ctx.t;
    return (static_cast<std::int64_t>(std::llround(bytes)) + q - 1) / q * q;
  };
  const auto weight_bytes = padded(ctx.layer_weight_bytes);
  const auto grad_bytes = padded(ctx.layer_gradient_bytes);
  const bool fsdp = plan.fsdp && data_traffic;
  // FSDP with grad_sync per-microbatch: every microbatch reduce-scatters every layer's gradient.
  // Otherwise the chip accumulates the model-shard gradients over the microbatches and reduces
  // them after the last one (without FSDP the unsharded gradient is that accumulator).
  const GradientOps grad_ops = gradient_ops(plan, ctx.layer_weight_bytes / 2.0, ctx.t);
  const bool reduce_each = grad_ops.reduce_each;

  std::vector<std::int32_t> grad_slots;
  auto reduce_gradients = [&](std::int64_t bytes) {
    const auto slot = b.new_collective_slot();
    grad_slots.push_back(slot);
    b.collective(Axis::Data, fsdp ? CollectiveOp::ReduceScatter : CollectiveOp::AllReduce, bytes,
                 slot, -1, Phase::Backward,
                 fsdp ? "gradients reduce-scatter" : "gradients all-reduce");
  };
  // The stack's gradient overlap (hardware_profiles/stack.hpp) splits each layer's reduction.
  const double overlap = ctx.hardware->cost.stack.gradient_overlap;
  const std::int64_t overlapped_grad_bytes =
      overlap >= 1.0 ? grad_bytes
                     : (overlap <= 0.0 ? 0 : padded(ctx.layer_gradient_bytes * overlap));
  const std::int64_t deferred_grad_bytes =
      overlap >= 1.0
          ? 0
          : (overlap <= 0.0 ? grad_bytes : padded(ctx.layer_gradient_bytes * (1.0 - overlap)));
  std::int64_t deferred = 0;  // layers whose deferred part waits for the end of the pass
  // A decoder's embedding and LM head (lm_head.hpp): their work is recorded on two statistics
  // rows of their own after the layer linears' rows.
  const LmHeadWork& lm = ctx.lm_head;
  const auto head_row = static_cast<std::int32_t>(2 * ctx.linears.size());
  auto emit_head = [&](const std::vector<Op>& head_ops, Phase phase) {
    for (const Op& op : head_ops) {
      const std::int32_t row = head_row + (op.pass == Pass::Forward ? 0 : 1);
      if (op.kind == OpKind::Matmul && op.linear == "lm_head") {
        emitter.linear_op(op, lm.linear, row, phase);
      } else {
        b.compute(op.name, op_seconds(ctx, op), op.flop, row, phase, true, component_of(op.kind));
      }
    }
  };
  auto head_collective = [&](const ModelCollective& c, const std::string& name, Phase phase) {
    if (c.kind == ModelCollective::Kind::None || ctx.k == 1)
      return;
    const CollectiveOp op = c.kind == ModelCollective::Kind::AllGather ? CollectiveOp::AllGather
                            : c.kind == ModelCollective::Kind::ReduceScatter
                                ? CollectiveOp::ReduceScatter
                                : CollectiveOp::AllReduce;
    emitter.model_collective(op, c.bytes, name, head_row + (phase == Phase::Forward ? 0 : 1),
                             phase);
  };
  const double grad_element_bytes = plan.gradient_dtype == GradientDtype::Fp32 ? 4.0 : 2.0;
  // Data-axis sync of the embedding and LM-head weights, as for a layer: FSDP gathers them at the
  // start of every microbatch (held until its backward) and reduce-scatters their gradients,
  // otherwise they are all-reduced; after every microbatch (reduce_each) or the last.
  auto head_gradients = [&](double params, const char* name, bool last) {
    if (!lm.enabled || !data_traffic || params <= 0 || !(reduce_each || last))
      return;
    const auto slot = b.new_collective_slot();
    grad_slots.push_back(slot);
    b.collective(Axis::Data, fsdp ? CollectiveOp::ReduceScatter : CollectiveOp::AllReduce,
                 padded(params * grad_element_bytes), slot, -1, Phase::Backward, name);
  };
  for (std::int64_t mb = 0; mb < plan.microbatches; ++mb) {
    // Every microbatch adds as many instructions as the first, each at least one event on each of
    // the k chips of a replica: refuse before the program grows (issue 17 item 8).
    if (mb == 1) {
      const double instructions =
          static_cast<double>(b.size()) * static_cast<double>(plan.microbatches);
      if (instructions > limits::kMaxProgramInstructions) {
        throw InputError(plan.site("microbatches"),
                         "the step's program would hold about " +
                             std::to_string(static_cast<long long>(instructions)) +
                             " instructions, more than the limit (docs/limits.md)",
                         std::to_string(plan.microbatches) + " microbatches of " +
                             std::to_string(model.depth) + " layers",
                         "at most 1e7 instructions: fewer microbatches");
      }
      check_step_events(plan, instructions * static_cast<double>(ctx.k));
    }
    const bool last_mb = mb == plan.microbatches - 1;
    std::int32_t head_gather = -1;
    if (lm.enabled) {
      if (fsdp) {
        head_gather = b.new_collective_slot();
        b.collective(Axis::Data, CollectiveOp::AllGather,
                     padded(2.0 * (lm.embedding_params_per_chip + lm.head_params_per_chip)),
                     head_gather, -1, Phase::Forward, "embedding and LM head all-gather");
        b.wait_collective(Axis::Data, head_gather, -1, Phase::Forward);
      }
      emit_head(lm.ops.embedding_forward, Phase::Forward);
      head_collective(lm.embedding_forward, "embedding", Phase::Forward);
    }
    // Forward: the gather of layer l+1 is issued when layer l starts (prefetch one ahead).
    std::vector<std::int32_t> gather(static_cast<std::size_t>(layers), -1);
    auto issue_gather = [&](std::int64_t l, Phase phase) {
      if (!fsdp || l < 0 || l >= layers)
        return;
      gather[static_cast<std::size_t>(l)] = b.new_collective_slot();
      b.collective(Axis::Data, CollectiveOp::AllGather, weight_bytes,
                   gather[static_cast<std::size_t>(l)], -1, phase, "weights all-gather");
    };
    issue_gather(0, Phase::Forward);
    for (std::int64_t l = 0; l < layers; ++l) {
      issue_gather(l + 1, Phase::Forward);
      if (fsdp)
        b.wait_collective(Axis::Data, gather[static_cast<std::size_t>(l)], -1, Phase::Forward);
      emitter.emit(forward, Phase::Forward);
    }
    if (lm.enabled) {
      emit_head(lm.ops.head_forward, Phase::Forward);
      head_collective(lm.loss_statistics, "cross_entropy statistics all-reduce", Phase::Forward);
      emit_head(lm.ops.head_backward, Phase::Backward);
      head_gradients(lm.head_params_per_chip, "LM head gradients", last_mb);
    }
    issue_gather(layers - 1, Phase::Backward);
    for (std::int64_t l = layers - 1; l >= 0; --l) {
      issue_gather(l - 1, Phase::Backward);
      if (fsdp) {
        b.wait_collective(Axis::Data, gather[static_cast<std::size_t>(l)], -1, Phase::Backward);
      }
      if (plan.remat == Remat::Full)
        emitter.emit(forward, Phase::Recompute);
      if (plan.remat == Remat::Selective)
        emitter.emit(forward, Phase::Recompute, &selective);
      emitter.emit(backward, Phase::Backward);
      // Cast and accumulate (memory-bound); with reduce_each the add of the reduced shard is
      // charged here: it is small and does not wait.
      for (const Op& op : gradient_ops_after(grad_ops, plan, mb))
        b.compute(op.name, op_seconds(ctx, op), 0, -1, Phase::Backward, true,
                  FidelityComponent::MemoryOps);
      const bool last = mb == plan.microbatches - 1;
      if (data_traffic && (reduce_each || last)) {
        // Gradients of layer l leave as soon as its (last) microbatch's backward is done: the
        // stack's overlapped fraction of them (all by default); the rest after the whole pass.
        if (overlapped_grad_bytes > 0)
          reduce_gradients(overlapped_grad_bytes);
        if (deferred_grad_bytes > 0)
          ++deferred;
      }
    }
    if (lm.enabled) {
      head_collective(lm.embedding_backward, "embedding gradient", Phase::Backward);
      emit_head(lm.ops.embedding_backward, Phase::Backward);
      head_gradients(lm.embedding_params_per_chip, "embedding gradients", last_mb);
    }
    for (; deferred > 0; --deferred)
      reduce_gradients(deferred_grad_bytes);
  }
  for (auto slot : grad_slots)
    b.wait_collective(Axis::Data, slot, -1, Phase::Optimizer);
  return b.take();
}

// ---- The interpreter ---------------------------------------------------------------------

class StepSim {
 public:
  StepSim(const Program& program, const Placement& placement, const network::Topology& topology,
          const TraceOptions& trace, bool allow_symmetry, bool allow_leaf_groups = true)
      : program_(program),
        placement_(placement),
        network_(sim_, topology),
        trace_(trace),
        data_network_(sim_, topology) {
    // Ring neighbours on the model axis.
    const auto k = placement.model;
    ring_pos_.assign(static_cast<std::size_t>(k), 0);
    for (std::int64_t i = 0; i < k; ++i) {
      ring_pos_[static_cast<std::size_t>(placement.model_ring[static_cast<std::size_t>(i)])] =
          static_cast<int>(i);
    }
    for (std::int64_t d = 0; d < placement.data; ++d)
      model_groups_.push_back(placement.model_group(d));
    for (std::int64_t m = 0; m < k; ++m)
      data_groups_.push_back(placement.data_group(m));
    allow_leaf_groups_ = allow_leaf_groups;
    decide_symmetry(allow_symmetry);
    replicas_ = symmetric_ ? 1 : shifted_ ? shift_replicas_ : placement.data;
    chips_ = replicas_ * k;
    const auto n = static_cast<std::size_t>(chips_);
    pc_.assign(n, 0);
    blocked_.assign(n, 0);
    block_start_.assign(n, SimTime::zero());
    finish_.assign(n, SimTime::zero());
    recv_.assign(n * static_cast<std::size_t>(std::max(1, program.recv_slots)), 0);
    coll_done_.assign(n * static_cast<std::size_t>(std::max(1, program.collective_slots)), 0);
    model_arrivals_.assign(static_cast<std::size_t>(replicas_) *
                               static_cast<std::size_t>(std::max(1, program.collective_slots)),
                           0);
    data_arrivals_.assign(static_cast<std::size_t>(placement.model) *
                              static_cast<std::size_t>(std::max(1, program.collective_slots)),
                          0);
    stats_.assign(n, ChipStats{});
    if (symmetric_) {
      batch_memo_.resize(static_cast<std::size_t>(k));
      direct_in_flight_.assign(static_cast<std::size_t>(k), 0);
      const auto links = topology.links().size();
      data_link_busy_ps_.assign(links, 0);
      data_link_bytes_.assign(links, 0);
      data_start_.assign(n * static_cast<std::size_t>(std::max(1, program.collective_slots)),
                         SimTime::zero());
      collective_instr_.assign(static_cast<std::size_t>(std::max(1, program.collective_slots)), 0);
      // Compute time from each instruction to the next data-axis collective (end: none follows).
      const auto& code = program.code;
      compute_until_next_batch_ps_.assign(code.size() + 1, INT64_MAX);
      for (std::size_t i = code.size(); i-- > 0;) {
        if (code[i].kind == Kind::Collective) {
          collective_instr_[static_cast<std::size_t>(code[i].slot)] = i;
          if (code[i].axis == Axis::Data) {
            compute_until_next_batch_ps_[i] = 0;
            continue;
          }
        }
        const auto after = compute_until_next_batch_ps_[i + 1];
        compute_until_next_batch_ps_[i] =
            after == INT64_MAX || code[i].kind != Kind::Compute
                ? after
                : (SimTime::from_ps(after) + SimTime::from_ps(code[i].duration_ps)).ps();
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
      if (pc_[static_cast<std::size_t>(c)] != program_.code.size()) {
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
    double exposed_ps[3] = {0, 0, 0};  // by Axis
    double bytes_sent[3] = {0, 0, 0};  // by Axis
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
    const auto chips = static_cast<double>(chips_);
    for (const auto& in : program_.code) {
      if (in.kind == Kind::Compute || in.kind == Kind::Send)
        events += chips;
      if (in.kind != Kind::Collective)
        continue;
      if (shifted_ && in.axis == Axis::Data) {
        for (std::int64_t m = 0; m < placement_.model; ++m)
          events += static_cast<double>(
              reduced_.at(std::make_tuple(m, static_cast<int>(in.op), in.bytes)).size());
        continue;
      }
      const bool model_axis = in.axis == Axis::Model;
      const auto& group = model_axis ? model_groups_[0] : data_groups_[0];
      const auto name = collectives::default_collective_algorithm(in.op, topology, group, in.bytes);
      const auto& algorithm = collectives::find_collective_algorithm(name, in.op);
      const double groups = static_cast<double>(model_axis ? replicas_ : placement_.model);
      events += groups * static_cast<double>(algorithm.transfer_count(in.op, group, in.bytes, 1));
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
    const auto slots = static_cast<std::uint64_t>(s->program_.recv_slots);
    const auto chip = static_cast<std::int64_t>(arg / slots);
    const auto slot = static_cast<std::int32_t>(arg % slots);
    auto& count = s->recv_[static_cast<std::size_t>(chip) * slots + static_cast<std::size_t>(slot)];
    ++count;
    if (!s->blocked_[static_cast<std::size_t>(chip)])
      return;
    const auto& in = s->program_.code[s->pc_[static_cast<std::size_t>(chip)]];
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
  void record(std::int64_t c, int track, const std::string& name, const char* category,
              SimTime start, SimTime end) {
    trace_events_.push_back(TraceEvent{name, category, placement_.chip[static_cast<std::size_t>(c)],
                                       track, start.seconds(), (end - start).seconds()});
  }

  void unblock(std::int64_t c) {
    const auto& in = program_.code[pc_[static_cast<std::size_t>(c)]];
    const auto waited =
        static_cast<double>((sim_.now() - block_start_[static_cast<std::size_t>(c)]).ps());
    stats_of(c).exposed_ps[static_cast<int>(in.axis)] += waited;
    if (in.row >= 0)
      row_of(c, in.row).exposed_ps += waited;
    if (traced(c) && waited > 0) {
      record(c, 0, in.axis == Axis::Model ? "wait model axis" : "wait data axis", "wait",
             block_start_[static_cast<std::size_t>(c)], sim_.now());
    }
    blocked_[static_cast<std::size_t>(c)] = 0;
    ++pc_[static_cast<std::size_t>(c)];
    execute(c);
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
    const auto& g = axis == Axis::Model ? model_groups_[static_cast<std::size_t>(group)]
                                        : data_groups_[static_cast<std::size_t>(group)];
    const auto name = collectives::default_collective_algorithm(op, network_.topology(), g, bytes);
    const auto& algorithm = collectives::find_collective_algorithm(name, op);
    return schedules_.emplace(key, algorithm.build(op, g, bytes, 1)).first->second;
  }

  // Bytes each member sends: (p-1)/p of the buffer for AG/RS, twice for AR (ring algorithms).
  void account_collective(std::int64_t c, const Instr& in) {
    const std::int64_t size = in.axis == Axis::Model ? placement_.model : placement_.data;
    const double share = static_cast<double>(size - 1) / static_cast<double>(size);
    const double factor = in.op == CollectiveOp::AllReduce ? 2.0 : 1.0;
    stats_of(c).bytes_sent[static_cast<int>(in.axis)] +=
        factor * share * static_cast<double>(in.bytes);
    if (in.row >= 0)
      row_of(c, in.row).bytes += factor * share * static_cast<double>(in.bytes);
  }

  void start_collective(std::int64_t c, const Instr& in) {
    const auto slots = static_cast<std::size_t>(program_.collective_slots);
    const std::int64_t group = in.axis == Axis::Model ? c / placement_.model : c % placement_.model;
    // Members that must arrive: with replica symmetry the others arrive at the same time.
    const std::int64_t needed = in.axis == Axis::Model ? placement_.model : replicas_;
    auto& arrivals = in.axis == Axis::Model ? model_arrivals_ : data_arrivals_;
    auto& n = arrivals[static_cast<std::size_t>(group) * slots + static_cast<std::size_t>(in.slot)];
    account_collective(c, in);
    if (++n < needed)
      return;  // the collective starts when its last member reaches it
    const auto arg = (static_cast<std::uint64_t>(in.axis) << 62) |
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
    std::sort(ready.begin(), ready.end());  // axis (model < data), group, slot
    for (auto arg : ready)
      s->runs_.at(arg)->start();
  }

  void finish_collective(std::uint64_t arg) {
    const auto axis = static_cast<Axis>(arg >> 62);
    const auto group = static_cast<std::int64_t>((arg >> 32) & 0x3fffffff);
    const auto slot = static_cast<std::int32_t>(arg & 0xffffffff);
    auto it = runs_.find(arg);
    const SimTime start = it->second->start_time();
    const std::int32_t row = run_rows_[arg];
    const std::string& name = program_.names[static_cast<std::size_t>(run_names_[arg])];
    const std::int64_t size = axis == Axis::Model ? placement_.model : replicas_;
    if (symmetric_ && axis == Axis::Data)
      --direct_in_flight_[static_cast<std::size_t>(group)];
    for (std::int64_t i = 0; i < size; ++i) {
      const std::int64_t c =
          axis == Axis::Model ? group * placement_.model + i : i * placement_.model + group;
      member_done(c, axis, slot, row, name, start);
    }
    runs_.erase(it);
    run_names_.erase(arg);
    run_rows_.erase(arg);
  }

  void member_done(std::int64_t c, Axis axis, std::int32_t slot, std::int32_t row,
                   const std::string& name, SimTime start) {
    const auto slots = static_cast<std::size_t>(program_.collective_slots);
    coll_done_[static_cast<std::size_t>(c) * slots + static_cast<std::size_t>(slot)] = 1;
    if (row >= 0)
      row_of(c, row).comm_ps += static_cast<double>((sim_.now() - start).ps());
    if (traced(c))
      record(c, 2, name, axis == Axis::Model ? "model-comm" : "data-comm", start, sim_.now());
    if (!blocked_[static_cast<std::size_t>(c)])
      return;
    const auto& in = program_.code[pc_[static_cast<std::size_t>(c)]];
    if (in.kind == Kind::WaitCollective && in.slot == slot)
      unblock(c);
  }

  // ---- Replica symmetry ----

  // Decides whether every data replica provably follows replica 0's timeline: the model-axis
  // collectives of every replica have replica 0's schedule (member for member), the replicas'
  // exchanges run on links of their own laid out alike, and each data group's collectives on
  // links of their own (replica_symmetry_violation).
  void decide_symmetry(bool allow) {
    const auto t = placement_.data, k = placement_.model;
    if (!allow) {
      symmetry_note_ = "off: every chip simulated (--all-chips)";
      return;
    }
    if (trace_.enabled) {
      symmetry_note_ = "off: a trace simulates every chip";
      return;
    }
    if (t == 1) {
      symmetry_note_ = "off: one data replica";
      return;
    }
    bool sends = false;
    std::set<std::pair<int, std::int64_t>> model_ops, data_ops;
    for (const auto& in : program_.code) {
      sends = sends || in.kind == Kind::Send;
      if (in.kind == Kind::Collective) {
        (in.axis == Axis::Model ? model_ops : data_ops).insert({static_cast<int>(in.op), in.bytes});
      }
    }
    std::set<std::pair<std::int32_t, std::int32_t>> pairs;
    if (sends) {
      for (std::int64_t m = 0; m < k; ++m) {
        for (int dir : {-1, +1})
          pairs.insert({static_cast<std::int32_t>(m), neighbour(m, dir)});
      }
    }
    // Mesh position of every chip, to compare schedules member for member.
    std::vector<std::int64_t> position(static_cast<std::size_t>(network_.topology().chip_count()),
                                       -1);
    for (std::size_t i = 0; i < placement_.chip.size(); ++i)
      position[static_cast<std::size_t>(placement_.chip[i])] = static_cast<std::int64_t>(i);
    auto pos = [&](std::int32_t chip) { return position[static_cast<std::size_t>(chip)]; };
    for (const auto& [op, bytes] : model_ops) {
      const auto kind = static_cast<CollectiveOp>(op);
      const auto& base = schedule_for(Axis::Model, 0, kind, bytes);
      for (const auto& tr : base.transfers) {
        pairs.insert({static_cast<std::int32_t>(pos(tr.src_chip)),
                      static_cast<std::int32_t>(pos(tr.dst_chip))});
      }
      for (std::int64_t d = 1; d < t; ++d) {
        const auto& s = schedule_for(Axis::Model, d, kind, bytes);
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
      shift_why = translation_symmetry(topology, placement_, sym);
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
    const auto why = replica_symmetry_violation(topology, placement_, pair_list, data_links);
    if (!why.empty() && topology.kind() == network::TopologyKind::GpuCluster &&
        allow_leaf_groups_) {
      TranslationSymmetry sym;
      std::int64_t per_group = 1;
      shift_why = leaf_group_symmetry(topology, placement_, sym, per_group);
      if (shift_why.empty() &&
          try_shifts(sym, per_group,
                     "shifts of the first leaf group's " + std::to_string(per_group) +
                         " by whole "
                         "leaf groups"))
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
    const auto& code = program_.code;
    std::size_t last = first;
    while (last + 1 < code.size() && code[last + 1].kind == Kind::Collective &&
           code[last + 1].axis == Axis::Data)
      ++last;
    const auto m = static_cast<std::size_t>(c % placement_.model);
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
      if (out.duration_ps <= compute_until_next_batch_ps_[last + 1]) {
        for (std::size_t i = first; i <= last; ++i) {
          account_collective(c, code[i]);
          const auto slot = static_cast<std::size_t>(code[i].slot);
          data_start_[static_cast<std::size_t>(c) * collective_instr_.size() + slot] = now;
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
    const auto& in = s->program_.code[s->collective_instr_[slot]];
    s->member_done(
        c, Axis::Data, in.slot, in.row, s->program_.names[static_cast<std::size_t>(in.name)],
        s->data_start_[static_cast<std::size_t>(c) * s->collective_instr_.size() + slot]);
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
    const auto recv_slots = static_cast<std::size_t>(program_.recv_slots);
    const auto coll_slots = static_cast<std::size_t>(program_.collective_slots);
    while (pc_[ci] < program_.code.size()) {
      const Instr& in = program_.code[pc_[ci]];
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
            record(c, 0, program_.names[static_cast<std::size_t>(in.name)], "compute", sim_.now(),
                   end);
          }
          sim_.schedule_at(end, &StepSim::compute_done, this, ci);
          return;
        }
        case Kind::Send: {
          const auto dst = neighbour(c, in.direction);
          const SimTime now = sim_.now();
          const SimTime arrive = network_.send(
              placement_.chip[ci], placement_.chip[static_cast<std::size_t>(dst)], in.bytes,
              &StepSim::arrival, this,
              static_cast<std::uint64_t>(dst) * recv_slots + static_cast<std::uint64_t>(in.slot));
          auto& st = stats_of(c);
          st.bytes_sent[static_cast<int>(Axis::Model)] += static_cast<double>(in.bytes);
          if (in.row >= 0) {
            row_of(c, in.row).comm_ps += static_cast<double>((arrive - now).ps());
            row_of(c, in.row).bytes += static_cast<double>(in.bytes);
          }
          if (traced(c)) {
            record(c, 1, "send", "model-comm", now, arrive);
            // The link-class track shows the first hop's class (ICI, NVLink, NIC).
            network_.topology().route(placement_.chip[ci],
                                      placement_.chip[static_cast<std::size_t>(dst)], route_);
            if (!route_.empty()) {
              const auto cls =
                  network_.topology().links()[static_cast<std::size_t>(route_[0])].link_class;
              trace_events_.push_back(
                  TraceEvent{"chip " + std::to_string(placement_.chip[ci]) + " -> " +
                                 std::to_string(placement_.chip[static_cast<std::size_t>(dst)]),
                             network::to_string(cls), -1, static_cast<int>(cls), now.seconds(),
                             (arrive - now).seconds()});
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

  const Program& program_;
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
  std::vector<std::int64_t> compute_until_next_batch_ps_;
  std::vector<std::size_t> collective_instr_;  // per collective slot: its instruction
  std::vector<SimTime> data_start_;            // [chip * slots + slot]: memoized start
  std::vector<std::int64_t> data_link_busy_ps_, data_link_bytes_;  // memoized batches
  std::int64_t data_messages_ = 0;
  std::uint64_t batch_events_ = 0;
  std::int64_t memoized_collectives_ = 0, stepwise_collectives_ = 0;
  std::vector<std::size_t> pc_;
  std::vector<std::uint8_t> blocked_;
  std::vector<SimTime> block_start_, finish_;
  std::vector<std::int32_t> recv_;
  std::vector<std::uint8_t> coll_done_;
  std::vector<std::int32_t> model_arrivals_, data_arrivals_;
  std::vector<ChipStats> stats_;
  std::vector<int> ring_pos_;
  std::vector<collectives::Group> model_groups_, data_groups_;
  std::map<std::tuple<int, std::int64_t, int, std::int64_t>, collectives::Schedule> schedules_;
  std::map<std::uint64_t, std::unique_ptr<collectives::CollectiveRun>> runs_;
  std::vector<std::uint64_t> ready_;  // collectives to start at the end of this picosecond
  std::map<std::uint64_t, std::int32_t> run_names_, run_rows_;
  std::vector<TraceEvent> trace_events_;
  std::vector<std::int32_t> route_;  // scratch for trace link classes
};

// Least time for a chip to send `bytes` of one axis's collectives (the per-member share of every
// collective, counted as (p-1)/p of its buffer, twice for all-reduce), docs/execution.md.
// Torus: the axis's traffic stays on the dimensions it spans, both directions of each.
// GPU cluster: a node needs, per group, only one copy of what comes from other nodes (it can share
// or pre-reduce over NVLink), so of a member's (p-1)/p share at least (p-G)/(p G) of the buffer
// must cross a NIC per member (G members of the group per node); the hierarchical algorithm meets
// this exactly. NVLink traffic is left out (a looser, still valid bound).
double axis_comm_bound_s(const HardwareProfile& hw, const Plan& plan, MeshAxis axis, double bytes) {
  if (bytes <= 0)
    return 0;
  if (hw.kind == InterconnectKind::Torus) {
    const auto& factors = axis == MeshAxis::Data ? plan.mapping.data : plan.mapping.model1;
    std::vector<int> dims;
    for (const auto& f : factors) {
      if (f.size > 1 && std::find(dims.begin(), dims.end(), f.dim) == dims.end()) {
        dims.push_back(f.dim);
      }
    }
    return bytes / (2.0 * static_cast<double>(std::max<std::size_t>(1, dims.size())) *
                    hw.torus.link_bandwidth_bytes_per_s);
  }
  const std::int64_t k = plan.mesh.model();
  const std::int64_t g = hw.gpu.gpus_per_node;
  const std::int64_t p = axis == MeshAxis::Model1 ? k : plan.mesh.data;
  // Members of this axis's group that share a node (model-major ranks, docs/plans.md).
  const std::int64_t per_node = axis == MeshAxis::Model1
                                    ? std::min(k, g)
                                    : std::max<std::int64_t>(1, std::min(p, g / std::min(k, g)));
  if (p <= 1)
    return 0;
  if (per_node >= p)
    return bytes / hw.gpu.nvlink_bandwidth_bytes_per_s;
  const double outside = static_cast<double>(p - per_node) / static_cast<double>(p - 1) /
                         static_cast<double>(per_node);
  return bytes * outside / hw.gpu.nic_bandwidth_bytes_per_s;
}

}  // namespace

namespace {

StepResult simulate_step_checked(const ModelConfig& model, const HardwareProfile& hardware,
                                 const Plan& plan, const TraceOptions& trace,
                                 const StepOptions& options, double* estimate_only);

// What the time bound names: the plan's batch (its flag or file field), with the model and the
// profile that set the time scale (issue 17 item 6).
std::string step_time_found(const ModelConfig& model, const HardwareProfile& hardware,
                            const Plan& plan) {
  const auto named = [](const std::string& name, const std::string& file) {
    return file.empty() ? name : name + " (" + file + ")";
  };
  return "global batch " + std::to_string(plan.global_batch) + " on " +
         std::to_string(plan.mesh.chips()) + " chips, model " + named(model.name, model.file) +
         ", hardware " + named(hardware.name, hardware.file);
}
constexpr const char* kStepTimeChange =
    "a smaller batch, more chips, a smaller model or a faster hardware profile";

}  // namespace

StepResult simulate_step(const ModelConfig& model, const HardwareProfile& hardware,
                         const Plan& plan, const TraceOptions& trace, const StepOptions& options) {
  try {
    return simulate_step_checked(model, hardware, plan, trace, options, nullptr);
  } catch (const engine::SimTimeOverflow&) {
    throw limits::simulated_time_overflow("this training step",
                                          step_time_found(model, hardware, plan), kStepTimeChange,
                                          plan.site("global_batch"));
  }
}

double estimate_step_events(const ModelConfig& model, const HardwareProfile& hardware,
                            const Plan& plan) {
  double events = 0;
  try {
    simulate_step_checked(model, hardware, plan, {}, {}, &events);
  } catch (const engine::SimTimeOverflow&) {
    throw limits::simulated_time_overflow("this training step",
                                          step_time_found(model, hardware, plan), kStepTimeChange,
                                          plan.site("global_batch"));
  }
  return events;
}

namespace {

StepResult simulate_step_checked(const ModelConfig& model, const HardwareProfile& hardware,
                                 const Plan& plan, const TraceOptions& trace,
                                 const StepOptions& options, double* estimate_only) {
  // The machine's size first, before its topology is built (issue 17 item 8).
  limits::check_simulated_chips(plan.mesh.chips(), plan.site("mesh"));
  if (plan.mesh.two_model_axes && plan.mesh.model2 > 1) {
    throw InputError(plan.site("mesh"),
                     "two model axes (data x model1 x model2) are not simulated yet",
                     plan.mesh.text(), "a data x model mesh");
  }
  Context ctx;
  ctx.model = &model;
  ctx.hardware = &hardware;
  ctx.plan = &plan;
  ctx.linears = resolve_sharding(model, plan);
  ctx.k = plan.mesh.model();
  ctx.t = plan.mesh.data;
  ctx.microbatch_images = plan.global_batch / (ctx.t * plan.microbatches);
  ctx.microbatch_tokens = ctx.microbatch_images * model.tokens;
  const ParamCounts params = count_params(model);
  const double layer_params = static_cast<double>(params.transformer + params.biases_and_norms) /
                              static_cast<double>(model.depth);
  ctx.layer_weight_bytes = layer_params / static_cast<double>(ctx.k) * 2.0;
  ctx.layer_gradient_bytes = layer_params / static_cast<double>(ctx.k) *
                             (plan.gradient_dtype == GradientDtype::Fp32 ? 4.0 : 2.0);
  ctx.lm_head = lm_head_work(model, plan, ctx.microbatch_images);

  const network::Topology topology = build_topology(hardware, plan);
  const Placement placement = place(plan, topology);
  ctx.topology = &topology;
  ctx.placement = &placement;
  if (ctx.k > 1) {
    // One ring step on the model axis: first member to its ring successor.
    std::vector<std::int32_t> route;
    const auto group = placement.model_group(0);
    topology.route(group.chips[static_cast<std::size_t>(placement.model_ring[0])],
                   group.chips[static_cast<std::size_t>(placement.model_ring[1])], route);
    ctx.ring_step_bandwidth = 1e300;
    for (auto link : route) {
      const auto& l = topology.links()[static_cast<std::size_t>(link)];
      ctx.ring_step_bandwidth = std::min(ctx.ring_step_bandwidth, l.bandwidth_bytes_per_s);
      ctx.ring_step_latency_s += static_cast<double>(l.latency_ps) * 1e-12;
    }
  }
  Program program = build_program(ctx);
  // Optimizer update: memory-bound over this chip's shard (docs/execution.md).
  StepResult result;
  result.memory = memory_per_chip(model, hardware, plan);
  {
    const Op update = optimizer_update_op(result.memory, plan);
    Instr in;
    in.kind = Kind::Compute;
    in.phase = Phase::Optimizer;
    const double update_s = op_time_s(hardware.cost, hardware.chip, update);
    in.duration_ps = SimTime::from_seconds(update_s).ps();
    program.component_s[static_cast<std::size_t>(FidelityComponent::MemoryOps)] += update_s;
    program.names.push_back(update.name);
    in.name = static_cast<std::int32_t>(program.names.size() - 1);
    program.code.push_back(in);
  }

  // The compute stream of a chip is serial: its busy time is a lower bound on the step. Refuse
  // before simulating when it is beyond what SimTime counts (docs/limits.md).
  {
    double compute_s = 0;
    for (const auto& in : program.code) {
      if (in.kind == Kind::Compute)
        compute_s += static_cast<double>(in.duration_ps) * 1e-12;
    }
    limits::check_simulated_time(compute_s, "this training step",
                                 step_time_found(model, hardware, plan), kStepTimeChange,
                                 plan.site("global_batch"));
  }
  StepSim sim(program, placement, topology, trace, options.replica_symmetry,
              options.leaf_group_symmetry);
  // Refuse a step that would run for many minutes (docs/limits.md).
  {
    const double events = sim.estimated_events();
    if (estimate_only != nullptr) {
      *estimate_only = events;
      return {};
    }
    check_step_events(plan, events);
  }
  sim.run();

  // ---- Results ----
  const auto& stats = sim.stats();
  const auto& finish = sim.finish();
  std::size_t slowest = 0;
  for (std::size_t c = 1; c < finish.size(); ++c) {
    if (finish[c] > finish[slowest])
      slowest = c;
  }
  // The input pipeline prefetches: it bounds the step only when it is the slower of the two.
  result.input_pipeline_s = hardware.cost.stack.input_time_per_image_s *
                            static_cast<double>(plan.global_batch / plan.mesh.data);
  const double step = std::max(finish[slowest].seconds(), result.input_pipeline_s);
  const auto chips = plan.mesh.chips();
  result.step_time_s = step;
  result.component_busy_s = program.component_s;
  result.chips = chips;
  result.global_batch = plan.global_batch;
  result.microbatch_images = ctx.microbatch_images;
  const double tokens = static_cast<double>(plan.global_batch) * static_cast<double>(model.tokens);
  result.tokens_per_s = tokens / step;
  result.images_per_s = static_cast<double>(plan.global_batch) / step;
  result.tokens_per_s_per_chip = result.tokens_per_s / static_cast<double>(chips);
  result.images_per_s_per_chip = result.images_per_s / static_cast<double>(chips);
  result.model_flop = flop_per_token(model).train * tokens;
  double executed = 0, model_bytes = 0, data_bytes = 0, compute_max = 0;
  for (const auto& s : stats) {
    executed += s.flop;
    model_bytes += s.bytes_sent[static_cast<int>(Axis::Model)];
    data_bytes += s.bytes_sent[static_cast<int>(Axis::Data)];
    compute_max = std::max(compute_max, s.compute_ps * 1e-12);
  }
  executed *= sim.replica_factor();
  model_bytes *= sim.replica_factor();
  data_bytes *= sim.replica_factor();
  result.executed_flop = executed;
  const double peak = hardware.chip.peak_bf16_flop_per_s;
  result.mfu = result.model_flop / (static_cast<double>(chips) * peak * step);
  result.hfu = executed / (static_cast<double>(chips) * peak * step);
  result.compute_only_s = compute_max;
  const auto n = static_cast<double>(chips);
  result.model_axis.bytes_sent_per_chip = model_bytes / n;
  result.data_axis.bytes_sent_per_chip = data_bytes / n;
  const auto& slow = stats[slowest];
  result.model_axis.exposed_s = slow.exposed_ps[static_cast<int>(Axis::Model)] * 1e-12;
  result.data_axis.exposed_s = slow.exposed_ps[static_cast<int>(Axis::Data)] * 1e-12;
  result.compute_lower_bound_s = slow.flop / peak;
  result.comm_lower_bound_s =
      std::max(axis_comm_bound_s(hardware, plan, MeshAxis::Model1,
                                 slow.bytes_sent[static_cast<int>(Axis::Model)]),
               axis_comm_bound_s(hardware, plan, MeshAxis::Data,
                                 slow.bytes_sent[static_cast<int>(Axis::Data)]));
  result.lower_bound_s = std::max(result.compute_lower_bound_s, result.comm_lower_bound_s);

  result.bytes_per_link_class = sim.bytes_per_link_class();
  const auto& links = topology.links();
  for (std::size_t i = 0; i < links.size(); ++i) {
    const double busy = sim.link_busy_s(static_cast<std::int32_t>(i));
    auto& u = result.link_utilization[static_cast<std::size_t>(links[i].link_class)];
    u = std::max(u, busy / step);
  }

  // Per-linear table, per layer (averaged over layers and microbatches) on the slowest chip.
  const double per_layer = 1e-12 / static_cast<double>(model.depth * plan.microbatches);
  double row_compute = 0;
  for (std::size_t i = 0; i < ctx.linears.size(); ++i) {
    const auto& r = ctx.linears[i];
    LinearTiming lt;
    lt.name = r.name;
    lt.sharding = to_string(r.chosen);
    lt.communicates = r.communicates;
    auto row = [&](std::size_t index) {
      return index < slow.rows.size() ? slow.rows[index] : StepSim::RowStats{};
    };
    const auto f = row(2 * i), b = row(2 * i + 1);
    lt.forward_compute_s = f.compute_ps * per_layer;
    lt.backward_compute_s = b.compute_ps * per_layer;
    lt.forward_comm_s = f.comm_ps * per_layer;
    lt.backward_comm_s = b.comm_ps * per_layer;
    lt.forward_exposed_s = f.exposed_ps * per_layer;
    lt.backward_exposed_s = b.exposed_ps * per_layer;
    lt.bytes_per_layer = (f.bytes + b.bytes) / static_cast<double>(model.depth * plan.microbatches);
    row_compute += f.compute_ps + b.compute_ps;
    result.linears.push_back(lt);
  }
  if (ctx.lm_head.enabled) {
    const std::size_t head = 2 * ctx.linears.size();
    for (std::size_t r = head; r < head + 2 && r < slow.rows.size(); ++r) {
      result.lm_head_compute_s += slow.rows[r].compute_ps * 1e-12;
      result.lm_head_exposed_s += slow.rows[r].exposed_ps * 1e-12;
      row_compute += slow.rows[r].compute_ps;
    }
  }
  result.other_compute_per_layer_s =
      (slow.compute_ps - slow.optimizer_ps - row_compute) * per_layer;

  ChipBreakdown& cb = result.slowest;
  cb.chip = placement.chip[slowest];
  cb.data_index = static_cast<std::int64_t>(slowest) / placement.model;
  cb.model_index = static_cast<std::int64_t>(slowest) % placement.model;
  cb.finish_s = step;
  cb.compute_s = slow.compute_ps * 1e-12;
  cb.exposed_model_s = result.model_axis.exposed_s;
  cb.exposed_data_s = result.data_axis.exposed_s;
  cb.optimizer_s = slow.optimizer_ps * 1e-12;
  cb.recompute_s = slow.recompute_ps * 1e-12;
  if (result.input_pipeline_s >= finish[slowest].seconds()) {
    result.bottleneck = "input pipeline";
  } else if (cb.compute_s >= cb.exposed_model_s && cb.compute_s >= cb.exposed_data_s) {
    result.bottleneck = "compute";
  } else {
    result.bottleneck = cb.exposed_model_s >= cb.exposed_data_s ? "model-axis communication"
                                                                : "data-axis communication";
  }
  result.topology = topology.description();
  result.mapping = plan.mapping.text();
  result.events = sim.events();
  result.transfers = sim.messages();
  result.simulated_chips = sim.simulated_chips();
  result.symmetry = sim.symmetry_note();
  result.memoized_data_collectives = sim.memoized_collectives();
  result.stepwise_data_collectives = sim.stepwise_collectives();
  result.trace = std::move(sim.trace_events());
  return result;
}

}  // namespace

}  // namespace meshsim::execution
