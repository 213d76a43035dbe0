#include "sim/plan/memory.hpp"

#include <algorithm>

#include "sim/plan/sharding.hpp"

namespace meshsim {
namespace {

constexpr double kBf16Bytes = 2;
constexpr double kFp32Bytes = 4;

bool kept_by(Remat remat, ActivationSource source) {
  switch (remat) {
    case Remat::None:
      return true;
    case Remat::Full:
      return source == ActivationSource::LayerInput;
    case Remat::Selective:
      return source == ActivationSource::LayerInput || source == ActivationSource::Residual ||
             source == ActivationSource::NormOutput || source == ActivationSource::LinearOutput;
  }
  return true;
}

}  // namespace

const std::vector<std::string>& selective_recompute_ops() {
  static const std::vector<std::string> ops = {
      "qk_norm",     "split_heads",     "attn_scores", "softmax", "attn_values",
      "merge_heads", "flash_attention", "gelu",        "relu",    "swiglu"};
  return ops;
}

double gradient_element_bytes(const Plan& plan) {
  return plan.gradient_dtype == GradientDtype::Fp32 ? kFp32Bytes : kBf16Bytes;
}

LayerShard layer_shard(const ParamCounts& params, std::int64_t depth, const Plan& plan) {
  LayerShard s;
  s.params = static_cast<double>(params.transformer + params.biases_and_norms) /
             static_cast<double>(std::max<std::int64_t>(1, depth)) /
             static_cast<double>(std::max<std::int64_t>(1, plan.mesh.model()));
  s.weight_bytes = kBf16Bytes * s.params;
  s.gradient_bytes = gradient_element_bytes(plan) * s.params;
  return s;
}

LayerShard layer_shard(const ModelConfig& model, const Plan& plan) {
  return layer_shard(count_params(model), model.depth, plan);
}

const char* to_string(ActivationSource source) {
  switch (source) {
    case ActivationSource::LayerInput:
      return "layer input";
    case ActivationSource::Residual:
      return "residual";
    case ActivationSource::NormOutput:
      return "norm output";
    case ActivationSource::LinearOutput:
      return "linear output";
    case ActivationSource::QkNorm:
      return "qk-norm output";
    case ActivationSource::Softmax:
      return "softmax output";
    case ActivationSource::AttentionOrGelu:
      return "attention context / GELU output";
  }
  return "?";
}

std::vector<ActivationTensor> layer_activations(const ModelConfig& model,
                                                const std::vector<Linear>& linears,
                                                const Plan& plan) {
  const double k = static_cast<double>(std::max<std::int64_t>(1, plan.mesh.model()));
  const double d = static_cast<double>(model.width);
  const std::int64_t head_dim =
      model.head_dim > 0 ? model.head_dim : model.width / std::max<std::int64_t>(1, model.heads);
  const double qd = static_cast<double>(model.heads * head_dim);  // width of Q
  // Per chip: Q, K and V features (K/V heads split over the model axis, or one replicated head per
  // chip when the axis is larger than kv_heads; 3 qd / k without GQA) and the MLP input
  // projection's outputs (F / k, 2F / k for SwiGLU).
  const std::int64_t kv_heads = model.kv_heads > 0 ? model.kv_heads : model.heads;
  const double kv_k = kv_heads >= static_cast<std::int64_t>(k)
                          ? static_cast<double>(kv_heads * head_dim) / k
                          : static_cast<double>(head_dim);
  const bool mha = kv_heads == model.heads;
  const double qkv_k = mha ? 3 * qd / k : qd / k + 2 * kv_k;
  const double qk_norm_k = mha ? 2 * qd / k : qd / k + kv_k;
  const double fin = static_cast<double>(mlp_in_width(model));
  const auto resolved = resolve_sharding(linears, plan);
  auto in = [&](const char* name) {
    return static_cast<double>(find_linear(resolved, name).saved_input_elements_per_token);
  };

  // Boundary activations (layer input, the residual between the two segments): the D/k slice, or
  // all D when they are replicated across the model axis (docs/plans.md "Activation layout").
  // With sequence parallelism they are split along the tokens instead: D per token on 1/k of
  // the tokens, D/k per token of the microbatch (Korthikanti et al. 2022, §4.2.2).
  const bool replicated = plan.activation_layout == ActivationLayout::Replicated;
  const bool seq_split = replicated && plan.sequence_parallel;
  const double boundary = replicated && !seq_split ? d : d / k;
  // Attention scores kept for the backward pass: the softmax output (heads x tokens per token),
  // or, with FlashAttention, only the fp32 log-sum-exp of every row (one per head per token, two
  // bf16 elements' worth).
  const bool flash = plan.attention == AttentionKernel::Flash;
  const double heads = static_cast<double>(model.heads);
  std::vector<ActivationTensor> t;
  auto add = [&](std::string name, ActivationSource source, double elements) {
    // The tensors sequence parallelism splits along the tokens: the boundary activations and
    // the norm outputs (the latter stored split only when the weight gradient re-gathers them).
    const bool split =
        seq_split && k > 1 &&
        (source == ActivationSource::LayerInput || source == ActivationSource::Residual ||
         (source == ActivationSource::NormOutput && elements < d));
    t.push_back({std::move(name), source, elements, kept_by(plan.remat, source), split});
  };
  auto scores = [&]() {
    if (flash) {
      add("flash_attention.logsumexp", ActivationSource::AttentionOrGelu, 2 * heads / k);
    } else {
      add("softmax.output", ActivationSource::Softmax,
          static_cast<double>(model.heads * model.tokens) / k);
    }
  };
  // Per token; the softmax output holds heads x tokens scores per token (the s^2 term of
  // Korthikanti et al. 2022, without dropout). The input of each linear is what its weight-gradient
  // matmul reads: gathered when the plan keeps it, the chip's slice otherwise (sharding.hpp).
  add("layer_input", ActivationSource::LayerInput, boundary);
  if (model.block == BlockKind::Parallel) {
    add("fused_in_proj.input", ActivationSource::NormOutput, in("fused_in_proj"));
    add("fused_in_proj.output", ActivationSource::LinearOutput,
        mha ? (3 * qd + fin) / k : qkv_k + fin / k);
    if (model.qk_norm)
      add("qk_norm.output", ActivationSource::QkNorm, qk_norm_k);
    scores();
    add("fused_out_proj.input", ActivationSource::AttentionOrGelu, in("fused_out_proj"));
  } else {
    add("qkv.input", ActivationSource::NormOutput, in("qkv"));
    add("qkv.output", ActivationSource::LinearOutput, qkv_k);
    if (model.qk_norm)
      add("qk_norm.output", ActivationSource::QkNorm, qk_norm_k);
    scores();
    add("attn_out.input", ActivationSource::AttentionOrGelu, in("attn_out"));
    add("residual.mid", ActivationSource::Residual, boundary);
    add("mlp_in.input", ActivationSource::NormOutput, in("mlp_in"));
    add("mlp_in.output", ActivationSource::LinearOutput, fin / k);
    add("mlp_out.input", ActivationSource::AttentionOrGelu, in("mlp_out"));
  }
  return t;
}

MemoryBreakdown memory_per_chip(const ModelConfig& model, const std::vector<Linear>& linears,
                                const ParamCounts& params, const Plan& plan,
                                double capacity_bytes) {
  MemoryBreakdown m;
  const double t = static_cast<double>(std::max<std::int64_t>(1, plan.mesh.data));
  const double k = static_cast<double>(std::max<std::int64_t>(1, plan.mesh.model()));
  const double depth = static_cast<double>(std::max<std::int64_t>(1, model.depth));
  const double shard = k * (plan.fsdp ? t : 1.0);  // how many chips split each parameter
  const double p = static_cast<double>(params.total);
  const double grad_bytes = gradient_element_bytes(plan);

  m.params_per_chip = p / shard;
  m.weights_bytes = kBf16Bytes * m.params_per_chip;
  if (plan.fsdp && t > 1) {
    // One layer's parameters as this chip's model-axis shard, gathered over the data axis: the
    // layer being computed plus the next one prefetched. Gradients before their reduce-scatter:
    // one layer's when every microbatch reduce-scatters (or there is one microbatch); every
    // layer's, accumulated over the microbatches, when only the last one does (docs/plans.md
    // "Gradient sync").
    const double layer_params = layer_shard(params, model.depth, plan).params;
    m.weight_gather_buffer_bytes = 2 * kBf16Bytes * layer_params;
    const bool accumulate_all = plan.grad_sync == GradSync::Last && plan.microbatches > 1;
    m.gradient_buffer_bytes = (accumulate_all ? depth : 1.0) * grad_bytes * layer_params;
  }
  if (plan.optimizer.master_weights_fp32)
    m.master_weights_bytes = kFp32Bytes * m.params_per_chip;
  switch (plan.optimizer.kind) {
    case OptimizerKind::Adam:  // first and second moment, fp32 (ZeRO, Rajbhandari et al. 2020)
      m.optimizer_state_bytes = 2 * kFp32Bytes * m.params_per_chip;
      break;
    case OptimizerKind::Sgd:  // momentum, fp32
      m.optimizer_state_bytes = kFp32Bytes * m.params_per_chip;
      break;
    case OptimizerKind::Adafactor: {
      // Factored second moment: a row and a column vector per weight matrix (of this chip's
      // block); unfactored (one value per parameter) for everything outside the layer matrices.
      // Shazeer & Stern 2018.
      double factored = 0;
      for (const auto& r : resolve_sharding(linears, plan)) {
        factored += static_cast<double>(r.weight_rows + r.weight_cols);
      }
      const double others = static_cast<double>(params.total - params.transformer) / k;
      m.optimizer_state_bytes = kFp32Bytes * (depth * factored + others) / (plan.fsdp ? t : 1.0);
      if (plan.optimizer.adafactor_momentum)
        m.optimizer_state_bytes += kFp32Bytes * m.params_per_chip;
      break;
    }
  }
  m.gradients_bytes = grad_bytes * m.params_per_chip;

  const std::int64_t split =
      std::max<std::int64_t>(1, plan.mesh.data) * std::max<std::int64_t>(1, plan.microbatches);
  m.microbatch_images = plan.global_batch / split;
  m.microbatch_tokens = m.microbatch_images * model.tokens;
  m.layer_activations = layer_activations(model, linears, plan);
  const double tokens = static_cast<double>(m.microbatch_tokens);
  for (const auto& a : m.layer_activations) {
    (a.kept ? m.kept_bytes_per_layer : m.recompute_bytes_one_layer) +=
        kBf16Bytes * a.elements_per_token * tokens;
  }
  // Kept tensors of every layer, plus the dropped ones of the one layer being recomputed.
  m.activations_bytes = depth * m.kept_bytes_per_layer + m.recompute_bytes_one_layer;
  if (model.kind == ModelKind::Decoder) {
    // The LM head of one microbatch (its backward follows its forward at once): the final norm's
    // input (the D/k slice, or D replicated), the head's gathered input [R x D] and the logits
    // [R x V_k] (bf16; the loss's gradient overwrites them), docs/plans.md "Decoders".
    const double boundary =
        plan.activation_layout == ActivationLayout::Replicated && !plan.sequence_parallel
            ? static_cast<double>(model.width)
            : static_cast<double>(model.width) / k;
    const double v_k = static_cast<double>(vocab_per_chip(model, plan.mesh.model()));
    m.lm_head_activation_bytes =
        kBf16Bytes * tokens * (boundary + static_cast<double>(model.width) + v_k);
    m.activations_bytes += m.lm_head_activation_bytes;
    if (plan.fsdp && t > 1) {
      // The embedding and LM-head weights gathered over the data axis for the microbatch.
      m.weight_gather_buffer_bytes +=
          kBf16Bytes * static_cast<double>(params.embedding + params.head) / k;
    }
  }

  if (plan.sequence_parallel && k > 1) {
    // What the token split saves: the same plan's activations without it.
    Plan whole = plan;
    whole.sequence_parallel = false;
    const MemoryBreakdown w = memory_per_chip(model, linears, params, whole, capacity_bytes);
    m.sequence_parallel_saving_bytes = w.activations_bytes - m.activations_bytes;
  }

  m.total_bytes = m.weights_bytes + m.weight_gather_buffer_bytes + m.gradient_buffer_bytes +
                  m.master_weights_bytes + m.optimizer_state_bytes + m.gradients_bytes +
                  m.activations_bytes + m.runtime_reserve_bytes;
  m.capacity_bytes = capacity_bytes;
  m.fits = m.total_bytes <= capacity_bytes;
  m.headroom_bytes = m.fits ? capacity_bytes - m.total_bytes : 0;
  m.overflow_bytes = m.fits ? 0 : m.total_bytes - capacity_bytes;
  return m;
}

MemoryBreakdown memory_per_stage(const ModelConfig& model, const HardwareProfile& hardware,
                                 const Plan& plan, const StageShare& share) {
  const ParamCounts params = count_params(model);
  MemoryBreakdown m = memory_per_chip(model, hardware, plan);
  const double depth = static_cast<double>(std::max<std::int64_t>(1, model.depth));
  const double t = static_cast<double>(std::max<std::int64_t>(1, plan.mesh.data));
  const double k = static_cast<double>(std::max<std::int64_t>(1, plan.mesh.model()));
  const double shard = k * (plan.fsdp ? t : 1.0);
  const double layers = static_cast<double>(share.layers);
  const double emb = static_cast<double>(params.embedding), head = static_cast<double>(params.head);
  // The stage's parameters: its layers' share of everything outside the embedding and head, plus
  // the embedding on the first stage and the LM head on the last.
  const double stage_params = (static_cast<double>(params.total) - emb - head) * layers / depth +
                              (share.first ? emb : 0.0) + (share.last ? head : 0.0);
  const double ratio = stage_params / static_cast<double>(params.total);
  m.params_per_chip = stage_params / shard;
  m.weights_bytes *= ratio;
  m.master_weights_bytes *= ratio;
  m.optimizer_state_bytes *= ratio;  // Adafactor's factored state scaled alike (approximation)
  m.gradients_bytes *= ratio;
  if (plan.fsdp && t > 1 && plan.grad_sync == GradSync::Last && plan.microbatches > 1)
    m.gradient_buffer_bytes *= layers / depth;
  if (model.kind == ModelKind::Decoder && plan.fsdp && t > 1) {
    // The embedding (first stage) and LM head (last) gathered over the data axis.
    m.weight_gather_buffer_bytes -= kBf16Bytes * (emb + head) / k;
    m.weight_gather_buffer_bytes +=
        kBf16Bytes * ((share.first ? emb : 0.0) + (share.last ? head : 0.0)) / k;
  }
  // Kept tensors of every layer of every chunk-microbatch in flight, plus one layer recomputed;
  // the LM head's on the last stage.
  m.activations_bytes = share.in_flight_layers * m.kept_bytes_per_layer +
                        m.recompute_bytes_one_layer +
                        (share.last ? m.lm_head_activation_bytes : 0.0);
  if (!share.last)
    m.lm_head_activation_bytes = 0;
  m.total_bytes = m.weights_bytes + m.weight_gather_buffer_bytes + m.gradient_buffer_bytes +
                  m.master_weights_bytes + m.optimizer_state_bytes + m.gradients_bytes +
                  m.activations_bytes + m.runtime_reserve_bytes;
  m.fits = m.total_bytes <= m.capacity_bytes;
  m.headroom_bytes = m.fits ? m.capacity_bytes - m.total_bytes : 0;
  m.overflow_bytes = m.fits ? 0 : m.total_bytes - m.capacity_bytes;
  return m;
}

}  // namespace meshsim
