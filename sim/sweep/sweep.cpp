#include "sim/sweep/sweep.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <exception>
#include <optional>
#include <stdexcept>

#include "hardware_profiles/cost_model.hpp"
#include "sim/execution/accumulation_ops.hpp"
#include "sim/execution/lm_head.hpp"
#include "sim/execution/matmul_chunk.hpp"
#include "sim/execution/optimizer_update.hpp"
#include "sim/execution/pipeline_memory.hpp"
#include "sim/execution/placement.hpp"
#include "sim/execution/ring_nic_bound.hpp"
#include "sim/limits.hpp"
#include "sim/plan/sharding.hpp"
#include "sim/sweep/distribution.hpp"

namespace meshsim::sweep {
namespace {

// Ops that selective recomputation rebuilds (the step simulator's list, docs/plans.md).
const std::vector<std::string> kSelectiveOps = {
    "qk_norm",     "split_heads",     "attn_scores", "softmax", "attn_values",
    "merge_heads", "flash_attention", "gelu",        "relu",    "swiglu"};

// The most bytes per second a chip can push out (or take in): every link leaving it at full
// bandwidth. Torus: links_per_chip ICI links; GPU: its NVLink port plus its NIC (docs/sweep.md).
// The rates the step's links run at: each class's bandwidth times the profile's collective
// efficiency for it (network::Topology::apply_collective_costs).
double nvlink_rate(const HardwareProfile& hw) {
  return hw.gpu.nvlink_bandwidth_bytes_per_s * hw.collectives.nvlink_efficiency;
}
double nic_rate(const HardwareProfile& hw) {
  return hw.gpu.nic_bandwidth_bytes_per_s * hw.collectives.nic_efficiency;
}
// All egress links of a chip together: what any chip can push, whatever the routing.
double chip_link_bandwidth(const HardwareProfile& hw) {
  if (hw.kind == InterconnectKind::Torus)
    return static_cast<double>(hw.torus.links_per_chip) * hw.torus.link_bandwidth_bytes_per_s *
           hw.collectives.ici_efficiency;
  return nvlink_rate(hw) + nic_rate(hw);
}

std::string classify(const InputError& e) {
  const std::string& p = e.problem();
  if (p.find("does not divide") != std::string::npos)
    return "model_axis_does_not_divide";
  if (p.find("global batch") != std::string::npos)
    return "batch_not_divisible";
  if (p.find("more chips") != std::string::npos)
    return "too_many_chips";
  if (e.site().field == "mesh")
    return "no_machine_slice";
  return "invalid";
}

std::vector<std::int64_t> divisors(std::int64_t n) {
  std::vector<std::int64_t> out;
  for (std::int64_t d = 1; d <= n; ++d) {
    if (n % d == 0)
      out.push_back(d);
  }
  return out;
}

// True when every linear resolves to the same choice under `a` and `b` (then the variant is the
// same plan and is not enumerated twice).
bool same_resolution(const ModelConfig& model, const Plan& a, const Plan& b) {
  const auto ra = resolve_sharding(model, a);
  const auto rb = resolve_sharding(model, b);
  for (std::size_t i = 0; i < ra.size(); ++i) {
    if (ra[i].chosen != rb[i].chosen)
      return false;
  }
  return true;
}

std::string gb_text(double bytes) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.3g GB", bytes / 1e9);
  return buf;
}

}  // namespace

std::string plan_summary(const Plan& plan) {
  std::string s = plan.mesh.text() + " " + to_string(plan.sharding);
  if (plan.mesh.pipeline > 1) {
    s += std::string(" ") + to_string(plan.schedule);
    if (plan.virtual_stages > 1)
      s += " v=" + std::to_string(plan.virtual_stages);
  }
  s += plan.async_collective_matmul ? " async" : " sync";
  s += plan.fsdp ? " fsdp" : " no-fsdp";
  s += std::string(" remat=") + to_string(plan.remat);
  s += std::string(" ") + to_string(plan.optimizer.kind);
  s += " mb=" + std::to_string(plan.microbatches);
  if (plan.fsdp && plan.microbatches > 1)
    s += std::string(" grad-sync=") + to_string(plan.grad_sync);
  if (plan.attention != AttentionKernel::Unfused)
    s += std::string(" attention=") + to_string(plan.attention);
  if (plan.activation_layout != ActivationLayout::Sharded)
    s += std::string(" activations=") + to_string(plan.activation_layout);
  if (plan.sequence_parallel)
    s += " sequence-parallel";
  s += " batch=" + std::to_string(plan.global_batch);
  return s;
}

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
    for (const auto& r : linears) {
      if (r.name == name)
        return r;
    }
    throw std::logic_error("sweep: op of unknown linear " + name);
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
  // A model-axis collective whose group spans NVLink nodes: everything a node's members receive
  // from other nodes, and send to them, crosses those members' own NICs (a route between nodes
  // leaves and enters through the end GPUs' NIC links; docs/network.md). An all-gather's node
  // needs the (size - g) blocks of the members outside it, g of its members in it; a
  // reduce-scatter's node must send its contribution to their (size - g) shards (an all-reduce
  // needs at least as much). So one of its g NICs carries (size - g) / g blocks at least.
  // g: the members in member 0's node of replica 0's group (GPU id = rank, model-major ranks:
  // docs/plans.md "Mapping"; the groups of other replicas lie alike).
  auto nic_s = [&](MeshAxis axis, double block_bytes) {
    if (!gpu || hardware.gpu.gpus_per_node <= 0 || !(nic_rate(hardware) > 0))
      return 0.0;
    const std::int64_t node = hardware.gpu.gpus_per_node;
    const std::int64_t size = two_axes ? plan.mesh.size(axis) : k;
    const std::int64_t stride = axis == MeshAxis::Model2 ? plan.mesh.model1 : 1;
    std::int64_t g = 0;
    for (std::int64_t i = 0; i < size; ++i)
      g += (i * stride) / node == 0 ? 1 : 0;
    if (g >= size)
      return 0.0;
    return static_cast<double>(size - g) / static_cast<double>(g) * block_bytes /
           nic_rate(hardware);
  };
  // The members of the data group of the chip of stage s, data 0, model 0 in its node (GPU id
  // (s t + d) k + m, docs/plans.md "Mapping"); t when it lies in one node.
  auto data_in_its_node = [&](std::int64_t s) {
    if (!gpu || hardware.gpu.gpus_per_node <= 0)
      return std::int64_t{1};
    const std::int64_t node = hardware.gpu.gpus_per_node;
    const std::int64_t base = s * plan.mesh.data * k;
    std::int64_t g = 0;
    while (g < plan.mesh.data && (base + g * k) / node == base / node)
      ++g;
    return g;
  };
  auto data_in_node = [&](std::int64_t s) { return gpu && data_in_its_node(s) >= plan.mesh.data; };
  // Its data-axis collectives over the NICs, as above with g = data_in_its_node(s): an
  // all-gather or reduce-scatter moves (t - g) / g blocks over one of their NICs at least; an
  // all-reduce, whose every element needs the other nodes' contributions, t / g blocks.
  auto data_nic_s = [&](std::int64_t s, double block_bytes, bool all_reduce) {
    if (!gpu || hardware.gpu.gpus_per_node <= 0 || !(nic_rate(hardware) > 0))
      return 0.0;
    const std::int64_t g = data_in_its_node(s);
    if (g >= plan.mesh.data)
      return 0.0;
    const auto members = static_cast<double>(all_reduce ? plan.mesh.data : plan.mesh.data - g);
    return members / static_cast<double>(g) * block_bytes / nic_rate(hardware);
  };
  const MeshAxis model_axis = MeshAxis::Model1;  // "model" on a data x model mesh
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
      const auto& r = linear_of(op.linear);
      const auto& moves = moves_of(r, op.pass);
      for (const auto& m : moves) {
        const double moved = m.bytes_per_token * tokens;
        const double size = static_cast<double>(plan.mesh.size(m.axis));
        if (m.kind == MoveKind::AllReduce) {
          // moved = 2 (n-1)/n of the buffer (a ring's bytes): the buffer is n/(2 (n-1)) of it.
          const double buffer = moved * size / (2.0 * (size - 1));
          block_s += all_reduce_s(std::max(moved / model_bw, nic_s(m.axis, buffer / size)), buffer,
                                  model_in_node);
          send += all_reduce_send(moved, buffer, model_in_node);
          continue;
        }
        block_s += std::max(moved / model_bw, nic_s(m.axis, moved / (size - 1)));
        send += m.kind == MoveKind::AllGather ? moved / (size - 1) : moved;
      }
    } else if (move != nullptr) {
      // Per chip and step of the move: bytes_per_token x tokens = (k-1) blocks.
      const double moved = move->bytes_per_token * tokens;
      // The synchronous collective's least time: its bytes into (or out of) the chip over all its
      // links, or its blocks over the NICs where the model axis spans nodes.
      const bool all_reduce = move->kind == MoveKind::AllReduce;
      const double buffer =  // an all-reduce's buffer: moved = 2 (k-1)/k of it
          all_reduce ? moved * static_cast<double>(k) / (2.0 * static_cast<double>(k - 1)) : 0.0;
      double sync_s = std::max(
          moved / model_bw,
          nic_s(model_axis, moved / static_cast<double>(k - 1) / (all_reduce ? 2.0 : 1.0)));
      if (all_reduce)
        sync_s = all_reduce_s(sync_s, buffer, model_in_node);
      // Bytes the chip must send: its own block (all-gather), the partial sums (reduce-scatter),
      // a ring's or NVLS's share (all-reduce).
      const double sent = move->kind == MoveKind::AllGather ? moved / static_cast<double>(k - 1)
                          : all_reduce ? all_reduce_send(moved, buffer, model_in_node)
                                       : moved;
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
        block_s = std::max(0.0, std::min(chunked - s, sync_s));
        // Chunked, the program sends every block it passes on; else as the sync case below.
        send = sent;
      } else {
        s = op_s(op);
        // The compute stream waits for the whole collective: an all-gather delivers `moved`
        // bytes into this chip, a reduce-scatter must send `moved` bytes of partial sums out.
        block_s = sync_s;
        send = sent;
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
          std::find(kSelectiveOps.begin(), kSelectiveOps.end(), op.name) != kSelectiveOps.end()) {
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

  // Gradient casts and accumulation after every layer's backward, all microbatches, per layer.
  double layer_gradient_s = 0, layer_gradient_ops = 0;
  {
    const ParamCounts counts = count_params(model);
    const double layer_params = static_cast<double>(counts.transformer + counts.biases_and_norms) /
                                static_cast<double>(model.depth) / static_cast<double>(k);
    const auto grad = execution::gradient_ops(plan, layer_params, t);
    for (std::int64_t mb = 0; mb < plan.microbatches; ++mb) {
      for (const Op& op : execution::gradient_ops_after(grad, plan, mb)) {
        layer_gradient_s += op_s(op);
        layer_gradient_ops += 1;
      }
    }
  }

  // A decoder's embedding (first chip) and final norm, LM head and loss (last chip), per
  // microbatch at the chip's shape, as the step emits them (lm_head.hpp). The LM head matmul is
  // counted whole, as the layers' linears are.
  const execution::LmHeadWork head = execution::lm_head_work(model, plan, mb_images);
  double embedding_s = 0, embedding_forward_s = 0, head_s = 0;
  double embedding_ops = 0, head_ops = 0;
  for (const Op& op : head.ops.embedding_forward) {
    embedding_forward_s += op_s(op);
    embedding_ops += 1;
  }
  embedding_s = embedding_forward_s;
  for (const Op& op : head.ops.embedding_backward) {
    embedding_s += op_s(op);
    embedding_ops += 1;
  }
  for (const auto* head_pass : {&head.ops.head_forward, &head.ops.head_backward}) {
    for (const Op& op : *head_pass) {
      head_s += op_s(op);
      head_ops += 1;
    }
  }

  // Data-axis collectives of one layer's weights and gradients (the chip's model shard).
  double weight_bytes = 0, grad_bytes = 0;
  const double share = static_cast<double>(t - 1) / static_cast<double>(t);
  if (t > 1) {
    const ParamCounts params = count_params(model);
    const double layer_params = static_cast<double>(params.transformer + params.biases_and_norms) /
                                static_cast<double>(model.depth);
    weight_bytes = layer_params / static_cast<double>(k) * 2.0;
    grad_bytes = layer_params / static_cast<double>(k) *
                 (plan.gradient_dtype == GradientDtype::Fp32 ? 4.0 : 2.0);
  }
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

std::vector<Enumerated> enumerate_plans(const ModelConfig& model, const HardwareProfile& hardware,
                                        std::int64_t chips, const SweepSpace& space_in) {
  SweepSpace space = space_in;
  if (space.global_batches.empty()) {
    if (model.train_batch <= 0) {
      throw InputError({"--batch", "", "batch"},
                       "the model has no published training batch; give one", model.name,
                       "--batch N");
    }
    space.global_batches = {model.train_batch};
  }
  if (space.shardings.empty())
    space.shardings = {Sharding::Auto};
  if (space.optimizers.empty())
    space.optimizers = {OptimizerKind::Adam};
  if (space.remats.empty())
    space.remats = {Remat::None, Remat::Selective, Remat::Full};
  if (space.pipelines.empty()) {
    // Decoder language models: the powers of two up to the depth that divide the chips (pipelines
    // are how they are trained at scale). Encoders: no pipeline (ViT-22B's recipe has none), which
    // keeps their sweeps, reports and work as before; --pipelines asks for them.
    const std::int64_t most = model.kind == ModelKind::Decoder ? model.depth : 1;
    for (std::int64_t p = 1; p <= most && p <= chips; p *= 2) {
      if (chips % p == 0)
        space.pipelines.push_back(p);
    }
  }
  if (space.schedules.empty())
    space.schedules = {PipelineSchedule::OneFOneB, PipelineSchedule::GPipe,
                       PipelineSchedule::Interleaved};
  if (space.virtual_stages.empty())
    space.virtual_stages = {2};
  // (pipeline, schedule, virtual stages) choices: p = 1 alone, else every schedule.
  struct PipeChoice {
    std::int64_t p = 1;
    PipelineSchedule schedule = PipelineSchedule::OneFOneB;
    std::int64_t v = 1;
  };
  std::vector<PipeChoice> pipes;
  for (const auto p : space.pipelines) {
    if (p == 1) {
      pipes.push_back({});
      continue;
    }
    for (const auto schedule : space.schedules) {
      if (schedule != PipelineSchedule::Interleaved) {
        pipes.push_back({p, schedule, 1});
        continue;
      }
      for (const auto v : space.virtual_stages) {
        if (p * v <= model.depth)
          pipes.push_back({p, schedule, v});
      }
    }
  }
  const auto linears = layer_linears(model);
  std::vector<Enumerated> out;
  // Meshes: t x k for every divisor k, and with two model axes t x k1 x k2 (k1 >= k2 >= 2).
  std::vector<MeshShape> meshes;
  for (const auto k : divisors(chips)) {
    meshes.push_back(MeshShape{chips / k, k, 1, false});
    if (!space.two_model_axes)
      continue;
    for (std::int64_t k2 = 2; k2 * k2 <= k; ++k2) {
      if (k % k2 == 0)
        meshes.push_back(MeshShape{chips / k, k / k2, k2, true});
    }
  }
  for (const auto gb : space.global_batches) {
    for (const auto& mesh : meshes) {
      const std::int64_t k = mesh.model();
      const bool two_axes = mesh.two_model_axes;
      for (const auto& pc : pipes) {
        // A pipeline takes its stages out of the data axis; not with two model axes.
        if (mesh.data % pc.p != 0 || (two_axes && pc.p > 1))
          continue;
        const std::int64_t t = mesh.data / pc.p;
        for (std::int64_t mb = 1; mb <= std::max<std::int64_t>(1, space.max_microbatches);
             mb *= 2) {
          // The interleaved schedule needs the microbatches in multiples of p.
          if (pc.schedule == PipelineSchedule::Interleaved && mb % pc.p != 0) {
            if (mb * t >= gb)
              break;
            continue;
          }
          Plan base;
          base.name = "sweep";
          base.mesh = mesh;
          base.mesh.data = t;
          base.mesh.pipeline = pc.p;
          base.global_batch = gb;
          base.microbatches = mb;
          base.schedule = pc.schedule;
          base.virtual_stages = pc.v;
          base.origins["microbatches"] = ErrorSite{"sweep", "", "microbatches"};
          Enumerated first;
          try {
            first.plan = finalize_plan(base, model, linears, hardware, chips);
          } catch (const InputError& e) {
            first.plan = base;
            first.reason = classify(e);
            first.detail = e.problem();
          }
          // Layouts: sharded; with k > 1 on one model axis also replicated with sequence
          // parallelism (checked by finalize_plan: the model axis must divide the tokens).
          std::vector<Enumerated> layouts = {first};
          if (space.sequence_parallel && first.reason.empty() && k > 1 && !two_axes) {
            Enumerated seq = first;
            seq.plan.activation_layout = ActivationLayout::Replicated;
            seq.plan.sequence_parallel = true;
            try {
              seq.plan = finalize_plan(seq.plan, model, linears, hardware, chips);
              layouts.push_back(std::move(seq));
            } catch (const InputError&) {
            }
          }
          for (const auto& proto : layouts) {
            for (const auto sharding : space.shardings) {
              // Replicated activations fix every linear's sharding: auto only.
              if (proto.plan.sequence_parallel && sharding != Sharding::Auto)
                continue;
              Plan sp = proto.plan;
              sp.sharding = sharding;
              if (sharding != Sharding::Auto) {
                // Row/column variants only where they differ from auto (and never without a
                // model axis).
                if (k == 1)
                  continue;
                Plan autop = proto.plan;
                autop.sharding = Sharding::Auto;
                if (proto.reason.empty() && same_resolution(model, sp, autop))
                  continue;
              }
              for (const bool async : {true, false}) {
                if (!async && k == 1)
                  continue;  // nothing moves on the model axis: async has no effect
                if (async && two_axes)
                  continue;  // two model axes run synchronous collectives (docs/execution.md)
                for (const bool fsdp : {false, true}) {
                  if (fsdp && t == 1)
                    continue;  // no data axis to shard over
                  // With FSDP and microbatches, both gradient reductions (docs/sweep.md): every
                  // microbatch (data-axis traffic) or after the last (accumulated gradients).
                  std::vector<GradSync> syncs = {GradSync::PerMicrobatch};
                  if (fsdp && mb > 1)
                    syncs.push_back(GradSync::Last);
                  for (const auto remat : space.remats) {
                    for (const auto opt : space.optimizers) {
                      for (const auto sync : syncs) {
                        Enumerated e = proto;
                        e.plan.sharding = sharding;
                        e.plan.async_collective_matmul = async;
                        e.plan.fsdp = fsdp;
                        e.plan.remat = remat;
                        e.plan.optimizer.kind = opt;
                        e.plan.grad_sync = sync;
                        out.push_back(std::move(e));
                      }
                    }
                  }
                }
              }
            }
          }
          // Larger microbatch counts than the per-chip batch cannot divide it.
          if (mb * t >= gb)
            break;
        }
      }
    }
  }
  return out;
}

namespace {

struct Candidate {
  std::size_t index = 0;  // enumeration order
  Plan plan;
  MemoryBreakdown memory;
  StepBound bound;
  double max_tokens_per_s = 0;  // global batch x tokens / bound
};

// K-th largest of `values` (K >= 1); -1 when fewer than K.
double kth_best(std::vector<double> values, std::int64_t k) {
  if (static_cast<std::int64_t>(values.size()) < k)
    return -1;
  std::nth_element(values.begin(), values.begin() + (k - 1), values.end(), std::greater<>());
  return values[static_cast<std::size_t>(k - 1)];
}

}  // namespace

SweepResult run_sweep(const ModelConfig& model, const HardwareProfile& hardware,
                      const SweepOptions& options) {
  const auto start = std::chrono::steady_clock::now();
  if (options.chips < 1) {
    throw InputError({"--chips", "", "chips"}, "must be positive", std::to_string(options.chips),
                     "1 or more");
  }
  if (options.top < 1) {
    throw InputError({"--top", "", "top"}, "must be positive", std::to_string(options.top),
                     "1 or more");
  }
  const std::int64_t max_chips =
      hardware.kind == InterconnectKind::Torus ? hardware.torus.max_chips : hardware.gpu.max_gpus;
  if (max_chips > 0 && options.chips > max_chips) {
    throw InputError({"--chips", "", "chips"},
                     "more chips than the largest " + hardware.display_name + " system has",
                     std::to_string(options.chips), "at most " + std::to_string(max_chips));
  }
  limits::check_simulated_chips(options.chips, {"--chips", "", "chips"});
  SweepResult result;
  result.chips = options.chips;
  const auto linears = layer_linears(model);
  const ParamCounts params = count_params(model);
  const auto all = enumerate_plans(model, hardware, options.chips, options.space);
  result.considered = static_cast<std::int64_t>(all.size());

  auto reject = [&](const std::string& reason, const std::string& detail, const Plan& plan) {
    auto& count = result.rejected[reason];
    ++count;
    if (count <= 3)
      result.rejected_examples.push_back({reason, detail, plan.mesh.text(), plan_summary(plan)});
  };
  std::vector<Candidate> candidates;
  for (std::size_t i = 0; i < all.size(); ++i) {
    const auto& e = all[i];
    if (!e.reason.empty()) {
      reject(e.reason, e.detail, e.plan);
      continue;
    }
    Candidate c;
    c.index = i;
    c.plan = e.plan;
    c.memory = c.plan.mesh.pipeline > 1
                   ? execution::largest_stage_memory(model, hardware, c.plan)
                   : memory_per_chip(model, linears, params, c.plan, hardware.chip.hbm_bytes);
    if (!c.memory.fits) {
      reject("memory",
             "needs " + gb_text(c.memory.total_bytes) + " per chip, " +
                 gb_text(c.memory.capacity_bytes) + " available",
             c.plan);
      continue;
    }
    c.bound = step_lower_bound(model, hardware, c.plan, c.memory);
    if (!(c.bound.step_s <= limits::kMaxSimulatedSeconds)) {
      // Beyond what SimTime counts (issue 17 item 6): simulating it would fail.
      reject("time_beyond_range",
             "a step of at least " + std::to_string(c.bound.step_s / 86400) +
                 " days, beyond the simulator's 106 days",
             c.plan);
      continue;
    }
    c.max_tokens_per_s = static_cast<double>(c.plan.global_batch) *
                         static_cast<double>(model.tokens) / c.bound.step_s;
    candidates.push_back(std::move(c));
  }
  result.fitting = static_cast<std::int64_t>(candidates.size());
  // The sweep's work (issue 17 item 10). Candidates are simulated best bound first, and one is
  // pruned once K simulated plans beat its bound. If every simulated step is at most
  // kSweepBoundSlack times its lower bound, the K best bounds' plans reach 1/slack of the K-th best
  // bound, so only candidates whose bound reaches that can be simulated. Their count times the
  // largest estimate among the K best bounds' plans (estimated, not simulated; these are the
  // biggest meshes' plans the bound ranks first) is the work expected (docs/limits.md).
  {
    std::vector<double> bounds;
    for (const auto& c : candidates)
      bounds.push_back(c.max_tokens_per_s);
    const double kth = kth_best(bounds, options.top);
    for (const auto& c : candidates) {
      if (kth < 0 || c.max_tokens_per_s * limits::kSweepBoundSlack >= kth)
        ++result.expected_simulations;
    }
    std::vector<std::size_t> order(candidates.size());
    for (std::size_t i = 0; i < order.size(); ++i)
      order[i] = i;
    const auto first_k = std::min<std::size_t>(order.size(), static_cast<std::size_t>(options.top));
    std::partial_sort(order.begin(), order.begin() + static_cast<std::ptrdiff_t>(first_k),
                      order.end(), [&](std::size_t a, std::size_t b) {
                        return candidates[a].max_tokens_per_s > candidates[b].max_tokens_per_s;
                      });
    double per_step = 0;
    for (std::size_t i = 0; i < first_k; ++i) {
      double events = limits::kMaxStepEvents;
      try {
        events = execution::estimate_step_events(model, hardware, candidates[order[i]].plan);
      } catch (const InputError&) {
        // Beyond a per-step limit: simulating it fails as it always has. Count it at the limit.
      }
      per_step = std::max(per_step, std::min(events, limits::kMaxStepEvents));
    }
    result.estimated_events = per_step * static_cast<double>(result.expected_simulations);
  }
  if (options.max_seconds <= 0 && result.estimated_events > limits::kMaxSweepEvents) {
    throw InputError(
        options.chips_site,
        "the sweep would take about " +
            std::to_string(static_cast<long long>(result.estimated_events / 1e9)) +
            "e9 simulation events to simulate the " + std::to_string(result.expected_simulations) +
            " of its " + std::to_string(candidates.size()) +
            " candidate plans that pruning may not remove, more than the limit (docs/limits.md)",
        std::to_string(options.chips) + " chips",
        "at most " + limits::limit_text(limits::kMaxSweepEvents) +
            " events: " + options.fewer_chips +
            ", a smaller --max-microbatches, fewer --remats, "
            "--shardings or --optimizers, a narrower --batch range, or --max-seconds S to stop "
            "with "
            "the best plans found in S seconds");
  }
  // The bound's NIC term for collective-matmul rings between NVLink nodes (step_lower_bound with
  // the machine, the same for every candidate of a GPU cluster: its GPUs), where it can matter:
  // candidates whose bound reaches 1/slack of the K-th best bound (the others are pruned under
  // the slack assumption above, and without the term their bound is still valid). A function of
  // the candidates alone, so the order and the pruning stay deterministic. After the work
  // estimate, which the cheap bounds give: a refused sweep is refused before this work.
  if (hardware.kind == InterconnectKind::GpuCluster) {
    std::vector<double> bounds;
    for (const auto& c : candidates)
      bounds.push_back(c.max_tokens_per_s);
    const double kth = kth_best(bounds, options.top);
    std::optional<network::Topology> machine;
    for (auto& c : candidates) {
      if (!c.plan.async_collective_matmul || c.plan.mesh.model2 > 1 ||
          c.plan.mesh.model() <= hardware.gpu.gpus_per_node ||
          (kth >= 0 && c.max_tokens_per_s * limits::kSweepBoundSlack < kth))
        continue;
      if (!machine)
        machine = execution::build_topology(hardware, c.plan);
      c.bound = step_lower_bound(model, hardware, c.plan, c.memory, &*machine);
      c.max_tokens_per_s = static_cast<double>(c.plan.global_batch) *
                           static_cast<double>(model.tokens) / c.bound.step_s;
    }
  }
  // Most promising first: the K-th best is found early and prunes the tail.
  std::stable_sort(candidates.begin(), candidates.end(), [](const auto& a, const auto& b) {
    return a.max_tokens_per_s > b.max_tokens_per_s;
  });

  // The simulations, on this process's threads or across ranks (sim/sweep/distribution.hpp):
  // a position is skipped only where the rule below prunes it.
  const std::size_t n = candidates.size();
  WorkItems items;
  items.count = n;
  items.simulate = [&](std::size_t pos) {
    auto r = execution::simulate_step(model, hardware, candidates[pos].plan);
    r.trace.clear();
    return r;
  };
  for (const auto& c : candidates) {
    items.bound.push_back(c.max_tokens_per_s);
    items.labels.push_back(plan_summary(c.plan));
  }
  items.top = options.top;
  items.expected_simulations = result.expected_simulations;
  items.threads = options.threads;
  items.max_seconds = options.max_seconds;
  items.start = start;
  items.progress = options.progress;
  Evaluation evaluation = options.distribution != nullptr ? options.distribution->evaluate(items)
                                                          : evaluate_locally(items);
  std::vector<execution::StepResult> results(n);
  std::vector<std::uint8_t> has_result(n, 0);
  // Candidates the step simulator refuses (beyond a per-step limit, docs/limits.md): rejected,
  // never ranked; the refusal depends on the plan alone, so the ranking stays deterministic.
  std::vector<std::string> refused(n);
  for (std::size_t pos = 0; pos < n; ++pos) {
    auto& item = evaluation.items[pos];
    if (item.state == ItemOutcome::State::Failed)
      std::rethrow_exception(item.error);  // the first failing position's
    if (item.state == ItemOutcome::State::Refused) {
      try {
        std::rethrow_exception(item.error);
      } catch (const InputError& e) {
        refused[pos] = e.problem();
      }
    }
    if (item.state == ItemOutcome::State::Done) {
      results[pos] = std::move(item.result);
      has_result[pos] = 1;
    }
  }
  const bool out_of_time = evaluation.out_of_time;

  // The deterministic decision (docs/sweep.md "Pruning"): in bound order, a candidate is pruned iff
  // its bound is below the K-th best throughput among the candidates accepted before it. A worker
  // only skips a candidate that this rule prunes, so every accepted one has its result.
  std::vector<double> accepted_tps;
  std::vector<std::size_t> accepted;
  for (std::size_t pos = 0; pos < n; ++pos) {
    const double kth = kth_best(accepted_tps, options.top);
    if (kth >= 0 && candidates[pos].max_tokens_per_s < kth) {
      ++result.pruned;
      if (has_result[pos])
        ++result.speculative;
      continue;
    }
    if (!has_result[pos] && refused[pos].empty() && !out_of_time) {
      // Unreachable while the bound holds; simulate rather than report a wrong ranking.
      try {
        results[pos] = execution::simulate_step(model, hardware, candidates[pos].plan);
        results[pos].trace.clear();
        has_result[pos] = 1;
      } catch (const InputError& e) {
        refused[pos] = e.problem();
      }
    }
    if (!refused[pos].empty()) {
      reject("step_too_large", refused[pos], candidates[pos].plan);
      continue;
    }
    if (!has_result[pos] && out_of_time) {
      ++result.unfinished;  // not reached before --max-seconds
      continue;
    }
    accepted.push_back(pos);
    accepted_tps.push_back(results[pos].tokens_per_s);
  }
  result.simulated = static_cast<std::int64_t>(accepted.size());
  result.partial = out_of_time;
  std::sort(accepted.begin(), accepted.end(), [&](std::size_t a, std::size_t b) {
    if (results[a].tokens_per_s != results[b].tokens_per_s)
      return results[a].tokens_per_s > results[b].tokens_per_s;
    return candidates[a].index < candidates[b].index;
  });
  for (std::size_t i = 0; i < accepted.size() && static_cast<std::int64_t>(i) < options.top; ++i) {
    const auto pos = accepted[i];
    result.top.push_back({candidates[pos].plan, candidates[pos].bound, std::move(results[pos])});
  }
  result.wall_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return result;
}

WhyLost why_lost(const execution::StepResult& best, const execution::StepResult& runner_up) {
  WhyLost w;
  w.step_time_delta_s = runner_up.step_time_s - best.step_time_s;
  w.compute_delta_s = runner_up.slowest.compute_s - best.slowest.compute_s;
  w.exposed_model_axis_delta_s = runner_up.slowest.exposed_model_s - best.slowest.exposed_model_s;
  w.exposed_data_axis_delta_s = runner_up.slowest.exposed_data_s - best.slowest.exposed_data_s;
  w.headroom_delta_bytes = runner_up.memory.headroom_bytes - best.memory.headroom_bytes;
  const double biggest =
      std::max({w.compute_delta_s, w.exposed_model_axis_delta_s, w.exposed_data_axis_delta_s, 0.0});
  char buf[512];
  if (biggest <= 0 || w.step_time_delta_s <= 1e-12 * best.step_time_s) {
    w.dominant = "tie";
    std::snprintf(buf, sizeof buf,
                  "the runner-up is as fast (step %.6g s vs %.6g s); it ranks second by "
                  "enumeration order",
                  runner_up.step_time_s, best.step_time_s);
  } else {
    const char* what = "compute";
    if (biggest == w.exposed_model_axis_delta_s)
      what = "model-axis communication";
    else if (biggest == w.exposed_data_axis_delta_s)
      what = "data-axis communication";
    w.dominant = what;
    std::string extra;
    if (w.dominant == "compute" && runner_up.slowest.recompute_s > best.slowest.recompute_s) {
      extra = " (recomputation: " + std::to_string(runner_up.slowest.recompute_s) +
              " s, the price of fitting its activations in memory)";
    }
    // The dominant part named once, then each part's difference once.
    std::snprintf(buf, sizeof buf,
                  "step %.4g s slower (%.3g%%), mostly %s%s: compute %+.4g s, exposed model-axis "
                  "%+.4g s, exposed data-axis %+.4g s",
                  w.step_time_delta_s, 100.0 * w.step_time_delta_s / best.step_time_s, what,
                  extra.c_str(), w.compute_delta_s, w.exposed_model_axis_delta_s,
                  w.exposed_data_axis_delta_s);
  }
  w.summary = buf;
  return w;
}

}  // namespace meshsim::sweep
