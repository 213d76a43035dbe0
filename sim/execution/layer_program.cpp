#include "sim/execution/layer_program.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>

#include "hardware_profiles/cost_model.hpp"
#include "sim/collectives/registry.hpp"
#include "sim/execution/accumulation_ops.hpp"
#include "sim/execution/matmul_chunk.hpp"
#include "sim/execution/pipeline_schedule.hpp"
#include "sim/limits.hpp"
#include "sim/plan/memory.hpp"

namespace meshsim::execution::detail {
namespace {

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

}  // namespace

// Async on: collective matmul unless its k chunks (k kernel overheads, k ring steps each paying
// the path latency) would take longer than the collective followed by one matmul, as a
// compiler's cost model would decide (XLA applies the decomposition only where it pays).
bool collective_matmul_pays(const Context& ctx, const Op& op, double block_bytes,
                            CollectiveOp op_kind) {
  const ChunkedMove move =
      op_kind == CollectiveOp::AllGather ? ChunkedMove::AllGather : ChunkedMove::ReduceScatter;
  if (!ctx.plan->async_collective_matmul)
    return false;
  const std::int64_t k = ctx.k;
  const bool bidi = ctx.plan->bidirectional && k > 2;
  const double accumulate_s =
      op_kind == CollectiveOp::ReduceScatter
          ? op_seconds(ctx, collective_matmul_accumulate_op(op.name, block_bytes))
          : 0.0;
  const double chunk_s = op_seconds(ctx, matmul_chunk(op, k, move, ctx.plan->sequence_parallel));
  const double step_s =
      (bidi ? block_bytes / 2 : block_bytes) / ctx.ring_step_bandwidth + ctx.ring_step_latency_s;
  // A reduce-scatter chunk's accumulator add waits for the block received, so it follows both.
  const double overlapped =
      chunk_s + static_cast<double>(k - 1) * (std::max(chunk_s, step_s) + accumulate_s);
  const auto full = static_cast<std::int64_t>(std::llround(block_bytes)) * k;
  const double sequential = sync_collective_estimate_s(ctx, op_kind, full) + op_seconds(ctx, op);
  return overlapped <= sequential;
}

namespace {

// Emits the ops of one layer pass (forward or backward) with every linear's model-axis traffic,
// as collective matmul (async) or collective-then-matmul (sync), DESIGN §2.
class LayerEmitter {
 public:
  LayerEmitter(const Context& ctx, ProgramBuilder& b) : ctx_(ctx), b_(b) {}

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

  // Sequence parallelism: the blocks passed around are slices of the tokens (matmul_chunk.hpp).
  bool along_tokens() const { return ctx_.plan->sequence_parallel; }

  // Sync: the whole model-axis collective (or one of two model axes'), and the compute stream
  // waits for it.
  void model_collective(CollectiveOp op_kind, std::int64_t bytes, const std::string& name,
                        std::int32_t row, Phase phase, Axis axis = Axis::Model) {
    const auto slot = b_.new_collective_slot();
    b_.collective(axis, op_kind, bytes, slot, row, phase, name);
    b_.wait_collective(axis, slot, row, phase);
  }

  // Two model axes: each move as a synchronous collective over its own axis, all-gathers before
  // the matmul, reduce-scatters after it (sharding.hpp's 2-D patterns).
  void two_axis_linear(const Op& op, const std::vector<LinearMove>& moves, std::int32_t row,
                       Phase phase) {
    auto run = [&](const LinearMove& m) {
      const std::int64_t size = ctx_.plan->mesh.size(m.axis);
      const Axis axis = m.axis == MeshAxis::Model1 ? Axis::Model1 : Axis::Model2;
      const double block = m.bytes_per_token / static_cast<double>(size - 1) *
                           static_cast<double>(ctx_.microbatch_tokens);
      const auto full = static_cast<std::int64_t>(std::llround(block)) * size;
      const bool gather = m.kind == MoveKind::AllGather;
      model_collective(
          gather ? CollectiveOp::AllGather : CollectiveOp::ReduceScatter, full,
          op.name + (gather ? " all-gather (" : " reduce-scatter (") + to_string(m.axis) + ")", row,
          phase, axis);
    };
    for (const auto& m : moves) {
      if (m.kind == MoveKind::AllGather)
        run(m);
    }
    b_.compute(op.name, op_seconds(ctx_, op), op.flop, row, phase, false);
    for (const auto& m : moves) {
      if (m.kind == MoveKind::ReduceScatter)
        run(m);
    }
  }

  // An all-gather of `block_bytes` per chip, overlapped with the k chunks of `op`.
  void gather_then_matmul(const Op& op, double block_bytes, std::int32_t row, Phase phase) {
    const std::int64_t k = ctx_.k;  // > 1: linear_op computes locally when nothing moves
    const auto block = static_cast<std::int64_t>(std::llround(block_bytes));
    if (!collective_matmul_pays(ctx_, op, block_bytes, CollectiveOp::AllGather)) {
      model_collective(CollectiveOp::AllGather, block * k, op.name + " all-gather", row, phase);
      b_.compute(op.name, op_seconds(ctx_, op), op.flop, row, phase, false);
      return;
    }
    const Op chunk = matmul_chunk(op, k, ChunkedMove::AllGather, along_tokens());
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
    if (!collective_matmul_pays(ctx_, op, block_bytes, CollectiveOp::ReduceScatter)) {
      b_.compute(op.name, op_seconds(ctx_, op), op.flop, row, phase, false);
      model_collective(CollectiveOp::ReduceScatter, block * k, op.name + " reduce-scatter", row,
                       phase);
      return;
    }
    const Op chunk = matmul_chunk(op, k, ChunkedMove::ReduceScatter, along_tokens());
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
    if (ctx_.two_axes && r.name != "lm_head") {
      two_axis_linear(op, moves_of(r, op.pass), row, phase);
      return;
    }
    const LinearMove* model_move = model_axis_move(r, op.pass);
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

}  // namespace

void check_step_events(const Plan& plan, double events) {
  if (events <= limits::kMaxStepEvents)
    return;
  throw InputError(plan.site("microbatches"),
                   "this step would take about " + std::to_string(static_cast<long long>(events)) +
                       " simulation events, more than the limit (docs/limits.md)",
                   std::to_string(plan.microbatches) + " microbatches on " +
                       std::to_string(plan.mesh.chips()) + " chips",
                   "at most " + limits::limit_text(limits::kMaxStepEvents) +
                       " events: fewer microbatches or chips");
}

Program build_program(const Context& ctx, const StageWork& work) {
  ProgramBuilder b;
  const std::int64_t p = work.stages, v = work.virtual_stages, m = ctx.plan->microbatches;
  // Pipeline receives: slot (virtual stage x microbatch x pass), alike in every stage's program.
  if (p > 1)
    b.reserve_recv_slots(static_cast<std::int32_t>(2 * p * v * m));
  auto pipe_slot = [&](std::int64_t vs, std::int64_t mb, bool backward) {
    return static_cast<std::int32_t>((vs * m + mb) * 2 + (backward ? 1 : 0));
  };
  // The order of this stage's passes; without a pipeline every microbatch's forward then its
  // backward.
  std::vector<PipelineTask> tasks = work.order;
  if (p == 1) {
    tasks.clear();
    for (std::int64_t mb = 0; mb < m; ++mb) {
      tasks.push_back({0, static_cast<std::int32_t>(mb), false});
      tasks.push_back({0, static_cast<std::int32_t>(mb), true});
    }
  }
  LayerEmitter emitter(ctx, b);
  const auto& model = *ctx.model;
  const auto& plan = *ctx.plan;
  const auto ops =
      layer_ops(model, LayerShape{ctx.microbatch_images, ctx.k, 2, plan.attention,
                                  plan.activation_layout == ActivationLayout::Replicated,
                                  plan.sequence_parallel});
  std::vector<Op> forward, backward;
  for (const auto& op : ops)
    (op.pass == Pass::Forward ? forward : backward).push_back(op);
  // Selective recomputation rebuilds what the memory model does not keep (docs/plans.md).
  const std::vector<std::string>& selective = selective_recompute_ops();
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
  const double grad_element_bytes = gradient_element_bytes(plan);
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
  bool checked = false;
  for (std::size_t task_index = 0; task_index < tasks.size(); ++task_index) {
    const PipelineTask& task = tasks[task_index];
    const std::int64_t mb = task.microbatch;
    // Every microbatch adds as many instructions as the first, each at least one event on each of
    // the k chips of a replica: refuse before the program grows (issue 17 item 8).
    if (mb == 1 && !checked) {
      checked = true;
      const double instructions = static_cast<double>(b.size()) / static_cast<double>(task_index) *
                                  static_cast<double>(tasks.size());
      if (instructions > limits::kMaxProgramInstructions) {
        throw InputError(plan.site("microbatches"),
                         "the step's program would hold about " +
                             std::to_string(static_cast<long long>(instructions)) +
                             " instructions, more than the limit (docs/limits.md)",
                         std::to_string(plan.microbatches) + " microbatches of " +
                             std::to_string(model.depth) + " layers",
                         "at most " + limits::limit_text(limits::kMaxProgramInstructions) +
                             " instructions: fewer microbatches");
      }
      check_step_events(plan, instructions * static_cast<double>(ctx.k));
    }
    const bool last_mb = mb == plan.microbatches - 1;
    const std::int64_t vs = task.chunk * p + work.stage;  // virtual stage
    const bool first_vs = vs == 0, last_vs = vs == p * v - 1;
    const std::int64_t layers = work.chunk_layers[static_cast<std::size_t>(task.chunk)];
    // A trace labels instructions with the model's layer (-1: embedding, LM head) and microbatch.
    const std::int64_t layer0 = work.chunk_first_layer[static_cast<std::size_t>(task.chunk)];
    auto at = [&](std::int64_t l) { b.at(l < 0 || l >= layers ? -1 : layer0 + l, mb); };
    at(-1);
    // FSDP gathers of this pass's layers (prefetched one ahead).
    std::vector<std::int32_t> gather(static_cast<std::size_t>(layers), -1);
    auto issue_gather = [&](std::int64_t l, Phase phase) {
      if (!fsdp || l < 0 || l >= layers)
        return;
      gather[static_cast<std::size_t>(l)] = b.new_collective_slot();
      b.collective(Axis::Data, CollectiveOp::AllGather, weight_bytes,
                   gather[static_cast<std::size_t>(l)], -1, phase, "weights all-gather");
    };
    auto gather_head = [&](double params, const char* name) {
      const std::int32_t slot = b.new_collective_slot();
      b.collective(Axis::Data, CollectiveOp::AllGather, padded(2.0 * params), slot, -1,
                   Phase::Forward, name);
      b.wait_collective(Axis::Data, slot, -1, Phase::Forward);
    };
    if (!task.backward) {
      if (!first_vs)
        b.wait_recv(pipe_slot(vs, mb, false), 1, -1, Phase::Forward, Axis::Pipeline);
      if (lm.enabled && first_vs) {
        if (fsdp) {
          if (last_vs) {
            gather_head(lm.embedding_params_per_chip + lm.head_params_per_chip,
                        "embedding and LM head all-gather");
          } else {
            gather_head(lm.embedding_params_per_chip, "embedding all-gather");
          }
        }
        emit_head(lm.ops.embedding_forward, Phase::Forward);
        head_collective(lm.embedding_forward, "embedding", Phase::Forward);
      }
      // Forward: the gather of layer l+1 is issued when layer l starts (prefetch one ahead).
      at(0);
      issue_gather(0, Phase::Forward);
      for (std::int64_t l = 0; l < layers; ++l) {
        at(l + 1);
        issue_gather(l + 1, Phase::Forward);
        at(l);
        if (fsdp)
          b.wait_collective(Axis::Data, gather[static_cast<std::size_t>(l)], -1, Phase::Forward);
        emitter.emit(forward, Phase::Forward);
      }
      at(-1);
      if (lm.enabled && last_vs) {
        if (fsdp && !first_vs)
          gather_head(lm.head_params_per_chip, "LM head all-gather");
        emit_head(lm.ops.head_forward, Phase::Forward);
        head_collective(lm.loss_statistics, "cross_entropy statistics all-reduce", Phase::Forward);
      }
      if (!last_vs) {
        b.send(+1, work.activation_bytes, pipe_slot(vs + 1, mb, false), -1, Phase::Forward,
               Axis::Pipeline);
      }
      continue;
    }
    if (!last_vs)
      b.wait_recv(pipe_slot(vs, mb, true), 1, -1, Phase::Backward, Axis::Pipeline);
    if (lm.enabled && last_vs) {
      emit_head(lm.ops.head_backward, Phase::Backward);
      head_gradients(lm.head_params_per_chip, "LM head gradients", last_mb);
    }
    at(layers - 1);
    issue_gather(layers - 1, Phase::Backward);
    for (std::int64_t l = layers - 1; l >= 0; --l) {
      at(l - 1);
      issue_gather(l - 1, Phase::Backward);
      at(l);
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
    at(-1);
    if (!first_vs) {
      b.send(-1, work.activation_bytes, pipe_slot(vs - 1, mb, true), -1, Phase::Backward,
             Axis::Pipeline);
    }
    if (lm.enabled && first_vs) {
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

}  // namespace meshsim::execution::detail
