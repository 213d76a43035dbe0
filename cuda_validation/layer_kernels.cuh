#pragma once
// Hand-written memory-bound kernels of one ViT-22B layer (DESIGN §1, §6): LayerNorm without
// centering (RMS-style, scale only), QK-LayerNorm per head with the head-major relayout of q, k, v,
// softmax, GELU (+ bias), head merge/split and the residual add, forward and backward. The
// matmuls are cuBLASLt calls in harness.cu. Every launcher checks its launch (CUDA_CHECK).
#include <cuda_bf16.h>
#include <cuda_runtime.h>

#include <cstdint>

namespace harness {

using bf16 = __nv_bfloat16;

constexpr int kHeadDim = 128;  // ViT-22B head size (D / heads = 6144 / 48)

// Throws std::runtime_error naming the call, file and line when a CUDA call fails.
void cuda_check(cudaError_t status, const char* call, const char* file, int line);
#define CUDA_CHECK(call) ::harness::cuda_check((call), #call, __FILE__, __LINE__)

// Uniform values in [-scale, scale) from a counter-based hash of (index, seed), plus `offset`.
void fill_uniform(bf16* data, std::int64_t count, std::uint64_t seed, float scale, float offset,
                  cudaStream_t stream);
// Counts non-finite values (NaN, inf) into *count (device memory, not reset here).
void count_nonfinite(const bf16* data, std::int64_t count, unsigned long long* out,
                     cudaStream_t stream);
void count_nonfinite(const float* data, std::int64_t count, unsigned long long* out,
                     cudaStream_t stream);

// y[r, :] = x[r, :] / sqrt(mean(x[r, :]^2) + eps) * gamma   (LayerNorm without centering or bias)
void rms_norm_fwd(const bf16* x, std::int64_t ld_x, const bf16* gamma, bf16* y, std::int64_t ld_y,
                  std::int64_t rows, int cols, cudaStream_t stream);
// dx = r * gamma * dy - x * r^3 / n * sum(gamma * dy * x), r = 1/sqrt(mean(x^2) + eps)
void rms_norm_bwd(const bf16* x, std::int64_t ld_x, const bf16* gamma, const bf16* dy,
                  std::int64_t ld_dy, bf16* dx, std::int64_t ld_dx, std::int64_t rows, int cols,
                  cudaStream_t stream);

// Per-chip attention geometry: `tokens` rows (= images x tokens_per_image), `heads` local heads.
struct HeadLayout {
  std::int64_t tokens = 0;
  int tokens_per_image = 256;
  int heads = 0;  // local heads (H / k)
};

// QK-LayerNorm: q and k (columns [0, H*128) and [H*128, 2*H*128) of the fused projection output h,
// row stride ld_h) are normalized per (token, head) over the head dimension and scaled by gq / gk;
// v (columns [2*H*128, 3*H*128)) is copied. All three are written head-major [image, head, t, 128].
void qk_norm_fwd(const bf16* h, std::int64_t ld_h, const bf16* gq, const bf16* gk, bf16* q_hm,
                 bf16* k_hm, bf16* v_hm, HeadLayout layout, cudaStream_t stream);
// Backward of qk_norm_fwd: writes dh columns [0, 3*H*128) from the head-major gradients.
void qk_norm_bwd(const bf16* h, std::int64_t ld_h, const bf16* gq, const bf16* gk,
                 const bf16* dq_hm, const bf16* dk_hm, const bf16* dv_hm, bf16* dh,
                 std::int64_t ld_dh, HeadLayout layout, cudaStream_t stream);

// Row softmax over `cols` (<= 512, multiple of 32) columns, fp32 internally.
void softmax_fwd(const bf16* s, bf16* p, std::int64_t rows, int cols, cudaStream_t stream);
// ds = p * (dp - sum(dp * p))
void softmax_bwd(const bf16* p, const bf16* dp, bf16* ds, std::int64_t rows, int cols,
                 cudaStream_t stream);

// Head-major [image, head, t, 128] <-> token-major columns [0, H*128) of a (row stride ld) matrix.
void merge_heads(const bf16* o_hm, bf16* a, std::int64_t ld_a, HeadLayout layout,
                 cudaStream_t stream);
void split_heads(const bf16* a, std::int64_t ld_a, bf16* o_hm, HeadLayout layout,
                 cudaStream_t stream);

// g = gelu_tanh(u + b)   (tanh approximation, Hendrycks & Gimpel 2016, eq. in section 2)
void gelu_bias_fwd(const bf16* u, std::int64_t ld_u, const bf16* bias, bf16* g, std::int64_t ld_g,
                   std::int64_t rows, int cols, cudaStream_t stream);
// du = dg * gelu_tanh'(u + b); db (fp32, zeroed by the caller) += column sums of du.
void gelu_bias_bwd(const bf16* u, std::int64_t ld_u, const bf16* bias, const bf16* dg,
                   std::int64_t ld_dg, bf16* du, std::int64_t ld_du, float* db, std::int64_t rows,
                   int cols, cudaStream_t stream);

// y = x + o + b
void residual_fwd(const bf16* x, std::int64_t ld_x, const bf16* o, std::int64_t ld_o,
                  const bf16* bias, bf16* y, std::int64_t ld_y, std::int64_t rows, int cols,
                  cudaStream_t stream);
// dx = dy + dnorm; db (fp32, zeroed by the caller) += column sums of dy.
void residual_bwd(const bf16* dy, std::int64_t ld_dy, const bf16* dnorm, std::int64_t ld_dnorm,
                  bf16* dx, std::int64_t ld_dx, float* db, std::int64_t rows, int cols,
                  cudaStream_t stream);

}  // namespace harness
