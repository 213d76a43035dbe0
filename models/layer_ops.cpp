// The ops of one encoder layer, forward then backward, at per-chip shapes (DESIGN §1-2).
// docs/models.md lists every op with its FLOP and bytes formulas; keep the two in step.
#include <cstdint>
#include <string>
#include <vector>

#include "common/error.hpp"
#include "models/model.hpp"

namespace meshsim {
namespace {

// Nominal FLOP per element of the memory-bound ops (their time comes from bytes; the FLOP only
// feed HFU-style counts). Backward ops count twice their forward.
double norm_flop_per_element(const ModelConfig& m) {
  // square + accumulate + scale; centering adds mean accumulate + subtract; bias adds one add.
  return 3.0 + (m.layernorm_centering ? 2.0 : 0.0) + (m.layernorm_bias ? 1.0 : 0.0);
}
constexpr double kSoftmaxFlopPerElement = 5.0;  // max, subtract, exp, sum, divide
constexpr double kGeluFlopPerElement = 8.0;     // tanh approximation: cube, fma, tanh, scale
constexpr double kReluFlopPerElement = 1.0;     // max(x, 0)
// SwiGLU per output element: swish(gate) = gate x sigmoid(gate) (exp, add, divide, multiply),
// times up.
constexpr double kSwigluFlopPerElement = 5.0;
constexpr double kAddFlopPerElement = 1.0;
constexpr double kFp32Bytes = 4.0;  // row statistics and accumulators are fp32

std::string dims(std::int64_t rows, std::int64_t cols) {
  // Built by append: gcc 12 raises a false -Wrestrict on "[" + std::string&& (GCC bug 105329).
  std::string out = "[";
  out.append(std::to_string(rows)).append("x").append(std::to_string(cols)).append("]");
  return out;
}

class LayerBuilder {
 public:
  explicit LayerBuilder(const LayerShape& s) : bpe_(static_cast<double>(s.bytes_per_element)) {}

  // batch x [rows x inner] * [inner x cols]; `bias_read` / `bias_written` are epilogue vectors.
  void matmul(const std::string& name, OpKind kind, Pass pass, const std::string& linear,
              std::int64_t batch, std::int64_t rows, std::int64_t inner, std::int64_t cols,
              std::int64_t bias_read = 0, std::int64_t bias_written = 0) {
    Op op;
    op.name = name;
    op.kind = kind;
    op.pass = pass;
    op.linear = linear;
    op.batch = batch;
    op.m = rows;
    op.k = inner;
    op.n = cols;
    const double b = static_cast<double>(batch), r = static_cast<double>(rows),
                 i = static_cast<double>(inner), c = static_cast<double>(cols);
    op.flop = 2.0 * b * r * c * i;
    op.bytes_read = bpe_ * (b * (r * i + i * c) + static_cast<double>(bias_read));
    op.bytes_written = bpe_ * (b * r * c + static_cast<double>(bias_written));
    op.shapes = (batch > 1 ? std::to_string(batch) + " x " : std::string()) + dims(rows, inner) +
                " x " + dims(inner, cols) + " -> " + dims(rows, cols);
    ops_.push_back(op);
  }

  // `rows` x `cols` activations: reads `tensors_read` of them and writes `tensors_written`, plus
  // `params_read` / `params_written` parameter (or parameter-gradient) elements, plus
  // `fp32_read` / `fp32_written` elements of fp32 row statistics.
  void memory_op(const std::string& name, OpKind kind, Pass pass, std::int64_t rows,
                 std::int64_t cols, int tensors_read, int tensors_written, double flop_per_element,
                 std::int64_t params_read = 0, std::int64_t params_written = 0,
                 double fp32_read = 0, double fp32_written = 0) {
    Op op;
    op.name = name;
    op.kind = kind;
    op.pass = pass;
    op.batch = 1;
    op.m = rows;
    op.n = cols;
    op.k = 0;
    const double elements = static_cast<double>(rows) * static_cast<double>(cols);
    op.flop = flop_per_element * elements;
    op.bytes_read = bpe_ * (tensors_read * elements + static_cast<double>(params_read)) +
                    kFp32Bytes * fp32_read;
    op.bytes_written = bpe_ * (tensors_written * elements + static_cast<double>(params_written)) +
                       kFp32Bytes * fp32_written;
    op.shapes = dims(rows, cols);
    ops_.push_back(op);
  }

  // Fused attention over `batch` = images x heads of [t x hd] queries, keys and values
  // (docs/models.md "FlashAttention"). Forward reads Q, K, V, writes O and the fp32 log-sum-exp
  // per row; backward recomputes the scores (one more T x T x hd product), reads Q, K, V, O, dO
  // (O and dO by the row-sum pre-pass, dO again by the main kernel) and the log-sum-exp, writes
  // dQ, dK, dV, the fp32 row sums D and the fp32 dQ accumulator (read back to convert it).
  // `kv_share`: K and V elements per Q element (kv_heads / heads on the chip: GQA/MQA read fewer);
  // `causal`: the kernel skips the score blocks above the diagonal, computing the lower triangle
  // with its diagonal, (T + 1) / 2T of the products.
  void flash_attention(Pass pass, std::int64_t batch, std::int64_t t, std::int64_t hd,
                       double kv_share = 1.0, bool causal = false) {
    Op op;
    op.name = "flash_attention";
    op.kind = OpKind::FlashAttention;
    op.pass = pass;
    op.batch = batch;
    op.m = t;
    op.n = t;
    op.k = hd;
    const double x = static_cast<double>(batch) * static_cast<double>(t) * static_cast<double>(hd);
    const double rows = static_cast<double>(batch) * static_cast<double>(t);
    const double td = static_cast<double>(t);
    const double mask = causal ? (td + 1.0) / (2.0 * td) : 1.0;
    const double matmul =
        mask * 2.0 * static_cast<double>(batch) * td * td * static_cast<double>(hd);
    const double kv = kv_share * x;  // K (and V) elements
    if (pass == Pass::Forward) {
      op.flop = 2.0 * matmul;  // S = Q K^T, O = P V
      op.bytes_read = bpe_ * (x + 2.0 * kv);
      op.bytes_written = bpe_ * x + kFp32Bytes * rows;
    } else {
      op.flop = 5.0 * matmul;  // S again, dV, dP, dQ, dK
      op.bytes_read = bpe_ * (4.0 * x + 2.0 * kv) + kFp32Bytes * (2.0 * rows + x);
      op.bytes_written = bpe_ * (x + 2.0 * kv) + kFp32Bytes * (rows + x);
    }
    op.shapes = std::to_string(batch) + " x " + dims(t, hd) + " x 3 -> " + dims(t, hd);
    ops_.push_back(op);
  }

  // What the backward op of each forward op touches besides activations (elements).
  struct BackwardParams {
    std::int64_t read = 0;     // parameters the backward op needs (norm scale, bias)
    std::int64_t written = 0;  // parameter gradients it writes (norm scale/bias, biases)
    int row_stats = 0;         // norms: fp32 statistics per row saved by the forward pass
    double kv_share = 1.0;     // FlashAttention: K/V elements per Q element
    bool causal = false;       // FlashAttention: causal mask
  };

  // Appends the backward ops of forward ops [first, last), in reverse order.
  void backward_of(std::size_t first, std::size_t last, const std::vector<BackwardParams>& params) {
    for (std::size_t idx = last; idx-- > first;) {
      const Op f = ops_[idx];  // copy: push_back may reallocate
      const BackwardParams p = params[idx];
      if (f.kind == OpKind::Matmul || f.kind == OpKind::BatchedMatmul) {
        // Y = X W, X [m x k], W [k x n]: dX = dY W^T ([m x n] x [n x k]),
        // dW = X^T dY ([k x m] x [m x n]); the weight gradient's epilogue also reduces dY over
        // rows into the gradient of an epilogue bias.
        matmul(f.name, f.kind, Pass::BackwardInput, f.linear, f.batch, f.m, f.n, f.k);
        matmul(f.name, f.kind, Pass::BackwardWeight, f.linear, f.batch, f.k, f.m, f.n, 0,
               p.written);
        continue;
      }
      if (f.kind == OpKind::FlashAttention) {
        flash_attention(Pass::BackwardInput, f.batch, f.m, f.k, p.kv_share, p.causal);
        continue;
      }
      const double elements = static_cast<double>(f.m) * static_cast<double>(f.n);
      const double flop_per_element = 2.0 * f.flop / elements;  // nominal: twice the forward's
      const auto rows = static_cast<double>(f.m);
      if (is_relayout(f.name)) {
        // The gradients go back to the other layout: the same transpose.
        memory_op(f.name, f.kind, Pass::BackwardInput, f.m, f.n, 1, 1, 0.0);
      } else if (f.name == "swiglu") {
        // Reads the saved gate and up projections and the incoming gradient, writes the gradients
        // of both (and of their biases).
        memory_op(f.name, f.kind, Pass::BackwardInput, f.m, f.n, 3, 2, flop_per_element, p.read,
                  p.written);
      } else if (f.kind == OpKind::Norm) {
        // Pass 1 reads x, dy, the saved statistics and the scale and reduces per row (fp32);
        // pass 2 reads them again with the row sums and writes dx and the parameter gradients.
        const double stats = static_cast<double>(p.row_stats);
        memory_op(f.name, f.kind, Pass::BackwardInput, f.m, f.n, 4, 1, flop_per_element, 2 * p.read,
                  p.written, rows * (3.0 * stats), rows * stats);
      } else if (f.kind == OpKind::Softmax) {
        // dx = y (dy - sum(dy y)): pass 1 reads y, dy and writes the fp32 row sum; pass 2 reads
        // y, dy and the sum, writes dx.
        memory_op(f.name, f.kind, Pass::BackwardInput, f.m, f.n, 4, 1, flop_per_element, 0, 0, rows,
                  rows);
      } else {
        // Reads the saved forward tensor and the incoming gradient, writes the input gradient.
        memory_op(f.name, f.kind, Pass::BackwardInput, f.m, f.n, 2, 1, flop_per_element, p.read,
                  p.written);
      }
    }
  }

  static bool is_relayout(const std::string& name) {
    return name == "split_heads" || name == "merge_heads";
  }

  std::vector<Op>& ops() { return ops_; }

 private:
  double bpe_;
  std::vector<Op> ops_;
};

void require_divides(std::int64_t k, std::int64_t value, const char* what) {
  if (value % k != 0) {
    throw InputError({"", "", "model_axis"},
                     std::string("must divide ") + what + " (" + std::to_string(value) + ")",
                     std::to_string(k), "a divisor of heads, width and mlp_dim");
  }
}

// K/V heads split over the model axis, or replicated when it has more chips than K/V heads.
void require_kv_heads_fit(std::int64_t k, std::int64_t kv_heads) {
  if (kv_heads % k != 0 && k % kv_heads != 0) {
    throw InputError(
        {"", "", "model_axis"},
        "neither divides nor is a multiple of kv_heads (" + std::to_string(kv_heads) + ")",
        std::to_string(k),
        "a divisor of kv_heads (K/V heads split) or a multiple (K/V heads replicated)");
  }
}

}  // namespace

const char* to_string(Pass pass) {
  switch (pass) {
    case Pass::Forward:
      return "forward";
    case Pass::BackwardInput:
      return "backward_input";
    case Pass::BackwardWeight:
      return "backward_weight";
  }
  return "?";
}

const char* to_string(OpKind kind) {
  switch (kind) {
    case OpKind::Matmul:
      return "matmul";
    case OpKind::BatchedMatmul:
      return "batched_matmul";
    case OpKind::Norm:
      return "norm";
    case OpKind::Softmax:
      return "softmax";
    case OpKind::Elementwise:
      return "elementwise";
    case OpKind::FlashAttention:
      return "flash_attention";
  }
  return "?";
}

const char* to_string(AttentionKernel kernel) {
  return kernel == AttentionKernel::Flash ? "flash" : "unfused";
}

std::vector<Op> layer_ops(const ModelConfig& m, const LayerShape& s) {
  if (s.batch_images < 1) {
    throw InputError({"", "", "batch_images"}, "must be positive", std::to_string(s.batch_images),
                     "an integer >= 1");
  }
  if (s.model_axis < 1) {
    throw InputError({"", "", "model_axis"}, "must be positive", std::to_string(s.model_axis),
                     "an integer >= 1");
  }
  if (s.bytes_per_element < 1) {
    throw InputError({"", "", "bytes_per_element"}, "must be positive",
                     std::to_string(s.bytes_per_element), "an integer >= 1");
  }
  const std::int64_t k = s.model_axis;
  require_divides(k, m.heads, "heads");
  require_divides(k, m.width, "width");
  require_divides(k, m.mlp_dim, "mlp_dim");
  const std::int64_t kv_heads = m.kv_heads > 0 ? m.kv_heads : m.heads;
  require_kv_heads_fit(k, kv_heads);

  const std::int64_t b = s.batch_images, t = m.tokens, d = m.width, hd = m.head_dim;
  const std::int64_t rows = b * t;                     // tokens on this chip
  const std::int64_t heads_k = m.heads / k;            // heads per chip
  const std::int64_t a_k = heads_k * hd;               // attention features per chip
  const std::int64_t f_k = m.mlp_dim / k;              // MLP features per chip
  const std::int64_t fin_k = mlp_in_width(m) / k;      // mlp_in outputs per chip (2 F_k for SwiGLU)
  const std::int64_t kvh_k = kv_heads_per_chip(m, k);  // K/V heads per chip (split or replicated)
  const std::int64_t kv_k = kvh_k * hd;                // K (and V) features per chip
  const bool causal = m.kind == ModelKind::Decoder;
  // Boundary activation features per chip: the D/k slice, or all D when the layer's norms and
  // residual run on activations replicated across the model axis.
  const std::int64_t d_k = s.replicated_activations ? d : d / k;
  // Rows of the norms and residual adds: all the chip's tokens, or with sequence parallelism
  // (replicated activations split along the tokens) its 1/k of them.
  const bool seq_split = s.replicated_activations && s.sequence_parallel && k > 1;
  if (seq_split && rows % k != 0) {
    throw InputError(
        {"", "", "model_axis"},
        "must divide the tokens for sequence parallelism (" + std::to_string(rows) + ")",
        std::to_string(k), "a divisor of the microbatch's tokens");
  }
  const std::int64_t boundary_rows = seq_split ? rows / k : rows;
  const std::int64_t norm_params = d_k * (m.layernorm_bias ? 2 : 1);
  // fp32 statistics per row that a norm saves for its backward: mean and 1/std, or 1/rms only.
  const int norm_stats = m.layernorm_centering ? 2 : 1;
  const std::int64_t qk_norm_params = 2 * hd * (m.layernorm_bias ? 2 : 1);
  const double norm_flop = norm_flop_per_element(m);

  LayerBuilder lb(s);
  std::vector<LayerBuilder::BackwardParams> backward;  // one entry per forward op
  auto record = [&](std::int64_t read, std::int64_t written, int row_stats = 0) {
    backward.push_back({read, written, row_stats});
  };
  // A norm as XLA compiles it: a reduction pass (reads x, writes the fp32 statistics of each row)
  // and a normalize pass (reads x, the statistics and the parameters, writes y), docs/models.md.
  auto norm_op = [&](const std::string& name, std::int64_t norm_rows, std::int64_t width,
                     std::int64_t params, std::int64_t scale) {
    const double stats = static_cast<double>(norm_rows) * norm_stats;
    lb.memory_op(name, OpKind::Norm, Pass::Forward, norm_rows, width, 2, 1, norm_flop, params, 0,
                 stats, stats);
    record(scale, params, norm_stats);  // backward needs the scale; writes scale (bias) grads
  };
  auto norm = [&](const std::string& name) { norm_op(name, boundary_rows, d_k, norm_params, d_k); };
  auto qk_norm = [&]() {
    if (!m.qk_norm)
      return;
    // Queries and keys of this chip's heads, normalised over head_dim.
    norm_op("qk_norm", rows * (heads_k + kvh_k), hd, qk_norm_params, 2 * hd);
  };
  auto attention = [&]() {
    if (s.attention == AttentionKernel::Flash) {
      // FlashAttention reads Q, K, V in the projection's [tokens x heads x hd] layout (strided):
      // no head-major copies.
      const double kv_share = static_cast<double>(kvh_k) / static_cast<double>(heads_k);
      lb.flash_attention(Pass::Forward, b * heads_k, t, hd, kv_share, causal);
      backward.push_back({0, 0, 0, kv_share, causal});
      return;
    }
    // Batched matmuls need each head's [T x hd] contiguous: Q, K, V are copied to head-major
    // order (QK-norm already writes Q and K head-major, leaving V), and the attention output
    // back to token-major order.
    // (A causal mask is applied inside the softmax: the unfused kernels compute every score.)
    lb.memory_op("split_heads", OpKind::Elementwise, Pass::Forward, rows,
                 m.qk_norm ? kv_k : a_k + 2 * kv_k, 1, 1, 0.0);
    record(0, 0);
    lb.matmul("attn_scores", OpKind::BatchedMatmul, Pass::Forward, "", b * heads_k, t, hd, t);
    record(0, 0);
    // Two passes over each row of scores: max and sum of exponentials (fp32, two per row), then
    // the normalized output.
    const double softmax_rows = static_cast<double>(b * heads_k * t);
    lb.memory_op("softmax", OpKind::Softmax, Pass::Forward, b * heads_k * t, t, 2, 1,
                 kSoftmaxFlopPerElement, 0, 0, 2 * softmax_rows, 2 * softmax_rows);
    record(0, 0);
    lb.matmul("attn_values", OpKind::BatchedMatmul, Pass::Forward, "", b * heads_k, t, t, hd);
    record(0, 0);
    lb.memory_op("merge_heads", OpKind::Elementwise, Pass::Forward, rows, a_k, 1, 1, 0.0);
    record(0, 0);
  };
  auto linear = [&](const std::string& name, std::int64_t in, std::int64_t out,
                    std::int64_t epilogue_bias) {
    lb.matmul(name, OpKind::Matmul, Pass::Forward, name, 1, rows, in, out, epilogue_bias);
    record(0, epilogue_bias);
  };
  auto gelu = [&]() {
    // The MLP activation, with the MLP input bias fused in: GELU or ReLU on F_k features, or
    // SwiGLU reading the gate and up halves (2 F_k) and writing F_k.
    const std::int64_t gelu_bias = m.mlp_bias ? fin_k : 0;
    const double bias_flop =
        m.mlp_bias ? kAddFlopPerElement * static_cast<double>(fin_k / f_k) : 0.0;
    if (m.mlp == MlpKind::Swiglu) {
      lb.memory_op("swiglu", OpKind::Elementwise, Pass::Forward, rows, f_k, 2, 1,
                   kSwigluFlopPerElement + bias_flop, gelu_bias);
    } else {
      const bool relu = m.mlp == MlpKind::Relu;
      lb.memory_op(relu ? "relu" : "gelu", OpKind::Elementwise, Pass::Forward, rows, f_k, 1, 1,
                   (relu ? kReluFlopPerElement : kGeluFlopPerElement) + bias_flop, gelu_bias);
    }
    record(gelu_bias, gelu_bias);
  };
  auto residual = [&](const std::string& name, bool has_bias) {
    const std::int64_t res_bias = has_bias ? d_k : 0;
    lb.memory_op(name, OpKind::Elementwise, Pass::Forward, boundary_rows, d_k, 2, 1,
                 kAddFlopPerElement * (has_bias ? 2.0 : 1.0), res_bias);
    record(0, res_bias);  // the join reads dy and d(branch input); writes dx and the bias grad
  };
  const std::int64_t qkv_bias = m.qkv_bias ? a_k + 2 * kv_k : 0;

  // Forward: residual segments, each [norm, ..., residual add].
  std::vector<std::size_t> segment_starts;
  if (m.block == BlockKind::Parallel) {
    segment_starts.push_back(lb.ops().size());
    norm("ln");
    linear("fused_in_proj", d, a_k + 2 * kv_k + fin_k, qkv_bias);
    qk_norm();
    attention();
    gelu();
    linear("fused_out_proj", a_k + f_k, d, 0);
    residual("residual", m.out_proj_bias || m.mlp_bias);
  } else {
    segment_starts.push_back(lb.ops().size());
    norm("ln1");
    linear("qkv", d, a_k + 2 * kv_k, qkv_bias);
    qk_norm();
    attention();
    linear("attn_out", a_k, d, 0);
    residual("residual1", m.out_proj_bias);
    segment_starts.push_back(lb.ops().size());
    norm("ln2");
    linear("mlp_in", d, fin_k, 0);
    gelu();
    linear("mlp_out", f_k, d, 0);
    residual("residual2", m.mlp_bias);
  }
  segment_starts.push_back(lb.ops().size());

  // Backward: segments in reverse; inside one, the branch's ops in reverse, then the residual
  // join (dx = dy + d(branch input)), which is where the two gradients meet.
  for (std::size_t seg = segment_starts.size() - 1; seg-- > 0;) {
    const std::size_t first = segment_starts[seg], last = segment_starts[seg + 1];
    lb.backward_of(first, last - 1, backward);
    lb.backward_of(last - 1, last, backward);
  }
  return std::move(lb.ops());
}

LmHeadOps lm_head_ops(const ModelConfig& m, const LayerShape& s) {
  LmHeadOps out;
  if (m.kind != ModelKind::Decoder)
    return out;
  if (s.batch_images < 1 || s.model_axis < 1 || s.bytes_per_element < 1) {
    throw InputError(
        {"", "", "batch_images"}, "must be positive",
        std::to_string(s.batch_images) + ", model axis " + std::to_string(s.model_axis),
        "integers >= 1");
  }
  const std::int64_t k = s.model_axis;
  require_divides(k, m.width, "width");
  const std::int64_t rows = s.batch_images * m.tokens, d = m.width;
  const std::int64_t d_k = s.replicated_activations ? d : d / k;
  const std::int64_t v_k = vocab_per_chip(m, k);
  const std::int64_t norm_params = d_k * (m.layernorm_bias ? 2 : 1);
  const int norm_stats = m.layernorm_centering ? 2 : 1;

  // Embedding lookup: untied, the table is split along D (each chip reads its D_k columns of the
  // R rows it needs and writes the layer input slice); tied, it is the LM head's vocab-parallel
  // shard (V_k x D): each chip reads the rows of its own tokens (R / k on average) and writes a
  // partial [R x D] that the model axis then reduces (Megatron's vocab-parallel embedding).
  {
    LayerBuilder lb(s);
    if (m.tied_embeddings) {
      lb.memory_op("embedding", OpKind::Elementwise, Pass::Forward, rows, d, 0, 1, 0.0);
      lb.ops().back().bytes_read += static_cast<double>(s.bytes_per_element) *
                                    static_cast<double>(rows) * static_cast<double>(d) /
                                    static_cast<double>(k);
    } else {
      lb.memory_op("embedding", OpKind::Elementwise, Pass::Forward, rows, d / k, 1, 1, 0.0);
    }
    out.embedding_forward = std::move(lb.ops());
  }
  // Gradient into the table: read the incoming gradient and the table gradient's rows, add, write
  // them back (a scatter-add of R rows; D_k columns, or D columns of the chip's own tokens).
  {
    LayerBuilder lb(s);
    const std::int64_t cols = m.tied_embeddings ? d : d / k;
    lb.memory_op("embedding", OpKind::Elementwise, Pass::BackwardInput, rows, cols, 2, 1,
                 kAddFlopPerElement);
    if (m.tied_embeddings) {
      // Only the chip's own tokens' rows of the table gradient are read and written.
      const double own = static_cast<double>(s.bytes_per_element) * static_cast<double>(rows) *
                         static_cast<double>(d) * (1.0 - 1.0 / static_cast<double>(k));
      lb.ops().back().bytes_read -= own;
      lb.ops().back().bytes_written -= own;
    }
    out.embedding_backward = std::move(lb.ops());
  }

  // Final norm, the LM head [R x D] x [D x V_k] (vocab split over the model axis, the input
  // gathered), and the softmax cross-entropy over the chip's V_k logits: a max pass and a
  // sum-of-exponentials pass (the row maxima, sums and target logits all-reduced over the model
  // axis: three fp32 per row), writing the fp32 statistics and the loss.
  LayerBuilder lb(s);
  std::vector<LayerBuilder::BackwardParams> backward;
  const double stats = static_cast<double>(rows) * norm_stats;
  lb.memory_op("final_norm", OpKind::Norm, Pass::Forward, rows, d_k, 2, 1, norm_flop_per_element(m),
               norm_params, 0, stats, stats);
  backward.push_back({d_k, norm_params, norm_stats});
  lb.matmul("lm_head", OpKind::Matmul, Pass::Forward, "lm_head", 1, rows, d, v_k);
  backward.push_back({0, 0});
  const double r = static_cast<double>(rows);
  lb.memory_op("cross_entropy", OpKind::Softmax, Pass::Forward, rows, v_k, 2, 0,
               kSoftmaxFlopPerElement, 0, 0, r, 3.0 * r);
  const std::size_t head_forward = lb.ops().size();
  // Backward: dlogits = softmax - one-hot, from the logits and the reduced statistics (one pass),
  // then the LM head's two matmuls and the final norm's backward.
  lb.memory_op("cross_entropy", OpKind::Softmax, Pass::BackwardInput, rows, v_k, 1, 1,
               2.0 * kSoftmaxFlopPerElement, 0, 0, 3.0 * r, 0);
  lb.backward_of(0, 2, backward);
  auto& all = lb.ops();
  out.head_forward.assign(all.begin(), all.begin() + static_cast<std::ptrdiff_t>(head_forward));
  out.head_backward.assign(all.begin() + static_cast<std::ptrdiff_t>(head_forward), all.end());
  return out;
}

}  // namespace meshsim
