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

std::vector<Linear> layer_linears(const ModelConfig& m) {
  const std::int64_t d = m.width, f = m.mlp_dim, a = attention_width(m);
  if (m.block == BlockKind::Parallel) {
    // DESIGN §1: Q, K, V and the first MLP matmul fused (D -> 3A + F); the attention output and the
    // second MLP matmul fused (A + F -> D). Both output biases add into the same D outputs.
    return {{"fused_in_proj", d, 3 * a + f, m.qkv_bias || m.mlp_bias},
            {"fused_out_proj", a + f, d, m.out_proj_bias || m.mlp_bias}};
  }
  return {{"qkv", d, 3 * a, m.qkv_bias},
          {"attn_out", a, d, m.out_proj_bias},
          {"mlp_in", d, f, m.mlp_bias},
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
  std::int64_t biases = (m.qkv_bias ? 3 * a : 0) + (m.mlp_bias ? f : 0);
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

  // Patch projection (a patch x patch x channels -> D convolution with bias), learned position
  // embedding for every token, and the class token when present.
  p.embedding = m.patch * m.patch * m.channels * d + d + m.tokens * d + (m.class_token ? d : 0);

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
  // DESIGN §1: forward = 2 x transformer params (every weight is one multiply-add per token)
  // + attention 4 x tokens x A per layer (scores Q K^T and values P V, 2 x T x A each).
  FlopPerToken f;
  const double params = static_cast<double>(count_params(m).transformer);
  f.forward = 2.0 * params + 4.0 * static_cast<double>(m.tokens) *
                                 static_cast<double>(attention_width(m)) *
                                 static_cast<double>(m.depth);
  f.train = 3.0 * f.forward;  // backward = 2 x forward (input and weight gradients)
  return f;
}

}  // namespace meshsim
