#pragma once
// A dense transformer (DESIGN §1): a ViT encoder or a decoder language model (causal attention,
// docs/models.md "Decoders"): its configuration, parameter counts, FLOP per token, and the
// per-layer ops of one training step (forward, and each linear's two backward matmuls) at per-chip
// shapes.
// models/ knows nothing of the simulator: it is data plus the model -> ops code.
#include <cstdint>
#include <string>
#include <vector>
#include "common/json_override.hpp"

namespace meshsim {

enum class BlockKind { Parallel, Sequential };  // ViT-22B / PaLM parallel block, or classic ViT
const char* to_string(BlockKind kind);          // "parallel" | "sequential", as in the JSON

// An encoder (ViT: bidirectional attention over image patches) or a decoder language model
// (causal attention over a token sequence, a vocabulary embedding and an LM head).
enum class ModelKind { Encoder, Decoder };
const char* to_string(ModelKind kind);  // "encoder" | "decoder"

// The MLP's activation: GELU or ReLU between two matrices, or SwiGLU (Shazeer 2020) with a third
// (gate) matrix: mlp_in then maps D -> 2F (gate and up projections, one fused linear).
enum class MlpKind { Gelu, Relu, Swiglu };
const char* to_string(MlpKind kind);  // "gelu" | "relu" | "swiglu"

// Position information: learned embeddings (tokens x D parameters), or rotary (RoPE, no
// parameters; its element-wise cost on Q and K is not modelled), or none.
enum class PositionKind { Learned, Rotary, None };
const char* to_string(PositionKind kind);  // "learned" | "rotary" | "none"

struct ModelConfig {
  std::string name;          // zoo name ("vit-22b") or the file's stem
  std::string display_name;  // "ViT-22B"
  std::string source;        // publication of the shapes
  std::string file;          // the JSON file it was loaded from
  ModelKind kind = ModelKind::Encoder;
  BlockKind block = BlockKind::Sequential;
  std::int64_t width = 0;    // D
  std::int64_t depth = 0;    // layers
  std::int64_t mlp_dim = 0;  // F
  std::int64_t heads = 0;
  std::int64_t head_dim = 0;  // D / heads unless the file says otherwise
  std::int64_t kv_heads = 0;  // key/value heads: heads (MHA), a divisor (GQA), 1 (MQA)
  MlpKind mlp = MlpKind::Gelu;
  PositionKind position = PositionKind::Learned;
  // Decoders: vocabulary size, and whether the LM head reuses the input embedding matrix.
  std::int64_t vocab = 0;
  bool tied_embeddings = false;
  std::int64_t patch = 0;
  std::int64_t image_size = 0;
  std::int64_t channels = 3;
  bool class_token = false;
  std::int64_t tokens = 0;  // (image/patch)^2 (+1 with a class token); a decoder's seq_len
  bool qk_norm = false;
  bool qkv_bias = true;
  bool out_proj_bias = true;
  bool mlp_bias = true;
  bool layernorm_centering = true;  // false: RMS-style, no mean subtraction (ViT-22B)
  bool layernorm_bias = true;
  // Multihead-attention-pooling head (Zhai et al. 2022; used by ViT-e in PaLI): a learned probe,
  // one attention layer and one MLP on top of the encoder. Counted in ParamCounts::head only.
  bool map_head = false;
  std::int64_t num_classes = 0;       // classifier head outputs; 0 = no head
  std::int64_t train_batch = 0;       // published pre-training batch in images; 0 = unknown
  std::int64_t train_steps = 0;       // published pre-training steps; 0 = unknown
  std::int64_t published_params = 0;  // total parameter count as published; 0 = unknown
  std::string published_params_source;
  // What-if overrides applied (`--set model.PATH=VALUE`, docs/whatif.md): then `name` is
  // "BASE+set(...)" and `display_name` ends in " (what-if: ...)".
  std::vector<JsonOverride> overrides;
  std::string base_name;  // the name before overrides
  std::string input;      // the input document (JSON text) the model was parsed from
};

struct ParamCounts {
  std::int64_t transformer = 0;  // weight matrices of the layers (DESIGN §1's figure)
  std::int64_t biases_and_norms = 0;
  // Encoder: patch projection (+bias), position embedding, class token. Decoder: the token
  // embedding (vocab x D) and learned position embeddings.
  std::int64_t embedding = 0;
  std::int64_t head = 0;  // final norm + classifier; a decoder's untied LM head (vocab x D)
  std::int64_t total = 0;
};

// Model FLOP per token as the field counts them (docs/models.md "FLOP per token"):
// 2N + 4 L A T forward, 6N + 12 L A T for training, with N the matmul weights every token
// multiplies (the layers' matrices, plus a decoder's LM head) and the attention counted in full,
// as PaLM (Chowdhery et al. 2022, appendix B) and Megatron (Narayanan et al. 2021, eq. 3) count it.
struct FlopPerToken {
  double forward = 0;        // 2 x matmul params + 4 x tokens x A per layer (DESIGN §1)
  double train = 0;          // 3 x forward
  double matmul_params = 0;  // N: transformer weights + the LM head's vocab x D (decoders)
  // Training FLOP with a causal mask counted as half the attention: 6N + 6 L A T (decoders;
  // equals `train` for encoders).
  double train_causal = 0;
};

// Loads a zoo model by name ("vit-22b") or a user file by path; validates every field.
ModelConfig load_model(const std::string& name_or_path);
// The same with what-if overrides (paths without the "model." prefix), set in the JSON before it
// is parsed; errors about an override name `flag`.
ModelConfig load_model(const std::string& name_or_path, std::vector<JsonOverride> overrides,
                       const std::string& flag = "--set");
// The same from JSON text (no file access; for tests and fuzzing). `origin` names the text in
// errors and gives the default name (its stem).
ModelConfig parse_model_json(const std::string& text, const std::string& origin);
// Zoo names, sorted.
std::vector<std::string> zoo_model_names();

// Width of the attention (heads x head_dim); equals D unless the file sets head_dim otherwise.
std::int64_t attention_width(const ModelConfig& model);
// Width of the keys (and of the values): kv_heads x head_dim (= attention_width without GQA/MQA).
std::int64_t kv_width(const ModelConfig& model);
// Features of the MLP's input projection: F, or 2F for SwiGLU (gate and up matrices).
std::int64_t mlp_in_width(const ModelConfig& model);
// Key/value heads each chip holds at model axis k: kv_heads / k, or 1 when k > kv_heads (each
// K/V head is then replicated on k / kv_heads chips, Megatron-style). finalize_plan requires
// k | kv_heads or kv_heads | k.
std::int64_t kv_heads_per_chip(const ModelConfig& model, std::int64_t model_axis);
// The vocabulary each chip holds of the LM head and the embedding at model axis k (vocab-parallel,
// padded up to a multiple of k, as Megatron pads it).
std::int64_t vocab_per_chip(const ModelConfig& model, std::int64_t model_axis);

ParamCounts count_params(const ModelConfig& model);
FlopPerToken flop_per_token(const ModelConfig& model);

// One linear layer of an encoder block at full (unsharded) size: y = A x, A is out x in.
struct Linear {
  // "fused_in_proj", "fused_out_proj" (parallel); "qkv", "attn_out", "mlp_in", "mlp_out"
  // (sequential). With GQA/MQA the K/V parts are kv_width wide; with SwiGLU mlp_in is 2F wide.
  std::string name;
  std::int64_t in_features = 0;
  std::int64_t out_features = 0;
  bool bias = false;
};
std::vector<Linear> layer_linears(const ModelConfig& model);

enum class Pass { Forward, BackwardInput, BackwardWeight };
// FlashAttention: one fused kernel per pass computing softmax(Q K^T) V without writing the scores
// (Dao et al. 2022); priced by hardware_profiles/attention_cost.
enum class OpKind { Matmul, BatchedMatmul, Norm, Softmax, Elementwise, FlashAttention };
const char* to_string(Pass pass);
const char* to_string(OpKind kind);

// How attention is computed: batched matmuls and a softmax with the scores in HBM, or one fused
// FlashAttention kernel per pass.
enum class AttentionKernel { Unfused, Flash };
const char* to_string(AttentionKernel kernel);  // "unfused", "flash"

// Per-chip shape of one layer: `batch_images` images on this chip, the model axis splitting
// features and heads `model_axis` ways (DESIGN §2).
struct LayerShape {
  std::int64_t batch_images = 1;
  std::int64_t model_axis = 1;
  int bytes_per_element = 2;  // bf16 activations and weights
  AttentionKernel attention = AttentionKernel::Unfused;
  // Norms, residual adds and their parameters on full-width activations replicated across the
  // model axis (Megatron-style), instead of on the D / model_axis slice.
  bool replicated_activations = false;
  // With replicated activations: the norms and residual adds split along the tokens over the
  // model axis (Megatron sequence parallelism): rows / model_axis rows of full width each.
  bool sequence_parallel = false;
};

struct Op {
  std::string name;  // e.g. "fused_in_proj", "qk_norm", "attn_scores", "softmax", "attn_values"
  OpKind kind = OpKind::Elementwise;
  Pass pass = Pass::Forward;
  std::string linear;  // the Linear this matmul belongs to; empty otherwise
  // Matmul: batch x [m x k] * [k x n]. Elementwise/norm/softmax: m rows of n elements (k = 0).
  std::int64_t batch = 1, m = 0, n = 0, k = 0;
  double flop = 0;
  double bytes_read = 0;
  double bytes_written = 0;
  std::string shapes;  // operands, e.g. "[256x6144] x [6144x10752] -> [256x10752]"
};

// The ops of one layer, forward then backward, at the per-chip shape. Throws InputError (field
// "model_axis" or "batch_images") when the model axis does not divide heads, D and F, or a size is
// not positive. docs/models.md lists every op with its FLOP and bytes formulas.
std::vector<Op> layer_ops(const ModelConfig& model, const LayerShape& shape);

// A decoder's ops outside the layers, per microbatch at the per-chip shape (docs/models.md
// "Decoders"): the embedding lookup and its gradient's scatter-add into the table, and the final
// norm, the LM head (linear "lm_head", D -> vocab, the vocabulary split over the model axis) and
// the softmax cross-entropy with their backward ops. Empty for encoders.
struct LmHeadOps {
  std::vector<Op> embedding_forward;
  std::vector<Op> head_forward;   // final_norm, lm_head, cross_entropy
  std::vector<Op> head_backward;  // cross_entropy, lm_head (input, weight), final_norm
  std::vector<Op> embedding_backward;
};
LmHeadOps lm_head_ops(const ModelConfig& model, const LayerShape& shape);

}  // namespace meshsim
