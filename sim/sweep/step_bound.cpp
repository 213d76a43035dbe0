#include "sim/sweep/step_bound.hpp"

#include <algorithm>
#include <string>
#include <vector>

#include "hardware_profiles/cost_model.hpp"
#include "sim/execution/accumulation_ops.hpp"
#include "sim/execution/lm_head.hpp"
#include "sim/execution/matmul_chunk.hpp"
#include "sim/execution/optimizer_update.hpp"
#include "sim/execution/ring_nic_bound.hpp"
#include "sim/plan/sharding.hpp"

namespace meshsim::sweep {
namespace {

// The rates the step's links run at: each class's bandwidth times the profile's collective
// efficiency for it (network::Topology::apply_collective_costs).
double nvlink_rate(const HardwareProfile& hw) {
  return hw.gpu.nvlink_bandwidth_bytes_per_s * hw.collectives.nvlink_efficiency;
}
double nic_rate(const HardwareProfile& hw) {
  return hw.gpu.nic_bandwidth_bytes_per_s * hw.collectives.nic_efficiency;
}
// The most bytes per second a chip can push out (or take in), whatever the routing: every link
// leaving it at its rate. Torus: links_per_chip ICI links; GPU: its NVLink port plus its NIC
// (docs/sweep.md).
double chip_link_bandwidth(const HardwareProfile& hw) {
  if (hw.kind == InterconnectKind::Torus)
    return static_cast<double>(hw.torus.links_per_chip) * hw.torus.link_bandwidth_bytes_per_s *
           hw.collectives.ici_efficiency;
  return nvlink_rate(hw) + nic_rate(hw);
}

}  // namespace

StepBound step_lower_bound(const ModelConfig& model, const HardwareProfile& hardware,
                           const Plan& plan, const MemoryBreakdown& memory,
                           const network::Topology* topology) {
  // Layers of every virtual stage (one entry without a pipeline) and of every chip: chip s holds
  // virtual stages s, s + p, ... (pipeline order).
  const std::int64_t pipe = plan.mesh.pipeline;
  const auto chunk_layers = stage_layers(plan, model.depth);
  std::vector<std::int64_t> chip_layers(static_cast<std::size_t>(pipe), 0);
  std::vector<std::int64_t> chip_chunks(static_cast<std::size_t>(pipe), 0);  // with layers
  for (std::size_t vs = 0; vs < chunk_layers.size(); ++vs) {
    const auto s = vs % static_cast<std::size_t>(pipe);
    chip_layers[s] += chunk_layers[vs];
    chip_chunks[s] += chunk_layers[vs] > 0 ? 1 : 0;
  }
  const std::int64_t depth_i = *std::max_element(chip_layers.begin(), chip_layers.end());
  const std::int64_t k = plan.mesh.model();
  const std::int64_t t = plan.mesh.data;
  const std::int64_t mb_images = plan.global_batch / (t * plan.microbatches);
  const double tokens = static_cast<double>(mb_images * model.tokens);
  const auto linears = resolve_sharding(model, plan);
  const auto ops =
      layer_ops(model, LayerShape{mb_images, k, 2, plan.attention,
                                  plan.activation_layout == ActivationLayout::Replicated,
                                  plan.sequence_parallel});
  // Two model axes: every move runs as a synchronous collective over its own axis (the step
  // decomposes no matmul there, docs/execution.md).
  const bool two_axes = plan.mesh.model2 > 1;
  const bool along_tokens = plan.sequence_parallel;
  auto op_s = [&](const Op& op) { return op_time_s(hardware.cost, hardware.chip, op); };
  auto linear_of = [&](const std::string& name) -> const ResolvedLinear& {
    return find_linear(linears, name);
  };

  const double link_bw = chip_link_bandwidth(hardware);
  const bool gpu = hardware.kind == InterconnectKind::GpuCluster;
  // A group inside one NVLink node moves its bytes over NVLink alone (a route between two GPUs of
  // a node never leaves it). The model group of a chip is k consecutive GPUs (model-major ranks,
  // docs/plans.md "Mapping"): inside a node when k divides the node's GPUs.
  const bool model_in_node =
      gpu && k <= hardware.gpu.gpus_per_node && hardware.gpu.gpus_per_node % k == 0;
  const double model_bw = model_in_node ? nvlink_rate(hardware) : link_bw;
  // An all-reduce inside a node may run as NVLS (collectives/nvls.hpp): each member sends and
  // receives its buffer once, at the NVLS rate, instead of a ring's 2 (n-1)/n of it. Its least
  // time and its link occupancy (as payload bytes at the link rate) take the cheaper of the two.
  const double nvls = hardware.collectives.nvls_bandwidth_bytes_per_s;
  auto all_reduce_s = [&](double ring_s, double buffer, bool in_node) {
    return in_node && gpu && nvls > 0 ? std::min(ring_s, buffer / nvls) : ring_s;
  };
  auto all_reduce_send = [&](double ring_bytes, double buffer, bool in_node) {
    return in_node && gpu && nvls > 0
               ? std::min(ring_bytes, buffer * std::min(1.0, nvlink_rate(hardware) / nvls))
               : ring_bytes;
  };
  const bool async = plan.async_collective_matmul;
  // A collective whose group spans NVLink nodes: everything a node's members receive from other
  // nodes, and send to them, crosses those members' own NICs (a route between nodes leaves and
  // enters through the end GPUs' NIC links; docs/network.md). With g of its `size` members in a
  // node, an all-gather's node needs the (size - g) blocks of the members outside it, and a
  // reduce-scatter's node must send its contribution to their (size - g) shards: one of its g
  // NICs carries (size - g) / g blocks at least. An all-reduce's node needs the other nodes'
  // contribution to every element: size / g blocks. g: the members in the node of the group's
  // member at GPU `first` (members `stride` GPUs apart; GPU id = rank, model-major ranks,
  // docs/plans.md "Mapping"); `size` when the group lies in one node.
  auto members_in_node = [&](std::int64_t first, std::int64_t stride, std::int64_t size) {
    const std::int64_t node = hardware.gpu.gpus_per_node;
    if (!gpu || node <= 0)
      return std::int64_t{1};
    std::int64_t g = 0;
    while (g < size && (first + g * stride) / node == first / node)
      ++g;
    return g;
  };
  auto group_nic_s = [&](std::int64_t first, std::int64_t stride, std::int64_t size,
                         double block_bytes, bool all_reduce) {
    if (!gpu || !(nic_rate(hardware) > 0))
      return 0.0;
    const std::int64_t g = members_in_node(first, stride, size);
    if (g >= size)
      return 0.0;
    return static_cast<double>(all_reduce ? size : size - g) / static_cast<double>(g) *
           block_bytes / nic_rate(hardware);
  };
  // A model axis's group (replica 0's; the others lie alike) and the data group of the chip of
  // stage s, data 0, model 0 (GPU id (s t + d) k + m).
  auto nic_s = [&](MeshAxis axis, double block_bytes, bool all_reduce) {
    return group_nic_s(0, axis == MeshAxis::Model2 ? plan.mesh.model1 : 1,
                       two_axes ? plan.mesh.size(axis) : k, block_bytes, all_reduce);
  };
  auto data_in_node = [&](std::int64_t s) { return gpu && members_in_node(s * t * k, k, t) >= t; };
  auto data_nic_s = [&](std::int64_t s, double block_bytes, bool all_reduce) {
    return group_nic_s(s * t * k, k, t, block_bytes, all_reduce);
  };
  // A move run as a synchronous collective over `axis`: its least time (its bytes into, or out
  // of, the chip over the model group's links, its blocks over the NICs where the group spans
  // nodes, NVLS for an all-reduce inside a node) and the bytes the chip must send (its own block
  // of an all-gather, the partial sums of a reduce-scatter, a ring's or NVLS's share of an
  // all-reduce).
  struct SyncMove {
    double s = 0, sent = 0;
  };
  auto sync_move = [&](const LinearMove& m, MeshAxis axis) {
    const auto size = static_cast<double>(two_axes ? plan.mesh.size(axis) : k);
    const double moved = m.bytes_per_token * tokens;  // (size - 1) blocks; a ring all-reduce's:
                                                      // 2 (size - 1) / size of its buffer
    SyncMove r;
    if (m.kind == MoveKind::AllReduce) {
      const double buffer = moved * size / (2.0 * (size - 1));
      r.s = all_reduce_s(std::max(moved / model_bw, nic_s(axis, buffer / size, true)), buffer,
                         model_in_node);
      r.sent = all_reduce_send(moved, buffer, model_in_node);
    } else {
      r.s = std::max(moved / model_bw, nic_s(axis, moved / (size - 1), false));
      r.sent = m.kind == MoveKind::AllGather ? moved / (size - 1) : moved;
    }
    return r;
  };
  const auto& selective = selective_recompute_ops();
  double fwd_s = 0, bwd_s = 0, recompute_s = 0;
  double fwd_ops = 0, bwd_ops = 0, recompute_ops = 0;
  double fwd_block_s = 0, bwd_block_s = 0;  // sync model-axis waits
  double fwd_send = 0, bwd_send = 0;        // model-axis bytes the chip must send
  for (const auto& op : ops) {
    const bool forward = op.pass == Pass::Forward;
    double s = 0, n = 1;
    double block_s = 0, send = 0;
    const LinearMove* move = nullptr;
    if (op.kind == OpKind::Matmul && !op.linear.empty() && k > 1 && !two_axes)
      move = model_axis_move(linear_of(op.linear), op.pass);
    if (op.kind == OpKind::Matmul && !op.linear.empty() && two_axes) {
      // Each move blocks the compute stream until its collective is done: an all-gather delivers
      // `moved` bytes into this chip (its own block leaves at least once), a reduce-scatter
      // sends `moved` bytes of partial sums out.
      s = op_s(op);
      for (const auto& m : moves_of(linear_of(op.linear), op.pass)) {
        const SyncMove sync = sync_move(m, m.axis);
        block_s += sync.s;
        send += sync.sent;
      }
    } else if (move != nullptr) {
      // Per chip and step of the move: bytes_per_token x tokens = (k-1) blocks.
      const double moved = move->bytes_per_token * tokens;
      const SyncMove sync = sync_move(*move, MeshAxis::Model1);  // "model" on a data x model mesh
      if (async) {
        // The step runs a collective matmul (k chunks, k kernel overheads, and after every
        // reduce-scatter chunk but the first an fp32 accumulator add) or, where that would not
        // pay (step.cpp decides on the topology), the synchronous collective then the whole
        // matmul. The compute stream runs the whole matmul's time either way, plus at least the
        // smaller of the chunking's extra time and the collective's blocking time.
        s = op_s(op);
        // Each chunk is priced at its own shape, as the step does (matmul_chunk.hpp).
        const ChunkedMove chunk_move =
            move->kind == MoveKind::AllGather ? ChunkedMove::AllGather : ChunkedMove::ReduceScatter;
        double chunked =
            static_cast<double>(k) * op_s(matmul_chunk(op, k, chunk_move, along_tokens));
        n = static_cast<double>(k);
        if (move->kind != MoveKind::AllGather) {
          const double block =
              moved / static_cast<double>(k - 1) / (move->kind == MoveKind::AllReduce ? 2.0 : 1.0);
          chunked += static_cast<double>(k - 1) *
                     op_s(execution::collective_matmul_accumulate_op(op.name, block));
          n += static_cast<double>(k - 1);
        }
        block_s = std::max(0.0, std::min(chunked - s, sync.s));
        // Chunked, the program sends every block it passes on; else as the sync case below.
        send = sync.sent;
      } else {
        s = op_s(op);
        // The compute stream waits for the whole collective: an all-gather delivers `moved`
        // bytes into this chip, a reduce-scatter must send `moved` bytes of partial sums out.
        block_s = sync.s;
        send = sync.sent;
      }
    } else {
      s = op_s(op);
    }
    if (forward) {
      fwd_s += s;
      fwd_ops += n;
      fwd_block_s += block_s;
      fwd_send += send;
      if (plan.remat == Remat::Selective &&
          std::find(selective.begin(), selective.end(), op.name) != selective.end()) {
        recompute_s += s;
        recompute_ops += n;
      }
    } else {
      bwd_s += s;
      bwd_ops += n;
      bwd_block_s += block_s;
      bwd_send += send;
    }
  }
  double recompute_block_s = 0, recompute_send = 0;
  if (plan.remat == Remat::Full) {
    recompute_s = fwd_s;
    recompute_ops = fwd_ops;
    recompute_block_s = fwd_block_s;
    recompute_send = fwd_send;
  }
  const auto mbs = static_cast<double>(plan.microbatches);

  // Optimizer update: memory-bound over the chip's shard (as the step simulator runs it).
  const Op update = execution::optimizer_update_op(memory, plan);

  // Busy time and count of a list of ops, added to `seconds` and `count`.
  auto add_ops = [&](const std::vector<Op>& list, double& seconds, double& count) {
    for (const Op& op : list) {
      seconds += op_s(op);
      count += 1;
    }
  };
  // One layer's weights and gradients on the chip (its model shard), which the data axis gathers
  // and reduces.
  const LayerShard layer = layer_shard(model, plan);

  // Gradient casts and accumulation after every layer's backward, all microbatches, per layer.
  double layer_gradient_s = 0, layer_gradient_ops = 0;
  {
    const auto grad = execution::gradient_ops(plan, layer.params, t);
    for (std::int64_t mb = 0; mb < plan.microbatches; ++mb)
      add_ops(execution::gradient_ops_after(grad, plan, mb), layer_gradient_s, layer_gradient_ops);
  }

  // A decoder's embedding (first chip) and final norm, LM head and loss (last chip), per
  // microbatch at the chip's shape, as the step emits them (lm_head.hpp). The LM head matmul is
  // counted whole, as the layers' linears are.
  const execution::LmHeadWork head = execution::lm_head_work(model, plan, mb_images);
  double embedding_forward_s = 0, embedding_s = 0, head_s = 0;
  double embedding_ops = 0, head_ops = 0;
  add_ops(head.ops.embedding_forward, embedding_forward_s, embedding_ops);
  embedding_s = embedding_forward_s;
  add_ops(head.ops.embedding_backward, embedding_s, embedding_ops);
  add_ops(head.ops.head_forward, head_s, head_ops);
  add_ops(head.ops.head_backward, head_s, head_ops);

  const double weight_bytes = layer.weight_bytes, grad_bytes = layer.gradient_bytes;
  const double share = static_cast<double>(t - 1) / static_cast<double>(t);
  const bool gathers = t > 1 && plan.fsdp;
  // The least time of a data-axis collective of the chip of stage s (data 0, model 0) with a
  // buffer of `bytes` per chip: an all-gather delivers (t-1)/t of it into the chip, a
  // reduce-scatter sends (t-1)/t of it out, an all-reduce moves every element at least once;
  // over all its links, or over its node's NICs where the group spans nodes (data_nic_s).
  auto data_s = [&](std::int64_t s, double bytes, bool all_reduce) {
    const bool in_node = data_in_node(s);
    const double rate = in_node ? nvlink_rate(hardware) : link_bw;
    const double least = std::max((all_reduce ? 1.0 : share) * bytes / rate,
                                  data_nic_s(s, bytes / static_cast<double>(t), all_reduce));
    return all_reduce ? all_reduce_s(least, bytes, in_node) : least;
  };

  // Chip s (holding virtual stages s, s + p, ...): its compute stream's busy time and the waits
  // nothing on it can overlap, and what it may still run after its last backward compute op.
  struct ChipBound {
    double compute = 0, blocking = 0, after_last_backward = 0, ops = 0;
  };
  auto chip_bound = [&](std::int64_t s) {
    ChipBound c;
    const auto n = static_cast<double>(chip_layers[static_cast<std::size_t>(s)]);
    const double passes = n * mbs;
    // The optimizer update is left out with a pipeline: `memory` is the largest stage's, which
    // may not be this chip's.
    c.compute = passes * (fwd_s + bwd_s + recompute_s) + n * layer_gradient_s +
                (pipe > 1 ? 0.0 : op_s(update));
    c.ops = passes * (fwd_ops + bwd_ops + recompute_ops) + n * layer_gradient_ops + 1;
    c.blocking = passes * (fwd_block_s + bwd_block_s + recompute_block_s);
    c.after_last_backward = n * layer_gradient_s;
    double head_params = 0;  // the decoder weights it gathers at the start of every microbatch
    if (head.enabled && s == 0) {
      c.compute += mbs * embedding_s;
      c.ops += mbs * embedding_ops;
      head_params += head.embedding_params_per_chip;
    }
    if (head.enabled && s == pipe - 1) {
      c.compute += mbs * head_s;
      c.ops += mbs * head_ops;
      head_params += head.head_params_per_chip;
    }
    if (gathers) {
      // Every task (a chunk's forward or backward of one microbatch) waits for the gather of its
      // first layer with nothing to overlap it (layer_program.cpp issues it after the task's
      // receive); a decoder's embedding and head gathers are waited for as soon as issued.
      const auto tasks = 2.0 * mbs * static_cast<double>(chip_chunks[static_cast<std::size_t>(s)]);
      c.blocking += tasks * data_s(s, weight_bytes, false);
      if (head_params > 0)
        c.blocking += mbs * data_s(s, 2.0 * head_params, false);
    }
    if (t > 1) {
      // The last layer's gradient reduce-scatter (all-reduce without FSDP) starts after the last
      // backward op, and the chip waits for it.
      const double last = data_s(s, grad_bytes, !plan.fsdp);
      c.after_last_backward += last;
      c.blocking += last;
    }
    return c;
  };

  StepBound b;
  double op_count = 0;
  for (std::int64_t s = 0; s < pipe; ++s) {
    const ChipBound c = chip_bound(s);
    if (s == 0 || c.compute + c.blocking > b.compute_s + b.blocking_comm_s) {
      b.compute_s = c.compute;
      b.blocking_comm_s = c.blocking;
      op_count = c.ops;
    }
  }
  // With a pipeline, the last chip also waits for the fill and the drain (docs/sweep.md
  // "Pruning"). Its first compute op waits for microbatch 0's forward through virtual stages
  // 0 .. p-2 (one on each other chip, each sending after its whole task). After its last
  // backward compute op (virtual stage p-1, whatever the microbatch), that microbatch's gradient
  // must still pass back through virtual stages p-2 .. 0 (recompute and backward), which the
  // chip's own work after that op (after_last_backward) may overlap. Each task in the chain
  // waits for its first gather and its layers' sync waits as well.
  if (pipe > 1) {
    double fill = 0, drain = 0;
    for (std::int64_t vs = 0; vs + 1 < pipe; ++vs) {
      const auto layers = static_cast<double>(chunk_layers[static_cast<std::size_t>(vs)]);
      const double gather = gathers && layers > 0 ? data_s(vs, weight_bytes, false) : 0.0;
      fill += layers * (fwd_s + fwd_block_s) + gather;
      drain += layers * (bwd_s + recompute_s + bwd_block_s + recompute_block_s) + gather;
    }
    if (head.enabled) {
      fill += embedding_forward_s;
      if (gathers && head.embedding_params_per_chip > 0)
        fill += data_s(0, 2.0 * head.embedding_params_per_chip, false);
    }
    const ChipBound last = chip_bound(pipe - 1);
    const double drain_s = std::max(0.0, drain - last.after_last_backward);
    if (fill + last.compute + last.blocking + drain_s > b.compute_s + b.blocking_comm_s) {
      b.compute_s = last.compute;
      b.blocking_comm_s = fill + last.blocking + drain_s;
      b.fill_s = fill;
      b.drain_s = drain_s;
      op_count = last.ops;
    }
  }
  // Bytes the busiest chip must send: its model-axis moves; its own shard once per gather and
  // its gradients (every microbatch's with grad_sync per-microbatch), or every gradient element
  // once for an all-reduce.
  const auto depth = static_cast<double>(depth_i);
  double send = depth * mbs * (fwd_send + bwd_send + recompute_send);
  if (t > 1 && plan.fsdp) {
    const double reductions =
        plan.grad_sync == GradSync::PerMicrobatch && plan.microbatches > 1 ? mbs : 1.0;
    send += 2.0 * depth * mbs * weight_bytes / static_cast<double>(t) +
            reductions * depth * share * grad_bytes;
  } else if (t > 1) {
    send += depth * grad_bytes;
  }
  b.link_s = send / link_bw;
  // Collective-matmul ring steps out of an NVLink node: their bytes over the sender's NIC link.
  if (topology != nullptr && async && !two_axes && k > hardware.gpu.gpus_per_node &&
      hardware.kind == InterconnectKind::GpuCluster) {
    b.nic_s = execution::model_ring_nic_bound_s(model, hardware, plan, *topology);
    b.link_s = std::max(b.link_s, b.nic_s);
  }
  // Margin: the simulator rounds each op to whole picoseconds and message sizes to whole bytes.
  const double raw = std::max(b.compute_s + b.blocking_comm_s, b.link_s);
  b.step_s = raw * (1.0 - 1e-9) - op_count * 1e-12;
  return b;
}

}  // namespace meshsim::sweep
