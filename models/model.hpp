#pragma once
// A ViT encoder (DESIGN §1): its configuration, parameter counts, FLOP per token, and the per-layer
// ops of one training step (forward, and each linear's two backward matmuls) at per-chip shapes.
// models/ knows nothing of the simulator: it is data plus the model -> ops code.
#include <cstdint>
#include <string>
#include <vector>

namespace meshsim {

enum class BlockKind { Parallel, Sequential };  // ViT-22B / PaLM parallel block, or classic ViT
const char* to_string(BlockKind kind);          // "parallel" | "sequential", as in the JSON

struct ModelConfig {
  std::string name;          // zoo name ("vit-22b") or the file's stem
  std::string display_name;  // "ViT-22B"
  std::string source;        // publication of the shapes
  std::string file;          // the JSON file it was loaded from
  BlockKind block = BlockKind::Sequential;
  std::int64_t width = 0;    // D
  std::int64_t depth = 0;    // layers
  std::int64_t mlp_dim = 0;  // F
  std::int64_t heads = 0;
  std::int64_t head_dim = 0;  // D / heads unless the file says otherwise
  std::int64_t patch = 0;
  std::int64_t image_size = 0;
  std::int64_t channels = 3;
  bool class_token = false;
  std::int64_t tokens = 0;  // (image/patch)^2 (+1 with a class token)
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
};

struct ParamCounts {
  std::int64_t transformer = 0;  // weight matrices of the encoder layers (DESIGN §1's figure)
  std::int64_t biases_and_norms = 0;
  std::int64_t embedding = 0;  // patch projection (+bias), position embedding, class token
  std::int64_t head = 0;       // final norm + classifier
  std::int64_t total = 0;
};

struct FlopPerToken {
  double forward = 0;  // 2 x transformer params + 4 x tokens x D per layer (DESIGN §1)
  double train = 0;    // 3 x forward
};

// Loads a zoo model by name ("vit-22b") or a user file by path; validates every field.
ModelConfig load_model(const std::string& name_or_path);
// The same from JSON text (no file access; for tests and fuzzing). `origin` names the text in
// errors and gives the default name (its stem).
ModelConfig parse_model_json(const std::string& text, const std::string& origin);
// Zoo names, sorted.
std::vector<std::string> zoo_model_names();

// Width of the attention (heads x head_dim); equals D unless the file sets head_dim otherwise.
std::int64_t attention_width(const ModelConfig& model);

ParamCounts count_params(const ModelConfig& model);
FlopPerToken flop_per_token(const ModelConfig& model);

// One linear layer of an encoder block at full (unsharded) size: y = A x, A is out x in.
struct Linear {
  // "fused_in_proj", "fused_out_proj" (parallel); "qkv", "attn_out", "mlp_in", "mlp_out"
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

}  // namespace meshsim
