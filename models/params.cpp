// Parameter counts, FLOP per token and the linears of one encoder block (docs/models.md).
#include <cstdint>
#include <vector>

#include "models/model.hpp"

namespace meshsim {
namespace {

// Parameters of one LayerNorm over `features`: a scale, plus a bias unless the model drops it.
// (Without centering the norm is RMS-style; that changes the arithmetic, not the parameters.)
std::int64_t norm_params(const ModelConfig& m, std::int64_t features) {
  return features * (m.layernorm_bias ? 2 : 1);
}

}  // namespace

std::int64_t attention_width(const ModelConfig& model) {
  return model.heads * model.head_dim;
}

std::int64_t kv_width(const ModelConfig& model) {
  const std::int64_t kv = model.kv_heads > 0 ? model.kv_heads : model.heads;
  return kv * model.head_dim;
}

std::int64_t mlp_in_width(const ModelConfig& model) {
  return model.mlp == MlpKind::Swiglu ? 2 * model.mlp_dim : model.mlp_dim;
}

std::int64_t kv_heads_per_chip(const ModelConfig& model, std::int64_t model_axis) {
  const std::int64_t kv = model.kv_heads > 0 ? model.kv_heads : model.heads;
  const std::int64_t k = model_axis > 0 ? model_axis : 1;
  return kv >= k ? kv / k : 1;
}

std::int64_t vocab_per_chip(const ModelConfig& model, std::int64_t model_axis) {
  const std::int64_t k = model_axis > 0 ? model_axis : 1;
  return (model.vocab + k - 1) / k;
}

std::vector<Linear> layer_linears(const ModelConfig& m) {
  const std::int64_t d = m.width, f = m.mlp_dim, a = attention_width(m);
  // Q is A wide, K and V kv_width each (A without GQA/MQA); SwiGLU's mlp_in holds the gate and
  // up matrices (2F outputs).
  const std::int64_t qkv = a + 2 * kv_width(m), fin = mlp_in_width(m);
  if (m.block == BlockKind::Parallel) {
    // DESIGN §1: Q, K, V and the first MLP matmul fused (D -> 3A + F); the attention output and the
    // second MLP matmul fused (A + F -> D). Both output biases add into the same D outputs.
    return {{"fused_in_proj", d, qkv + fin, m.qkv_bias || m.mlp_bias},
            {"fused_out_proj", a + f, d, m.out_proj_bias || m.mlp_bias}};
  }
  return {{"qkv", d, qkv, m.qkv_bias},
          {"attn_out", a, d, m.out_proj_bias},
          {"mlp_in", d, fin, m.mlp_bias},
          {"mlp_out", f, d, m.mlp_bias}};
}

ParamCounts count_params(const ModelConfig& m) {
  const std::int64_t d = m.width, f = m.mlp_dim, a = attention_width(m);
  ParamCounts p;
  std::int64_t weights_per_layer = 0;
  for (const Linear& l : layer_linears(m))
    weights_per_layer += l.in_features * l.out_features;
  p.transformer = m.depth * weights_per_layer;

  // Biases, split per part so that a fused matmul carries only the biases its parts have.
  std::int64_t biases = (m.qkv_bias ? a + 2 * kv_width(m) : 0) + (m.mlp_bias ? mlp_in_width(m) : 0);
  if (m.block == BlockKind::Parallel) {
    biases += (m.out_proj_bias || m.mlp_bias) ? d : 0;  // one D-vector after the fused output
  } else {
    biases += (m.out_proj_bias ? d : 0) + (m.mlp_bias ? d : 0);
  }
  const std::int64_t layer_norms = m.block == BlockKind::Parallel ? 1 : 2;
  std::int64_t norms = layer_norms * norm_params(m, d);
  // QK-LayerNorm: one norm over head_dim for queries and one for keys, shared by all heads
  // (as in the ViT-22B reference implementation, which normalises the last axis only).
  if (m.qk_norm)
    norms += 2 * norm_params(m, m.head_dim);
  p.biases_and_norms = m.depth * (biases + norms);

  const std::int64_t positions = m.position == PositionKind::Learned ? m.tokens * d : 0;
  if (m.kind == ModelKind::Decoder) {
    // Token embedding (vocab x D) and learned positions; the LM head (vocab x D, no bias) after
    // the final norm unless it reuses the embedding matrix.
    p.embedding = m.vocab * d + positions;
    p.head = norm_params(m, d) + (m.tied_embeddings ? 0 : m.vocab * d);
    p.total = p.transformer + p.biases_and_norms + p.embedding + p.head;
    return p;
  }

  // Patch projection (a patch x patch x channels -> D convolution with bias), learned position
  // embedding for every token, and the class token when present.
  p.embedding = m.patch * m.patch * m.channels * d + d + positions + (m.class_token ? d : 0);

  // Final norm, the optional MAP head (probe, attention with biases, LayerNorm, MLP with biases)
  // and the optional classifier (weights and bias).
  p.head = norm_params(m, d);
  if (m.map_head) {
    p.head += d + (d * 3 * a + 3 * a) + (a * d + d) + 2 * d + (d * f + f) + (f * d + d);
  }
  if (m.num_classes > 0)
    p.head += m.num_classes * (d + 1);
  p.total = p.transformer + p.biases_and_norms + p.embedding + p.head;
  return p;
}

FlopPerToken flop_per_token(const ModelConfig& m) {
  // DESIGN §1: forward = 2 x matmul params (every weight is one multiply-add per token)
  // + attention 4 x tokens x A per layer (scores Q K^T and values P V, 2 x T x A each).
  // A decoder's N adds the LM head (vocab x D: a matmul for every token, tied or not); the
  // embedding lookup is not a matmul. The attention is counted in full, the causal mask ignored,
  // as PaLM (Chowdhery et al. 2022, arXiv 2204.02311, appendix B: 6N + 12 L H Q T) and Megatron
  // (Narayanan et al. 2021, arXiv 2104.04473, eq. 3: the s / 6h term) count it; `train_causal`
  // counts only the unmasked half of the scores and values.
  FlopPerToken f;
  double params = static_cast<double>(count_params(m).transformer);
  if (m.kind == ModelKind::Decoder)
    params += static_cast<double>(m.vocab) * static_cast<double>(m.width);
  f.matmul_params = params;
  const double attention = 4.0 * static_cast<double>(m.tokens) *
                           static_cast<double>(attention_width(m)) * static_cast<double>(m.depth);
  f.forward = 2.0 * params + attention;
  f.train = 3.0 * f.forward;  // backward = 2 x forward (input and weight gradients)
  f.train_causal = m.kind == ModelKind::Decoder ? 3.0 * (2.0 * params + attention / 2.0) : f.train;
  return f;
}

}  // namespace meshsim
