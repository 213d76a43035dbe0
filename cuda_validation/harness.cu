// meshsim CUDA harness (DESIGN §6, docs/validation.md): one full ViT-22B layer, forward and
// backward, at the per-chip shapes of a plan (b images of 256 tokens, model axis k). Checks every
// op against a CPU reference, then times every op (CUDA events) and the whole layer (one CUDA graph
// replay), and writes one JSON file of schema meshsim.cuda-measurements/v1.
//
// Exit codes: 0 measured (and every check passed), 1 a check failed or a CUDA call failed,
// 2 bad command line, 77 no GPU (CTest's skip code).
#include <cublasLt.h>
#include <cuda_runtime.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <functional>
#include <memory>
#include <random>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "layer_kernels.cuh"
#include "reference.hpp"

namespace harness {
namespace {

// ViT-22B (Dehghani et al. 2023, arXiv 2302.05442, Table 1): width, MLP, heads; 224/14 = 16x16
// patches give 256 tokens per image.
constexpr int kWidth = 6144, kMlp = 24576, kHeads = 48, kTokensPerImage = 256;
constexpr std::size_t kWorkspaceBytes = 64ull << 20;
constexpr double kTolerance = 1.0 / 64;  // 4 bf16 half-ulps (2^-9 each) of headroom
constexpr int kMatmulSamples = 384, kRowSamples = 48, kElementSamples = 4096, kColumnSamples = 24;

void cublas_check(cublasStatus_t status, const char* call, const char* file, int line) {
  if (status == CUBLAS_STATUS_SUCCESS)
    return;
  throw std::runtime_error(std::string(file) + ":" + std::to_string(line) + ": " + call +
                           " failed: cuBLAS status " + std::to_string(static_cast<int>(status)));
}
#define CUBLAS_CHECK(call) cublas_check((call), #call, __FILE__, __LINE__)

// ---------------------------------------------------------------------------------------------
// Device buffers with host copies for the reference check.
struct Buffer {
  std::string name;
  std::int64_t count = 0;
  bool fp32 = false;
  bool output = false;  // written by an op: poisoned before the checked run, scanned for NaN
  void* dev = nullptr;
  std::vector<std::uint16_t> host16;
  std::vector<float> host32;
  bf16* bf() const { return static_cast<bf16*>(dev); }
  float* f32() const { return static_cast<float*>(dev); }
  std::size_t bytes() const { return static_cast<std::size_t>(count) * (fp32 ? 4 : 2); }
};

class Buffers {
 public:
  Buffers() = default;
  Buffers(const Buffers&) = delete;
  Buffers& operator=(const Buffers&) = delete;
  ~Buffers() {
    for (auto& b : buffers_)
      cudaFree(b->dev);  // best effort in a destructor
  }
  Buffer* add(const std::string& name, std::int64_t count, bool output, bool fp32 = false) {
    auto b = std::make_unique<Buffer>();
    b->name = name;
    b->count = count;
    b->output = output;
    b->fp32 = fp32;
    CUDA_CHECK(cudaMalloc(&b->dev, b->bytes()));
    buffers_.push_back(std::move(b));
    return buffers_.back().get();
  }
  void copy_to_host() {
    for (auto& b : buffers_) {
      if (b->fp32) {
        b->host32.resize(static_cast<std::size_t>(b->count));
        CUDA_CHECK(cudaMemcpy(b->host32.data(), b->dev, b->bytes(), cudaMemcpyDeviceToHost));
      } else {
        b->host16.resize(static_cast<std::size_t>(b->count));
        CUDA_CHECK(cudaMemcpy(b->host16.data(), b->dev, b->bytes(), cudaMemcpyDeviceToHost));
      }
    }
  }
  void release_host() {
    for (auto& b : buffers_) {
      b->host16 = {};
      b->host32 = {};
    }
  }
  const std::vector<std::unique_ptr<Buffer>>& all() const { return buffers_; }

 private:
  std::vector<std::unique_ptr<Buffer>> buffers_;
};

// ---------------------------------------------------------------------------------------------
// cuBLASLt matmul on row-major operands: C[m x n] = alpha op(A)[m x k] op(B)[k x n], bf16 operands
// and output, fp32 accumulation (CUBLAS_COMPUTE_32F). cuBLASLt is column-major, so we ask it for
// C^T = op(B)^T op(A)^T: a row-major matrix is its transpose in column-major.
struct MatOperand {
  Buffer* buf = nullptr;
  std::int64_t offset = 0, ld = 0, batch_stride = 0;
  bool trans = false;
  bf16* dev() const { return buf->bf() + offset; }
  ref::Operand host() const {
    return ref::Operand{buf->host16.data() + offset, ld, batch_stride, trans};
  }
};

struct MatmulSpec {
  MatOperand a, b, c;  // c.trans unused
  std::int64_t batch = 1, m = 0, n = 0, k = 0;
  float alpha = 1.0f;
};

class LtMatmul {
 public:
  LtMatmul(cublasLtHandle_t handle, const MatmulSpec& spec, void* workspace)
      : handle_(handle), spec_(spec), workspace_(workspace) {
    CUBLAS_CHECK(cublasLtMatmulDescCreate(&desc_, CUBLAS_COMPUTE_32F, CUDA_R_32F));
    const cublasOperation_t trans_a = spec.b.trans ? CUBLAS_OP_T : CUBLAS_OP_N;  // lt A = our B
    const cublasOperation_t trans_b = spec.a.trans ? CUBLAS_OP_T : CUBLAS_OP_N;  // lt B = our A
    CUBLAS_CHECK(cublasLtMatmulDescSetAttribute(desc_, CUBLASLT_MATMUL_DESC_TRANSA, &trans_a,
                                                sizeof trans_a));
    CUBLAS_CHECK(cublasLtMatmulDescSetAttribute(desc_, CUBLASLT_MATMUL_DESC_TRANSB, &trans_b,
                                                sizeof trans_b));
    layout_a_ = make_layout(spec.b.trans ? spec.k : spec.n, spec.b.trans ? spec.n : spec.k, spec.b);
    layout_b_ = make_layout(spec.a.trans ? spec.m : spec.k, spec.a.trans ? spec.k : spec.m, spec.a);
    layout_c_ = make_layout(spec.n, spec.m, spec.c);
    cublasLtMatmulPreference_t pref = nullptr;
    CUBLAS_CHECK(cublasLtMatmulPreferenceCreate(&pref));
    const std::uint64_t ws = kWorkspaceBytes;
    CUBLAS_CHECK(cublasLtMatmulPreferenceSetAttribute(
        pref, CUBLASLT_MATMUL_PREF_MAX_WORKSPACE_BYTES, &ws, sizeof ws));
    int returned = 0;
    const cublasStatus_t status = cublasLtMatmulAlgoGetHeuristic(
        handle_, desc_, layout_a_, layout_b_, layout_c_, layout_c_, pref, 1, &algo_, &returned);
    cublasLtMatmulPreferenceDestroy(pref);
    CUBLAS_CHECK(status);
    if (returned == 0)
      throw std::runtime_error("cuBLASLt found no algorithm for a matmul");
  }
  LtMatmul(const LtMatmul&) = delete;
  LtMatmul& operator=(const LtMatmul&) = delete;
  ~LtMatmul() {
    cublasLtMatrixLayoutDestroy(layout_a_);
    cublasLtMatrixLayoutDestroy(layout_b_);
    cublasLtMatrixLayoutDestroy(layout_c_);
    cublasLtMatmulDescDestroy(desc_);
  }
  void run(cudaStream_t stream) const {
    const float beta = 0.0f;
    CUBLAS_CHECK(cublasLtMatmul(handle_, desc_, &spec_.alpha, spec_.b.dev(), layout_a_,
                                spec_.a.dev(), layout_b_, &beta, spec_.c.dev(), layout_c_,
                                spec_.c.dev(), layout_c_, &algo_.algo, workspace_, kWorkspaceBytes,
                                stream));
  }

 private:
  cublasLtMatrixLayout_t make_layout(std::int64_t rows, std::int64_t cols, const MatOperand& op) {
    cublasLtMatrixLayout_t layout = nullptr;
    CUBLAS_CHECK(cublasLtMatrixLayoutCreate(&layout, CUDA_R_16BF, static_cast<std::uint64_t>(rows),
                                            static_cast<std::uint64_t>(cols), op.ld));
    if (spec_.batch > 1) {
      const std::int32_t count = static_cast<std::int32_t>(spec_.batch);
      CUBLAS_CHECK(cublasLtMatrixLayoutSetAttribute(layout, CUBLASLT_MATRIX_LAYOUT_BATCH_COUNT,
                                                    &count, sizeof count));
      const std::int64_t stride = op.batch_stride;
      CUBLAS_CHECK(cublasLtMatrixLayoutSetAttribute(
          layout, CUBLASLT_MATRIX_LAYOUT_STRIDED_BATCH_OFFSET, &stride, sizeof stride));
    }
    return layout;
  }
  cublasLtHandle_t handle_;
  MatmulSpec spec_;
  void* workspace_;
  cublasLtMatmulDesc_t desc_ = nullptr;
  cublasLtMatrixLayout_t layout_a_ = nullptr, layout_b_ = nullptr, layout_c_ = nullptr;
  cublasLtMatmulHeuristicResult_t algo_{};
};

// ---------------------------------------------------------------------------------------------
// One op of the layer: what it is, its nominal work, how to launch it and how to check it.
struct CheckResult {
  double max_rel_error = 0;
  std::int64_t samples = 0, nonfinite = 0;
  bool passed() const { return nonfinite == 0 && samples > 0 && max_rel_error <= kTolerance; }
};

struct LayerOp {
  std::string name, pass, kind;  // kind: matmul, batched_matmul, norm, softmax, elementwise
  std::int64_t batch = 1, m = 0, n = 0, k = 0;
  double flop = 0, bytes = 0;
  std::function<void(cudaStream_t)> run;
  std::function<void(ref::ErrorStats&, std::mt19937_64&)> check;
};

struct Timing {
  double median_s = 0, min_s = 0, max_s = 0;
  int repeats = 0;
};

struct OpResult {
  LayerOp op;
  CheckResult check;
  Timing timing;
};

struct ShapeResult {
  int batch_images = 0, model_axis = 0;
  std::vector<OpResult> ops;
  Timing layer;
  double layer_flop = 0, layer_bytes = 0;
  int layer_kernels = 0;
  std::int64_t nonfinite_outputs = 0;
  bool passed = true;
  std::string clocks_after;
};

struct Options {
  std::vector<int> batches{1, 4, 16};
  std::vector<int> model_axes{1, 2, 4, 8, 16};
  int warmup = 5, repeats = 30;
  int device = 0;
  std::uint64_t seed = 20260101;
  std::string output;
  bool self_check = false;
  bool timing = true;
};

std::int64_t sample_index(std::mt19937_64& rng, std::int64_t n) {
  return std::uniform_int_distribution<std::int64_t>(0, n - 1)(rng);
}

double value_at(const Buffer* b, std::int64_t index) {
  return b->fp32 ? double{b->host32[static_cast<std::size_t>(index)]}
                 : double{ref::bf16_to_float(b->host16[static_cast<std::size_t>(index)])};
}

// Times `launch` with CUDA events: `warmup` untimed runs, then `repeats` timed runs, each after an
// L2 flush (a memset of 4x the L2 size), so no op finds its inputs in L2 (docs/validation.md).
Timing time_launch(const std::function<void(cudaStream_t)>& launch, cudaStream_t stream,
                   const Options& options, Buffer* flush) {
  cudaEvent_t start = nullptr, stop = nullptr;
  CUDA_CHECK(cudaEventCreate(&start));
  CUDA_CHECK(cudaEventCreate(&stop));
  for (int i = 0; i < options.warmup; ++i)
    launch(stream);
  std::vector<double> seconds;
  for (int i = 0; i < options.repeats; ++i) {
    CUDA_CHECK(cudaMemsetAsync(flush->dev, i & 0xff, flush->bytes(), stream));
    CUDA_CHECK(cudaEventRecord(start, stream));
    launch(stream);
    CUDA_CHECK(cudaEventRecord(stop, stream));
    CUDA_CHECK(cudaEventSynchronize(stop));
    float ms = 0;
    CUDA_CHECK(cudaEventElapsedTime(&ms, start, stop));
    seconds.push_back(ms * 1e-3);
  }
  CUDA_CHECK(cudaEventDestroy(start));
  CUDA_CHECK(cudaEventDestroy(stop));
  std::sort(seconds.begin(), seconds.end());
  Timing t;
  t.repeats = options.repeats;
  t.min_s = seconds.front();
  t.max_s = seconds.back();
  const std::size_t mid = seconds.size() / 2;
  t.median_s = seconds.size() % 2 ? seconds[mid] : 0.5 * (seconds[mid - 1] + seconds[mid]);
  return t;
}

// ---------------------------------------------------------------------------------------------
// The layer at one per-chip shape. Per-chip sizes (DESIGN §2, docs/validation.md): M = b x 256
// tokens; the fused input projection D -> (3D + F)/k, local heads H/k, the fused output projection
// (D + F)/k -> D. The LayerNorm runs on the gathered input [M x D] (the input projection
// all-gathers its input); the residual add runs on this chip's D/k slice of the output.
class Layer {
 public:
  Layer(int batch_images, int model_axis, cublasLtHandle_t lt, void* workspace, std::uint64_t seed,
        cudaStream_t stream)
      : b_(batch_images), k_(model_axis) {
    M_ = static_cast<std::int64_t>(b_) * kTokensPerImage;
    Dk_ = kWidth / k_;
    Fk_ = kMlp / k_;
    Hk_ = kHeads / k_;
    N1_ = 3 * Dk_ + Fk_;
    N2_ = Dk_ + Fk_;
    BH_ = static_cast<std::int64_t>(b_) * Hk_;
    const std::int64_t D = kWidth, T = kTokensPerImage, hd = kHeadDim;
    const std::int64_t attn = BH_ * T * hd, scores = BH_ * T * T;
    // Inputs (random) and outputs (poisoned before the checked run).
    x_ = buffers_.add("x", M_ * D, false);
    g_ln_ = buffers_.add("ln_scale", D, false);
    w_in_ = buffers_.add("w_in", D * N1_, false);
    gq_ = buffers_.add("q_norm_scale", hd, false);
    gk_ = buffers_.add("k_norm_scale", hd, false);
    b1_ = buffers_.add("mlp_bias", Fk_, false);
    w_out_ = buffers_.add("w_out", N2_ * D, false);
    b2_ = buffers_.add("out_bias", Dk_, false);
    dy_ = buffers_.add("dy", M_ * Dk_, false);
    dout_ = buffers_.add("dout", M_ * D, false);
    xn_ = buffers_.add("xn", M_ * D, true);
    h_ = buffers_.add("h", M_ * N1_, true);
    qh_ = buffers_.add("q_hm", attn, true);
    kh_ = buffers_.add("k_hm", attn, true);
    vh_ = buffers_.add("v_hm", attn, true);
    s_ = buffers_.add("scores", scores, true);
    p_ = buffers_.add("probs", scores, true);
    o_ = buffers_.add("o_hm", attn, true);
    a2_ = buffers_.add("a2", M_ * N2_, true);
    out_ = buffers_.add("out", M_ * D, true);
    y_ = buffers_.add("y", M_ * Dk_, true);
    da2_ = buffers_.add("da2", M_ * N2_, true);
    dw_out_ = buffers_.add("dw_out", N2_ * D, true);
    db1_ = buffers_.add("d_mlp_bias", Fk_, true, true);
    do_ = buffers_.add("do_hm", attn, true);
    dp_ = buffers_.add("dprobs", scores, true);
    dv_ = buffers_.add("dv_hm", attn, true);
    ds_ = buffers_.add("dscores", scores, true);
    dq_ = buffers_.add("dq_hm", attn, true);
    dk_ = buffers_.add("dk_hm", attn, true);
    dh_ = buffers_.add("dh", M_ * N1_, true);
    dxn_ = buffers_.add("dxn", M_ * D, true);
    dw_in_ = buffers_.add("dw_in", D * N1_, true);
    dxln_ = buffers_.add("dx_ln", M_ * D, true);
    dx_ = buffers_.add("dx", M_ * Dk_, true);
    db2_ = buffers_.add("d_out_bias", Dk_, true, true);
    fill_inputs(seed, stream);
    build_ops(lt, workspace);
  }

  std::vector<LayerOp>& ops() { return ops_; }
  Buffers& buffers() { return buffers_; }

  void poison_outputs(cudaStream_t stream) {
    // 0xFF bytes: bf16 0xFFFF and fp32 0xFFFFFFFF are NaN, so an unwritten output fails the check.
    for (const auto& b : buffers_.all())
      if (b->output)
        CUDA_CHECK(cudaMemsetAsync(b->dev, 0xFF, b->bytes(), stream));
  }

  std::int64_t count_nonfinite_outputs(cudaStream_t stream) {
    unsigned long long* counter = nullptr;
    CUDA_CHECK(cudaMalloc(&counter, sizeof *counter));
    CUDA_CHECK(cudaMemsetAsync(counter, 0, sizeof *counter, stream));
    for (const auto& b : buffers_.all()) {
      if (!b->output)
        continue;
      if (b->fp32) {
        count_nonfinite(b->f32(), b->count, counter, stream);
      } else {
        count_nonfinite(b->bf(), b->count, counter, stream);
      }
    }
    unsigned long long host = 0;
    CUDA_CHECK(cudaMemcpyAsync(&host, counter, sizeof host, cudaMemcpyDeviceToHost, stream));
    CUDA_CHECK(cudaStreamSynchronize(stream));
    CUDA_CHECK(cudaFree(counter));
    return static_cast<std::int64_t>(host);
  }

 private:
  void fill_inputs(std::uint64_t seed, cudaStream_t stream) {
    const float D = kWidth;
    // Unit-variance activations; weights uniform with variance 1/fan_in so outputs stay O(1).
    fill_uniform(x_->bf(), x_->count, seed + 1, 1.7f, 0.0f, stream);
    fill_uniform(g_ln_->bf(), g_ln_->count, seed + 2, 0.1f, 1.0f, stream);
    fill_uniform(w_in_->bf(), w_in_->count, seed + 3, std::sqrt(3.0f / D), 0.0f, stream);
    fill_uniform(gq_->bf(), gq_->count, seed + 4, 0.1f, 1.0f, stream);
    fill_uniform(gk_->bf(), gk_->count, seed + 5, 0.1f, 1.0f, stream);
    fill_uniform(b1_->bf(), b1_->count, seed + 6, 0.1f, 0.0f, stream);
    fill_uniform(w_out_->bf(), w_out_->count, seed + 7, std::sqrt(3.0f / static_cast<float>(N2_)),
                 0.0f, stream);
    fill_uniform(b2_->bf(), b2_->count, seed + 8, 0.1f, 0.0f, stream);
    fill_uniform(dy_->bf(), dy_->count, seed + 9, 1.0f, 0.0f, stream);
    fill_uniform(dout_->bf(), dout_->count, seed + 10, 1.0f, 0.0f, stream);
    CUDA_CHECK(cudaStreamSynchronize(stream));
  }

  static double matmul_bytes(std::int64_t batch, std::int64_t m, std::int64_t n, std::int64_t k) {
    return 2.0 * static_cast<double>(batch) * static_cast<double>(m * k + k * n + m * n);
  }

  void add_matmul(const std::string& name, const std::string& pass, const MatmulSpec& spec,
                  cublasLtHandle_t lt, void* workspace) {
    auto plan = std::make_shared<LtMatmul>(lt, spec, workspace);
    LayerOp op;
    op.name = name;
    op.pass = pass;
    op.kind = spec.batch > 1 ? "batched_matmul" : "matmul";
    op.batch = spec.batch;
    op.m = spec.m;
    op.n = spec.n;
    op.k = spec.k;
    op.flop = 2.0 * static_cast<double>(spec.batch) * static_cast<double>(spec.m) *
              static_cast<double>(spec.n) * static_cast<double>(spec.k);
    op.bytes = matmul_bytes(spec.batch, spec.m, spec.n, spec.k);
    op.run = [plan](cudaStream_t stream) { plan->run(stream); };
    op.check = [spec](ref::ErrorStats& stats, std::mt19937_64& rng) {
      const ref::Operand a = spec.a.host(), b = spec.b.host();
      for (int s = 0; s < kMatmulSamples; ++s) {
        const std::int64_t bt = sample_index(rng, spec.batch), i = sample_index(rng, spec.m),
                           j = sample_index(rng, spec.n);
        const double want = ref::matmul_entry(a, b, bt, i, j, spec.k, spec.alpha);
        stats.add(
            value_at(spec.c.buf, spec.c.offset + bt * spec.c.batch_stride + i * spec.c.ld + j),
            want);
      }
    };
    ops_.push_back(std::move(op));
  }

  LayerOp memory_op(const std::string& name, const std::string& pass, const std::string& kind,
                    std::int64_t rows, std::int64_t cols, double flop, double bytes) {
    LayerOp op;
    op.name = name;
    op.pass = pass;
    op.kind = kind;
    op.m = rows;
    op.n = cols;
    op.k = 0;
    op.flop = flop;
    op.bytes = bytes;
    return op;
  }

  void build_ops(cublasLtHandle_t lt, void* ws) {
    const std::int64_t D = kWidth, T = kTokensPerImage, hd = kHeadDim, M = M_;
    const std::int64_t Dk = Dk_, Fk = Fk_, N1 = N1_, N2 = N2_, BH = BH_;
    const HeadLayout heads{M, kTokensPerImage, static_cast<int>(Hk_)};
    const double e = 2.0;  // bytes per bf16 element
    const float scale = 1.0f / std::sqrt(static_cast<float>(kHeadDim));
    Layer* self = this;

    // ---- forward ----
    {
      LayerOp op = memory_op("ln", "forward", "norm", M, D, 4.0 * M * D, e * (2.0 * M * D + D));
      op.run = [self, M](cudaStream_t st) {
        rms_norm_fwd(self->x_->bf(), kWidth, self->g_ln_->bf(), self->xn_->bf(), kWidth, M, kWidth,
                     st);
      };
      op.check = [self, M](ref::ErrorStats& stats, std::mt19937_64& rng) {
        for (int s = 0; s < kRowSamples; ++s) {
          const std::int64_t r = sample_index(rng, M);
          const auto want =
              ref::rms_norm_row(&self->x_->host16[r * kWidth], self->g_ln_->host16.data(), kWidth);
          for (int c = 0; c < kWidth; ++c)
            stats.add(value_at(self->xn_, r * kWidth + c), want[c]);
        }
      };
      ops_.push_back(std::move(op));
    }
    add_matmul(
        "fused_in_proj", "forward",
        {{xn_, 0, D, 0, false}, {w_in_, 0, N1, 0, false}, {h_, 0, N1, 0, false}, 1, M, N1, D}, lt,
        ws);
    {
      LayerOp op =
          memory_op("qk_norm", "forward", "norm", 2 * M * Hk_, hd, 8.0 * M * Dk, e * 6.0 * M * Dk);
      op.run = [self, heads, N1](cudaStream_t st) {
        qk_norm_fwd(self->h_->bf(), N1, self->gq_->bf(), self->gk_->bf(), self->qh_->bf(),
                    self->kh_->bf(), self->vh_->bf(), heads, st);
      };
      op.check = [self, heads, N1](ref::ErrorStats& stats, std::mt19937_64& rng) {
        for (int s = 0; s < kRowSamples; ++s) {
          const std::int64_t row = sample_index(rng, heads.tokens),
                             head = sample_index(rng, heads.heads);
          const std::int64_t img = row / kTokensPerImage, t = row % kTokensPerImage;
          const std::int64_t hm = ((img * heads.heads + head) * kTokensPerImage + t) * kHeadDim;
          const std::int64_t width = static_cast<std::int64_t>(heads.heads) * kHeadDim;
          const std::uint16_t* src = &self->h_->host16[row * N1 + head * kHeadDim];
          const auto q = ref::rms_norm_row(src, self->gq_->host16.data(), kHeadDim);
          const auto k = ref::rms_norm_row(src + width, self->gk_->host16.data(), kHeadDim);
          for (int d = 0; d < kHeadDim; ++d) {
            stats.add(value_at(self->qh_, hm + d), q[d]);
            stats.add(value_at(self->kh_, hm + d), k[d]);
            stats.add(value_at(self->vh_, hm + d), ref::bf16_to_float(src[2 * width + d]));
          }
        }
      };
      ops_.push_back(std::move(op));
    }
    const std::int64_t s_attn = T * hd, s_scores = T * T;
    add_matmul("attn_scores", "forward",
               {{qh_, 0, hd, s_attn, false},
                {kh_, 0, hd, s_attn, true},
                {s_, 0, T, s_scores, false},
                BH,
                T,
                T,
                hd,
                scale},
               lt, ws);
    {
      const std::int64_t rows = BH * T;
      LayerOp op =
          memory_op("softmax", "forward", "softmax", rows, T, 5.0 * rows * T, e * 2.0 * rows * T);
      op.run = [self, rows](cudaStream_t st) {
        softmax_fwd(self->s_->bf(), self->p_->bf(), rows, kTokensPerImage, st);
      };
      op.check = [self, rows](ref::ErrorStats& stats, std::mt19937_64& rng) {
        for (int s = 0; s < kRowSamples; ++s) {
          const std::int64_t r = sample_index(rng, rows);
          const auto want =
              ref::softmax_row(&self->s_->host16[r * kTokensPerImage], kTokensPerImage);
          for (int c = 0; c < kTokensPerImage; ++c)
            stats.add(value_at(self->p_, r * kTokensPerImage + c), want[c]);
        }
      };
      ops_.push_back(std::move(op));
    }
    add_matmul("attn_values", "forward",
               {{p_, 0, T, s_scores, false},
                {vh_, 0, hd, s_attn, false},
                {o_, 0, hd, s_attn, false},
                BH,
                T,
                hd,
                T},
               lt, ws);
    {
      LayerOp op = memory_op("merge_heads", "forward", "elementwise", M, Dk, 0.0, e * 2.0 * M * Dk);
      op.run = [self, heads, N2](cudaStream_t st) {
        merge_heads(self->o_->bf(), self->a2_->bf(), N2, heads, st);
      };
      op.check = [self, heads, N2](ref::ErrorStats& stats, std::mt19937_64& rng) {
        const std::int64_t width = static_cast<std::int64_t>(heads.heads) * kHeadDim;
        for (int s = 0; s < kElementSamples; ++s) {
          const std::int64_t row = sample_index(rng, heads.tokens), col = sample_index(rng, width);
          const std::int64_t img = row / kTokensPerImage, t = row % kTokensPerImage;
          const std::int64_t hm =
              ((img * heads.heads + col / kHeadDim) * kTokensPerImage + t) * kHeadDim +
              col % kHeadDim;
          stats.add(value_at(self->a2_, row * N2 + col), value_at(self->o_, hm));
        }
      };
      ops_.push_back(std::move(op));
    }
    {
      LayerOp op = memory_op("gelu", "forward", "elementwise", M, Fk, 12.0 * M * Fk,
                             e * (2.0 * M * Fk + Fk));
      op.run = [self, M, Dk, Fk, N1, N2](cudaStream_t st) {
        gelu_bias_fwd(self->h_->bf() + 3 * Dk, N1, self->b1_->bf(), self->a2_->bf() + Dk, N2, M,
                      static_cast<int>(Fk), st);
      };
      op.check = [self, M, Dk, Fk, N1, N2](ref::ErrorStats& stats, std::mt19937_64& rng) {
        for (int s = 0; s < kElementSamples; ++s) {
          const std::int64_t r = sample_index(rng, M), c = sample_index(rng, Fk);
          const double u = value_at(self->h_, r * N1 + 3 * Dk + c) + value_at(self->b1_, c);
          stats.add(value_at(self->a2_, r * N2 + Dk + c), ref::gelu(u));
        }
      };
      ops_.push_back(std::move(op));
    }
    add_matmul(
        "fused_out_proj", "forward",
        {{a2_, 0, N2, 0, false}, {w_out_, 0, D, 0, false}, {out_, 0, D, 0, false}, 1, M, D, N2}, lt,
        ws);
    {
      LayerOp op = memory_op("residual", "forward", "elementwise", M, Dk, 2.0 * M * Dk,
                             e * (3.0 * M * Dk + Dk));
      op.run = [self, M, Dk](cudaStream_t st) {
        residual_fwd(self->x_->bf(), kWidth, self->out_->bf(), kWidth, self->b2_->bf(),
                     self->y_->bf(), Dk, M, static_cast<int>(Dk), st);
      };
      op.check = [self, M, Dk](ref::ErrorStats& stats, std::mt19937_64& rng) {
        for (int s = 0; s < kElementSamples; ++s) {
          const std::int64_t r = sample_index(rng, M), c = sample_index(rng, Dk);
          const double want = value_at(self->x_, r * kWidth + c) +
                              value_at(self->out_, r * kWidth + c) + value_at(self->b2_, c);
          stats.add(value_at(self->y_, r * Dk + c), want);
        }
      };
      ops_.push_back(std::move(op));
    }

    // ---- backward (reverse order; each linear: input gradient, then weight gradient) ----
    add_matmul(
        "fused_out_proj", "backward_input",
        {{dout_, 0, D, 0, false}, {w_out_, 0, D, 0, true}, {da2_, 0, N2, 0, false}, 1, M, N2, D},
        lt, ws);
    add_matmul(
        "fused_out_proj", "backward_weight",
        {{a2_, 0, N2, 0, true}, {dout_, 0, D, 0, false}, {dw_out_, 0, D, 0, false}, 1, N2, D, M},
        lt, ws);
    {
      LayerOp op = memory_op("gelu", "backward_input", "elementwise", M, Fk, 16.0 * M * Fk,
                             e * (3.0 * M * Fk + Fk) + 4.0 * Fk);
      op.run = [self, M, Dk, Fk, N1, N2](cudaStream_t st) {
        CUDA_CHECK(cudaMemsetAsync(self->db1_->dev, 0, self->db1_->bytes(), st));
        gelu_bias_bwd(self->h_->bf() + 3 * Dk, N1, self->b1_->bf(), self->da2_->bf() + Dk, N2,
                      self->dh_->bf() + 3 * Dk, N1, self->db1_->f32(), M, static_cast<int>(Fk), st);
      };
      op.check = [self, M, Dk, Fk, N1, N2](ref::ErrorStats& stats, std::mt19937_64& rng) {
        auto du = [&](std::int64_t r, std::int64_t c) {
          const double u = value_at(self->h_, r * N1 + 3 * Dk + c) + value_at(self->b1_, c);
          return value_at(self->da2_, r * N2 + Dk + c) * ref::gelu_grad(u);
        };
        for (int s = 0; s < kElementSamples; ++s) {
          const std::int64_t r = sample_index(rng, M), c = sample_index(rng, Fk);
          stats.add(value_at(self->dh_, r * N1 + 3 * Dk + c), du(r, c));
        }
        for (int s = 0; s < kColumnSamples; ++s) {
          const std::int64_t c = sample_index(rng, Fk);
          double sum = 0;
          for (std::int64_t r = 0; r < M; ++r)
            sum += du(r, c);
          stats.add(value_at(self->db1_, c), sum);
        }
      };
      ops_.push_back(std::move(op));
    }
    {
      LayerOp op =
          memory_op("merge_heads", "backward_input", "elementwise", M, Dk, 0.0, e * 2.0 * M * Dk);
      op.run = [self, heads, N2](cudaStream_t st) {
        split_heads(self->da2_->bf(), N2, self->do_->bf(), heads, st);
      };
      op.check = [self, heads, N2](ref::ErrorStats& stats, std::mt19937_64& rng) {
        const std::int64_t width = static_cast<std::int64_t>(heads.heads) * kHeadDim;
        for (int s = 0; s < kElementSamples; ++s) {
          const std::int64_t row = sample_index(rng, heads.tokens), col = sample_index(rng, width);
          const std::int64_t img = row / kTokensPerImage, t = row % kTokensPerImage;
          const std::int64_t hm =
              ((img * heads.heads + col / kHeadDim) * kTokensPerImage + t) * kHeadDim +
              col % kHeadDim;
          stats.add(value_at(self->do_, hm), value_at(self->da2_, row * N2 + col));
        }
      };
      ops_.push_back(std::move(op));
    }
    add_matmul("attn_values", "backward_input",
               {{do_, 0, hd, s_attn, false},
                {vh_, 0, hd, s_attn, true},
                {dp_, 0, T, s_scores, false},
                BH,
                T,
                T,
                hd},
               lt, ws);
    add_matmul("attn_values", "backward_weight",
               {{p_, 0, T, s_scores, true},
                {do_, 0, hd, s_attn, false},
                {dv_, 0, hd, s_attn, false},
                BH,
                T,
                hd,
                T},
               lt, ws);
    {
      const std::int64_t rows = BH * T;
      LayerOp op = memory_op("softmax", "backward_input", "softmax", rows, T, 4.0 * rows * T,
                             e * 3.0 * rows * T);
      op.run = [self, rows](cudaStream_t st) {
        softmax_bwd(self->p_->bf(), self->dp_->bf(), self->ds_->bf(), rows, kTokensPerImage, st);
      };
      op.check = [self, rows](ref::ErrorStats& stats, std::mt19937_64& rng) {
        for (int s = 0; s < kRowSamples; ++s) {
          const std::int64_t r = sample_index(rng, rows);
          const auto want =
              ref::softmax_bwd_row(&self->p_->host16[r * kTokensPerImage],
                                   &self->dp_->host16[r * kTokensPerImage], kTokensPerImage);
          for (int c = 0; c < kTokensPerImage; ++c)
            stats.add(value_at(self->ds_, r * kTokensPerImage + c), want[c]);
        }
      };
      ops_.push_back(std::move(op));
    }
    // scores = scale q k^T: dq = scale ds k ("input" gradient), dk = scale ds^T q (the second
    // operand's gradient, reported as pass backward_weight).
    add_matmul("attn_scores", "backward_input",
               {{ds_, 0, T, s_scores, false},
                {kh_, 0, hd, s_attn, false},
                {dq_, 0, hd, s_attn, false},
                BH,
                T,
                hd,
                T,
                scale},
               lt, ws);
    add_matmul("attn_scores", "backward_weight",
               {{ds_, 0, T, s_scores, true},
                {qh_, 0, hd, s_attn, false},
                {dk_, 0, hd, s_attn, false},
                BH,
                T,
                hd,
                T,
                scale},
               lt, ws);
    {
      LayerOp op = memory_op("qk_norm", "backward_input", "norm", 2 * M * Hk_, hd, 16.0 * M * Dk,
                             e * 8.0 * M * Dk);
      op.run = [self, heads, N1](cudaStream_t st) {
        qk_norm_bwd(self->h_->bf(), N1, self->gq_->bf(), self->gk_->bf(), self->dq_->bf(),
                    self->dk_->bf(), self->dv_->bf(), self->dh_->bf(), N1, heads, st);
      };
      op.check = [self, heads, N1](ref::ErrorStats& stats, std::mt19937_64& rng) {
        for (int s = 0; s < kRowSamples; ++s) {
          const std::int64_t row = sample_index(rng, heads.tokens),
                             head = sample_index(rng, heads.heads);
          const std::int64_t img = row / kTokensPerImage, t = row % kTokensPerImage;
          const std::int64_t hm = ((img * heads.heads + head) * kTokensPerImage + t) * kHeadDim;
          const std::int64_t width = static_cast<std::int64_t>(heads.heads) * kHeadDim;
          const std::int64_t col = row * N1 + head * kHeadDim;
          const auto dq = ref::rms_norm_bwd_row(&self->h_->host16[col], self->gq_->host16.data(),
                                                &self->dq_->host16[hm], kHeadDim);
          const auto dk =
              ref::rms_norm_bwd_row(&self->h_->host16[col + width], self->gk_->host16.data(),
                                    &self->dk_->host16[hm], kHeadDim);
          for (int d = 0; d < kHeadDim; ++d) {
            stats.add(value_at(self->dh_, col + d), dq[d]);
            stats.add(value_at(self->dh_, col + width + d), dk[d]);
            stats.add(value_at(self->dh_, col + 2 * width + d), value_at(self->dv_, hm + d));
          }
        }
      };
      ops_.push_back(std::move(op));
    }
    add_matmul(
        "fused_in_proj", "backward_input",
        {{dh_, 0, N1, 0, false}, {w_in_, 0, N1, 0, true}, {dxn_, 0, D, 0, false}, 1, M, D, N1}, lt,
        ws);
    add_matmul(
        "fused_in_proj", "backward_weight",
        {{xn_, 0, D, 0, true}, {dh_, 0, N1, 0, false}, {dw_in_, 0, N1, 0, false}, 1, D, N1, M}, lt,
        ws);
    {
      LayerOp op =
          memory_op("ln", "backward_input", "norm", M, D, 8.0 * M * D, e * (3.0 * M * D + D));
      op.run = [self, M](cudaStream_t st) {
        rms_norm_bwd(self->x_->bf(), kWidth, self->g_ln_->bf(), self->dxn_->bf(), kWidth,
                     self->dxln_->bf(), kWidth, M, kWidth, st);
      };
      op.check = [self, M](ref::ErrorStats& stats, std::mt19937_64& rng) {
        for (int s = 0; s < kRowSamples; ++s) {
          const std::int64_t r = sample_index(rng, M);
          const auto want =
              ref::rms_norm_bwd_row(&self->x_->host16[r * kWidth], self->g_ln_->host16.data(),
                                    &self->dxn_->host16[r * kWidth], kWidth);
          for (int c = 0; c < kWidth; ++c)
            stats.add(value_at(self->dxln_, r * kWidth + c), want[c]);
        }
      };
      ops_.push_back(std::move(op));
    }
    {
      LayerOp op = memory_op("residual", "backward_input", "elementwise", M, Dk, 2.0 * M * Dk,
                             e * 3.0 * M * Dk + 4.0 * Dk);
      op.run = [self, M, Dk](cudaStream_t st) {
        CUDA_CHECK(cudaMemsetAsync(self->db2_->dev, 0, self->db2_->bytes(), st));
        residual_bwd(self->dy_->bf(), Dk, self->dxln_->bf(), kWidth, self->dx_->bf(), Dk,
                     self->db2_->f32(), M, static_cast<int>(Dk), st);
      };
      op.check = [self, M, Dk](ref::ErrorStats& stats, std::mt19937_64& rng) {
        for (int s = 0; s < kElementSamples; ++s) {
          const std::int64_t r = sample_index(rng, M), c = sample_index(rng, Dk);
          stats.add(value_at(self->dx_, r * Dk + c),
                    value_at(self->dy_, r * Dk + c) + value_at(self->dxln_, r * kWidth + c));
        }
        for (int s = 0; s < kColumnSamples; ++s) {
          const std::int64_t c = sample_index(rng, Dk);
          double sum = 0;
          for (std::int64_t r = 0; r < M; ++r)
            sum += value_at(self->dy_, r * Dk + c);
          stats.add(value_at(self->db2_, c), sum);
        }
      };
      ops_.push_back(std::move(op));
    }
  }

  int b_, k_;
  std::int64_t M_ = 0, Dk_ = 0, Fk_ = 0, Hk_ = 0, N1_ = 0, N2_ = 0, BH_ = 0;
  Buffers buffers_;
  Buffer *x_, *g_ln_, *w_in_, *gq_, *gk_, *b1_, *w_out_, *b2_, *dy_, *dout_;
  Buffer *xn_, *h_, *qh_, *kh_, *vh_, *s_, *p_, *o_, *a2_, *out_, *y_;
  Buffer *da2_, *dw_out_, *db1_, *do_, *dp_, *dv_, *ds_, *dq_, *dk_, *dh_, *dxn_, *dw_in_, *dxln_,
      *dx_, *db2_;
  std::vector<LayerOp> ops_;
};

// ---------------------------------------------------------------------------------------------
// Device facts and clocks.
std::string trim(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ' || s.back() == '\r'))
    s.pop_back();
  while (!s.empty() && s.front() == ' ')
    s.erase(s.begin());
  return s;
}

std::vector<std::string> nvidia_smi(const std::string& pci_bus_id, const std::string& fields) {
  const std::string command = "nvidia-smi --query-gpu=" + fields +
                              " --format=csv,noheader,nounits -i " + pci_bus_id + " 2>/dev/null";
  std::vector<std::string> values;
  FILE* pipe = popen(command.c_str(), "r");
  if (pipe == nullptr)
    return values;
  char line[1024] = {0};
  std::string text;
  while (std::fgets(line, sizeof line, pipe) != nullptr)
    text += line;
  if (pclose(pipe) != 0)
    return {};
  std::stringstream in(trim(text));
  std::string item;
  while (std::getline(in, item, ','))
    values.push_back(trim(item));
  return values;
}

std::string json_string(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (static_cast<unsigned char>(c) < 0x20) {
      out += ' ';
    } else {
      out += c;
    }
  }
  return out + "\"";
}

std::string json_number(double v) {
  if (!std::isfinite(v))
    return "null";
  char buffer[64];
  std::snprintf(buffer, sizeof buffer, "%.9g", v);
  return buffer;
}

// A number from nvidia-smi or null ("[N/A]" and friends).
std::string smi_number(const std::vector<std::string>& values, std::size_t i) {
  if (i >= values.size())
    return "null";
  char* end = nullptr;
  const double v = std::strtod(values[i].c_str(), &end);
  return (end != values[i].c_str() && *end == '\0') ? json_number(v) : "null";
}

std::string clocks_json(const std::string& pci_bus_id) {
  const auto v = nvidia_smi(pci_bus_id,
                            "clocks.sm,clocks.mem,clocks.max.sm,clocks.max.mem,temperature.gpu,"
                            "power.draw,pstate");
  if (v.size() < 7)
    return "null";
  return "{\"sm_mhz\": " + smi_number(v, 0) + ", \"memory_mhz\": " + smi_number(v, 1) +
         ", \"sm_max_mhz\": " + smi_number(v, 2) + ", \"memory_max_mhz\": " + smi_number(v, 3) +
         ", \"temperature_c\": " + smi_number(v, 4) + ", \"power_w\": " + smi_number(v, 5) +
         ", \"pstate\": " + json_string(v[6]) + ", \"source\": \"nvidia-smi\"}";
}

std::string utc_now() {
  const std::time_t now = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&now, &tm);
  char buffer[32];
  std::strftime(buffer, sizeof buffer, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buffer;
}

std::string timing_json(const Timing& t, double flop, double bytes) {
  return "\"median_s\": " + json_number(t.median_s) + ", \"min_s\": " + json_number(t.min_s) +
         ", \"max_s\": " + json_number(t.max_s) + ", \"repeats\": " + std::to_string(t.repeats) +
         ", \"tflop_per_s\": " + json_number(flop / t.median_s / 1e12) +
         ", \"gb_per_s\": " + json_number(bytes / t.median_s / 1e9);
}

// ---------------------------------------------------------------------------------------------
ShapeResult run_shape(int b, int k, const Options& options, cublasLtHandle_t lt, void* workspace,
                      Buffer* flush, cudaStream_t stream, const std::string& pci_bus_id) {
  ShapeResult result;
  result.batch_images = b;
  result.model_axis = k;
  Layer layer(b, k, lt, workspace, options.seed + 1000ull * static_cast<std::uint64_t>(b * 100 + k),
              stream);
  // Correctness first: poison, run the whole layer once, compare every op with the reference.
  layer.poison_outputs(stream);
  for (auto& op : layer.ops())
    op.run(stream);
  CUDA_CHECK(cudaStreamSynchronize(stream));
  result.nonfinite_outputs = layer.count_nonfinite_outputs(stream);
  layer.buffers().copy_to_host();
  std::mt19937_64 rng(options.seed ^ static_cast<std::uint64_t>(b * 131 + k));
  for (auto& op : layer.ops()) {
    ref::ErrorStats stats;
    op.check(stats, rng);
    OpResult r;
    r.op = op;
    r.check.max_rel_error = stats.max_rel_error();
    r.check.samples = stats.count();
    r.check.nonfinite = stats.nonfinite();
    result.passed = result.passed && r.check.passed();
    std::fprintf(stderr, "  b=%d k=%-2d %-16s %-16s max_rel_error %.2e over %lld samples %s\n", b,
                 k, op.name.c_str(), op.pass.c_str(), r.check.max_rel_error,
                 static_cast<long long>(r.check.samples), r.check.passed() ? "ok" : "FAILED");
    result.ops.push_back(std::move(r));
  }
  layer.buffers().release_host();
  result.passed = result.passed && result.nonfinite_outputs == 0;
  if (!options.timing)
    return result;

  // Timing: every op alone, then the whole layer forward + backward as one CUDA graph replay.
  for (auto& r : result.ops) {
    r.timing = time_launch(r.op.run, stream, options, flush);
    result.layer_flop += r.op.flop;
    result.layer_bytes += r.op.bytes;
  }
  cudaGraph_t graph = nullptr;
  cudaGraphExec_t exec = nullptr;
  CUDA_CHECK(cudaStreamBeginCapture(stream, cudaStreamCaptureModeThreadLocal));
  for (auto& op : layer.ops())
    op.run(stream);
  CUDA_CHECK(cudaStreamEndCapture(stream, &graph));
  CUDA_CHECK(cudaGraphInstantiate(&exec, graph, 0));
  std::size_t nodes = 0;
  CUDA_CHECK(cudaGraphGetNodes(graph, nullptr, &nodes));
  result.layer_kernels = static_cast<int>(nodes);
  result.layer = time_launch([exec](cudaStream_t st) { CUDA_CHECK(cudaGraphLaunch(exec, st)); },
                             stream, options, flush);
  CUDA_CHECK(cudaGraphExecDestroy(exec));
  CUDA_CHECK(cudaGraphDestroy(graph));
  // The timed runs must still produce finite outputs.
  const std::int64_t after = layer.count_nonfinite_outputs(stream);
  result.nonfinite_outputs += after;
  result.passed = result.passed && after == 0;
  result.clocks_after = clocks_json(pci_bus_id);
  return result;
}

std::string shape_json(const ShapeResult& s) {
  std::ostringstream out;
  out << "    {\"batch_images\": " << s.batch_images << ", \"model_axis\": " << s.model_axis
      << ", \"tokens\": " << static_cast<long long>(s.batch_images) * kTokensPerImage
      << ",\n     \"correctness\": {\"passed\": " << (s.passed ? "true" : "false")
      << ", \"nonfinite_outputs\": " << s.nonfinite_outputs
      << ", \"tolerance\": " << json_number(kTolerance) << "},\n"
      << "     \"clocks_after\": " << s.clocks_after << ",\n"
      << "     \"layer\": {\"flop\": " << json_number(s.layer_flop)
      << ", \"bytes\": " << json_number(s.layer_bytes) << ", \"kernels\": " << s.layer_kernels
      << ", " << timing_json(s.layer, s.layer_flop, s.layer_bytes) << "},\n"
      << "     \"ops\": [\n";
  for (std::size_t i = 0; i < s.ops.size(); ++i) {
    const OpResult& r = s.ops[i];
    out << "      {\"op\": " << json_string(r.op.name) << ", \"pass\": " << json_string(r.op.pass)
        << ", \"kind\": " << json_string(r.op.kind) << ", \"batch\": " << r.op.batch
        << ", \"m\": " << r.op.m << ", \"n\": " << r.op.n << ", \"k\": " << r.op.k
        << ", \"flop\": " << json_number(r.op.flop) << ", \"bytes\": " << json_number(r.op.bytes)
        << ", " << timing_json(r.timing, r.op.flop, r.op.bytes)
        << ", \"max_rel_error\": " << json_number(r.check.max_rel_error)
        << ", \"check_samples\": " << r.check.samples << "}" << (i + 1 < s.ops.size() ? "," : "")
        << "\n";
  }
  out << "     ]}";
  return out.str();
}

std::vector<int> parse_list(const std::string& text, const char* flag) {
  std::vector<int> values;
  std::stringstream in(text);
  std::string item;
  while (std::getline(in, item, ',')) {
    char* end = nullptr;
    const long v = std::strtol(item.c_str(), &end, 10);
    if (item.empty() || *end != '\0' || v < 1 || v > 4096)
      throw std::invalid_argument(std::string(flag) + ": expected positive integers, found '" +
                                  item + "'");
    values.push_back(static_cast<int>(v));
  }
  if (values.empty())
    throw std::invalid_argument(std::string(flag) + ": empty list");
  return values;
}

const char* kUsage =
    "usage: meshsim_cuda_harness [--self-check] [-o FILE] [--batches 1,4,16]\n"
    "                            [--model-axes 1,2,4,8,16] [--warmup 5] [--repeats 30]\n"
    "                            [--device 0] [--seed N]\n"
    "  --self-check   correctness of every op at two small shapes, no timing, no file\n"
    "  -o FILE        write the measurements (schema meshsim.cuda-measurements/v1)\n"
    "exit codes: 0 ok, 1 check or CUDA failure, 2 bad arguments, 77 no GPU\n";

Options parse_options(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    auto next = [&]() -> std::string {
      if (i + 1 >= argc)
        throw std::invalid_argument(arg + " needs a value");
      return argv[++i];
    };
    if (arg == "--self-check") {
      o.self_check = true;
    } else if (arg == "-o" || arg == "--output") {
      o.output = next();
    } else if (arg == "--batches") {
      o.batches = parse_list(next(), "--batches");
    } else if (arg == "--model-axes") {
      o.model_axes = parse_list(next(), "--model-axes");
    } else if (arg == "--warmup") {
      o.warmup = parse_list(next(), "--warmup").at(0);
    } else if (arg == "--repeats") {
      o.repeats = parse_list(next(), "--repeats").at(0);
    } else if (arg == "--device") {
      o.device = std::stoi(next());
    } else if (arg == "--seed") {
      o.seed = std::stoull(next());
    } else if (arg == "-h" || arg == "--help") {
      std::fputs(kUsage, stdout);
      std::exit(0);
    } else {
      throw std::invalid_argument("unknown argument '" + arg + "'");
    }
  }
  for (int k : o.model_axes)
    if (kHeads % k != 0)
      throw std::invalid_argument("--model-axes: " + std::to_string(k) +
                                  " does not divide the 48 heads");
  if (o.repeats < 20)
    throw std::invalid_argument("--repeats: at least 20 (issue 8)");
  if (!o.self_check && o.output.empty())
    throw std::invalid_argument("-o FILE is required");
  if (o.self_check) {
    o.batches = {1, 2};
    o.model_axes = {16, 8};
    o.timing = false;
  }
  return o;
}

int run(const Options& options) {
  CUDA_CHECK(cudaSetDevice(options.device));
  cudaDeviceProp prop{};
  CUDA_CHECK(cudaGetDeviceProperties(&prop, options.device));
  char pci[32] = {0};
  CUDA_CHECK(cudaDeviceGetPCIBusId(pci, sizeof pci, options.device));
  int driver = 0, runtime = 0;
  CUDA_CHECK(cudaDriverGetVersion(&driver));
  CUDA_CHECK(cudaRuntimeGetVersion(&runtime));
  const auto smi = nvidia_smi(pci, "driver_version");
  const std::string clocks_before = clocks_json(pci);
  const std::string date = utc_now();
  std::fprintf(stderr, "meshsim_cuda_harness: %s (%d SMs, sm_%d%d), %s\n", prop.name,
               prop.multiProcessorCount, prop.major, prop.minor,
               options.self_check ? "self-check" : "sweep");

  cudaStream_t stream = nullptr;
  CUDA_CHECK(cudaStreamCreateWithFlags(&stream, cudaStreamNonBlocking));
  cublasLtHandle_t lt = nullptr;
  CUBLAS_CHECK(cublasLtCreate(&lt));
  void* workspace = nullptr;
  CUDA_CHECK(cudaMalloc(&workspace, kWorkspaceBytes));
  Buffers scratch;
  const std::int64_t l2_bytes = std::max(prop.l2CacheSize, 1 << 20);
  Buffer* flush = scratch.add("l2_flush", 2 * l2_bytes, false);  // 2 x L2 elements of 2 bytes

  std::vector<ShapeResult> shapes;
  bool all_passed = true;
  for (int b : options.batches) {
    for (int k : options.model_axes) {
      shapes.push_back(run_shape(b, k, options, lt, workspace, flush, stream, pci));
      all_passed = all_passed && shapes.back().passed;
    }
  }
  const std::string clocks_after = clocks_json(pci);
  CUDA_CHECK(cudaFree(workspace));
  CUBLAS_CHECK(cublasLtDestroy(lt));
  CUDA_CHECK(cudaStreamDestroy(stream));

  if (options.self_check) {
    std::fprintf(stderr, "meshsim_cuda_harness: self-check %s\n", all_passed ? "passed" : "FAILED");
    return all_passed ? 0 : 1;
  }
  std::ostringstream out;
  out << "{\n  \"schema\": \"meshsim.cuda-measurements/v1\",\n"
      << "  \"generator\": \"meshsim cuda_validation/harness.cu\",\n"
      << "  \"date\": " << json_string(date) << ",\n"
      << "  \"device\": {\"name\": " << json_string(prop.name)
      << ", \"sm_count\": " << prop.multiProcessorCount << ", \"compute_capability\": "
      << json_string(std::to_string(prop.major) + "." + std::to_string(prop.minor))
      << ", \"memory_bytes\": " << json_number(static_cast<double>(prop.totalGlobalMem))
      << ", \"l2_bytes\": " << prop.l2CacheSize << ", \"pci_bus_id\": " << json_string(pci)
      << ",\n             \"driver_version\": "
      << (smi.empty() ? std::string("null") : json_string(smi[0]))
      << ", \"cuda_driver_api_version\": " << driver << ", \"cuda_runtime_version\": " << runtime
      << ", \"cublaslt_version\": " << cublasLtGetVersion() << "},\n"
      << "  \"clocks_before\": " << clocks_before << ",\n"
      << "  \"clocks_after\": " << clocks_after << ",\n"
      << "  \"model\": {\"name\": \"vit-22b\", \"width\": " << kWidth << ", \"mlp_dim\": " << kMlp
      << ", \"heads\": " << kHeads << ", \"head_dim\": " << kHeadDim
      << ", \"tokens_per_image\": " << kTokensPerImage << "},\n"
      << "  \"method\": {\"warmup\": " << options.warmup << ", \"repeats\": " << options.repeats
      << ", \"l2_flush_bytes\": " << flush->bytes() << ", \"seed\": " << options.seed
      << ", \"dtype\": \"bf16 operands, fp32 accumulation\", \"attention\": "
         "\"batched matmuls (cuBLASLt strided batch) + separate softmax kernel\"},\n"
      << "  \"all_checks_passed\": " << (all_passed ? "true" : "false") << ",\n"
      << "  \"shapes\": [\n";
  for (std::size_t i = 0; i < shapes.size(); ++i)
    out << shape_json(shapes[i]) << (i + 1 < shapes.size() ? ",\n" : "\n");
  out << "  ]\n}\n";
  // Atomic write: temporary file beside the target, then rename.
  const std::string tmp = options.output + ".tmp";
  FILE* file = std::fopen(tmp.c_str(), "wb");
  if (file == nullptr)
    throw std::runtime_error("cannot write " + tmp);
  const std::string text = out.str();
  const bool ok = std::fwrite(text.data(), 1, text.size(), file) == text.size();
  if (std::fclose(file) != 0 || !ok)
    throw std::runtime_error("cannot write " + tmp);
  if (std::rename(tmp.c_str(), options.output.c_str()) != 0)
    throw std::runtime_error("cannot rename " + tmp + " to " + options.output);
  std::fprintf(stderr, "meshsim_cuda_harness: wrote %s (%zu shapes)%s\n", options.output.c_str(),
               shapes.size(), all_passed ? "" : "; SOME CHECKS FAILED");
  return all_passed ? 0 : 1;
}

}  // namespace
}  // namespace harness

int main(int argc, char** argv) {
  harness::Options options;
  try {
    options = harness::parse_options(argc, argv);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "meshsim_cuda_harness: %s\n%s", e.what(), harness::kUsage);
    return 2;
  }
  int devices = 0;
  const cudaError_t status = cudaGetDeviceCount(&devices);
  if (status != cudaSuccess || devices == 0) {
    std::fprintf(stderr,
                 "meshsim_cuda_harness: no CUDA GPU available (%s); nothing was checked or "
                 "measured (exit 77 = skipped)\n",
                 status != cudaSuccess ? cudaGetErrorString(status) : "0 devices");
    return 77;
  }
  if (options.device >= devices) {
    std::fprintf(stderr, "meshsim_cuda_harness: --device %d, but only %d GPU(s)\n", options.device,
                 devices);
    return 2;
  }
  try {
    return harness::run(options);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "meshsim_cuda_harness: error: %s\n", e.what());
    return 1;
  }
}
