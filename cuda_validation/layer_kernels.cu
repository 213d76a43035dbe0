#include <stdexcept>
#include <string>

#include "layer_kernels.cuh"

namespace harness {

void cuda_check(cudaError_t status, const char* call, const char* file, int line) {
  if (status == cudaSuccess)
    return;
  throw std::runtime_error(std::string(file) + ":" + std::to_string(line) + ": " + call +
                           " failed: " + cudaGetErrorName(status) + " (" +
                           cudaGetErrorString(status) + ")");
}

namespace {

constexpr float kNormEps = 1e-6f;
constexpr int kBlock = 256;

void require(bool ok, const char* what) {
  if (!ok)
    throw std::runtime_error(std::string("harness kernel precondition failed: ") + what);
}

unsigned grid_for(std::int64_t work_items, int per_block) {
  std::int64_t blocks = (work_items + per_block - 1) / per_block;
  if (blocks < 1)
    blocks = 1;
  if (blocks > 2147483647LL)
    blocks = 2147483647LL;
  return static_cast<unsigned>(blocks);
}

__device__ __forceinline__ float warp_sum(float v) {
  for (int offset = 16; offset > 0; offset >>= 1)
    v += __shfl_xor_sync(0xffffffffu, v, offset);
  return v;
}

__device__ __forceinline__ float warp_max(float v) {
  for (int offset = 16; offset > 0; offset >>= 1)
    v = fmaxf(v, __shfl_xor_sync(0xffffffffu, v, offset));
  return v;
}

// Sum over the block; every thread gets the result.
__device__ float block_sum(float v) {
  __shared__ float partial[32];
  const int lane = threadIdx.x % 32, warp = threadIdx.x / 32;
  v = warp_sum(v);
  if (lane == 0)
    partial[warp] = v;
  __syncthreads();
  v = (threadIdx.x < blockDim.x / 32) ? partial[lane] : 0.0f;
  if (warp == 0)
    v = warp_sum(v);
  if (threadIdx.x == 0)
    partial[0] = v;
  __syncthreads();
  const float total = partial[0];
  __syncthreads();
  return total;
}

// 8 bf16 <-> 8 floats through one 16-byte access (callers guarantee 16-byte alignment).
__device__ __forceinline__ void load8(const bf16* p, float (&v)[8]) {
  const uint4 raw = *reinterpret_cast<const uint4*>(p);
  const __nv_bfloat162* pairs = reinterpret_cast<const __nv_bfloat162*>(&raw);
  for (int i = 0; i < 4; ++i) {
    const float2 f = __bfloat1622float2(pairs[i]);
    v[2 * i] = f.x;
    v[2 * i + 1] = f.y;
  }
}

__device__ __forceinline__ void store8(bf16* p, const float (&v)[8]) {
  uint4 raw;
  __nv_bfloat162* pairs = reinterpret_cast<__nv_bfloat162*>(&raw);
  for (int i = 0; i < 4; ++i)
    pairs[i] = __floats2bfloat162_rn(v[2 * i], v[2 * i + 1]);
  *reinterpret_cast<uint4*>(p) = raw;
}

__device__ __forceinline__ void load4(const bf16* p, float (&v)[4]) {
  const uint2 raw = *reinterpret_cast<const uint2*>(p);
  const __nv_bfloat162* pairs = reinterpret_cast<const __nv_bfloat162*>(&raw);
  for (int i = 0; i < 2; ++i) {
    const float2 f = __bfloat1622float2(pairs[i]);
    v[2 * i] = f.x;
    v[2 * i + 1] = f.y;
  }
}

__device__ __forceinline__ void store4(bf16* p, const float (&v)[4]) {
  uint2 raw;
  __nv_bfloat162* pairs = reinterpret_cast<__nv_bfloat162*>(&raw);
  for (int i = 0; i < 2; ++i)
    pairs[i] = __floats2bfloat162_rn(v[2 * i], v[2 * i + 1]);
  *reinterpret_cast<uint2*>(p) = raw;
}

__device__ __forceinline__ std::uint64_t splitmix64(std::uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

// GELU, tanh approximation: 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))).
__device__ __forceinline__ float gelu(float x) {
  const float a = 0.7978845608f * (x + 0.044715f * x * x * x);
  return 0.5f * x * (1.0f + tanhf(a));
}

__device__ __forceinline__ float gelu_grad(float x) {
  const float a = 0.7978845608f * (x + 0.044715f * x * x * x);
  const float t = tanhf(a);
  return 0.5f * (1.0f + t) + 0.5f * x * (1.0f - t * t) * 0.7978845608f * (1.0f + 0.134145f * x * x);
}

__global__ void fill_uniform_kernel(bf16* data, std::int64_t count, std::uint64_t seed, float scale,
                                    float offset) {
  for (std::int64_t i = blockIdx.x * static_cast<std::int64_t>(blockDim.x) + threadIdx.x; i < count;
       i += static_cast<std::int64_t>(gridDim.x) * blockDim.x) {
    const std::uint64_t bits =
        splitmix64(static_cast<std::uint64_t>(i) ^ (seed * 0x2545f4914f6cdd1dULL));
    const float u = static_cast<float>(bits >> 40) * (1.0f / 16777216.0f);  // [0, 1)
    data[i] = __float2bfloat16(offset + scale * (2.0f * u - 1.0f));
  }
}

template <typename T>
__device__ __forceinline__ bool finite_value(T v);
template <>
__device__ __forceinline__ bool finite_value<bf16>(bf16 v) {
  return isfinite(__bfloat162float(v));
}
template <>
__device__ __forceinline__ bool finite_value<float>(float v) {
  return isfinite(v);
}

template <typename T>
__global__ void count_nonfinite_kernel(const T* data, std::int64_t count, unsigned long long* out) {
  unsigned long long bad = 0;
  for (std::int64_t i = blockIdx.x * static_cast<std::int64_t>(blockDim.x) + threadIdx.x; i < count;
       i += static_cast<std::int64_t>(gridDim.x) * blockDim.x) {
    if (!finite_value(data[i]))
      ++bad;
  }
  if (bad != 0)
    atomicAdd(out, bad);
}

__global__ void rms_norm_fwd_kernel(const bf16* x, std::int64_t ld_x, const bf16* gamma, bf16* y,
                                    std::int64_t ld_y, int cols) {
  const bf16* row = x + blockIdx.x * ld_x;
  float sumsq = 0.0f;
  for (int c = threadIdx.x * 8; c < cols; c += blockDim.x * 8) {
    float v[8];
    load8(row + c, v);
    for (int i = 0; i < 8; ++i)
      sumsq += v[i] * v[i];
  }
  const float r = rsqrtf(block_sum(sumsq) / static_cast<float>(cols) + kNormEps);
  for (int c = threadIdx.x * 8; c < cols; c += blockDim.x * 8) {
    float v[8], g[8];
    load8(row + c, v);
    load8(gamma + c, g);
    for (int i = 0; i < 8; ++i)
      v[i] = v[i] * r * g[i];
    store8(y + blockIdx.x * ld_y + c, v);
  }
}

__global__ void rms_norm_bwd_kernel(const bf16* x, std::int64_t ld_x, const bf16* gamma,
                                    const bf16* dy, std::int64_t ld_dy, bf16* dx,
                                    std::int64_t ld_dx, int cols) {
  const bf16* xr = x + blockIdx.x * ld_x;
  const bf16* dyr = dy + blockIdx.x * ld_dy;
  float sumsq = 0.0f, dot = 0.0f;
  for (int c = threadIdx.x * 8; c < cols; c += blockDim.x * 8) {
    float v[8], g[8], d[8];
    load8(xr + c, v);
    load8(gamma + c, g);
    load8(dyr + c, d);
    for (int i = 0; i < 8; ++i) {
      sumsq += v[i] * v[i];
      dot += g[i] * d[i] * v[i];
    }
  }
  const float n = static_cast<float>(cols);
  const float r = rsqrtf(block_sum(sumsq) / n + kNormEps);
  const float coeff = block_sum(dot) * r * r * r / n;
  for (int c = threadIdx.x * 8; c < cols; c += blockDim.x * 8) {
    float v[8], g[8], d[8];
    load8(xr + c, v);
    load8(gamma + c, g);
    load8(dyr + c, d);
    for (int i = 0; i < 8; ++i)
      d[i] = r * g[i] * d[i] - v[i] * coeff;
    store8(dx + blockIdx.x * ld_dx + c, d);
  }
}

// One warp per (token, local head); each lane holds 4 of the 128 head elements.
__global__ void qk_norm_fwd_kernel(const bf16* h, std::int64_t ld_h, const bf16* gq, const bf16* gk,
                                   bf16* q_hm, bf16* k_hm, bf16* v_hm, HeadLayout layout) {
  const std::int64_t pair = (blockIdx.x * static_cast<std::int64_t>(blockDim.x) + threadIdx.x) / 32;
  const int lane = threadIdx.x % 32;
  if (pair >= layout.tokens * layout.heads)
    return;
  const std::int64_t row = pair / layout.heads;
  const int head = static_cast<int>(pair % layout.heads);
  const std::int64_t image = row / layout.tokens_per_image, t = row % layout.tokens_per_image;
  const std::int64_t dst =
      ((image * layout.heads + head) * layout.tokens_per_image + t) * kHeadDim + lane * 4;
  const std::int64_t width = static_cast<std::int64_t>(layout.heads) * kHeadDim;
  const bf16* src = h + row * ld_h + static_cast<std::int64_t>(head) * kHeadDim + lane * 4;
  for (int which = 0; which < 2; ++which) {
    float v[4], g[4];
    load4(src + which * width, v);
    load4((which == 0 ? gq : gk) + lane * 4, g);
    const float r = rsqrtf(
        warp_sum(v[0] * v[0] + v[1] * v[1] + v[2] * v[2] + v[3] * v[3]) / kHeadDim + kNormEps);
    for (int i = 0; i < 4; ++i)
      v[i] = v[i] * r * g[i];
    store4((which == 0 ? q_hm : k_hm) + dst, v);
  }
  *reinterpret_cast<uint2*>(v_hm + dst) = *reinterpret_cast<const uint2*>(src + 2 * width);
}

__global__ void qk_norm_bwd_kernel(const bf16* h, std::int64_t ld_h, const bf16* gq, const bf16* gk,
                                   const bf16* dq_hm, const bf16* dk_hm, const bf16* dv_hm,
                                   bf16* dh, std::int64_t ld_dh, HeadLayout layout) {
  const std::int64_t pair = (blockIdx.x * static_cast<std::int64_t>(blockDim.x) + threadIdx.x) / 32;
  const int lane = threadIdx.x % 32;
  if (pair >= layout.tokens * layout.heads)
    return;
  const std::int64_t row = pair / layout.heads;
  const int head = static_cast<int>(pair % layout.heads);
  const std::int64_t image = row / layout.tokens_per_image, t = row % layout.tokens_per_image;
  const std::int64_t src_hm =
      ((image * layout.heads + head) * layout.tokens_per_image + t) * kHeadDim + lane * 4;
  const std::int64_t width = static_cast<std::int64_t>(layout.heads) * kHeadDim;
  const std::int64_t col = static_cast<std::int64_t>(head) * kHeadDim + lane * 4;
  for (int which = 0; which < 2; ++which) {
    float v[4], g[4], d[4];
    load4(h + row * ld_h + col + which * width, v);
    load4((which == 0 ? gq : gk) + lane * 4, g);
    load4((which == 0 ? dq_hm : dk_hm) + src_hm, d);
    float sumsq = 0.0f, dot = 0.0f;
    for (int i = 0; i < 4; ++i) {
      sumsq += v[i] * v[i];
      dot += g[i] * d[i] * v[i];
    }
    const float r = rsqrtf(warp_sum(sumsq) / kHeadDim + kNormEps);
    const float coeff = warp_sum(dot) * r * r * r / kHeadDim;
    for (int i = 0; i < 4; ++i)
      d[i] = r * g[i] * d[i] - v[i] * coeff;
    store4(dh + row * ld_dh + col + which * width, d);
  }
  *reinterpret_cast<uint2*>(dh + row * ld_dh + col + 2 * width) =
      *reinterpret_cast<const uint2*>(dv_hm + src_hm);
}

constexpr int kMaxSoftmaxPerLane = 16;  // cols <= 512

__global__ void softmax_fwd_kernel(const bf16* s, bf16* p, std::int64_t rows, int cols) {
  const std::int64_t row = (blockIdx.x * static_cast<std::int64_t>(blockDim.x) + threadIdx.x) / 32;
  const int lane = threadIdx.x % 32;
  if (row >= rows)
    return;
  const int per_lane = cols / 32;
  float v[kMaxSoftmaxPerLane];
  float m = -INFINITY;
  for (int i = 0; i < per_lane; ++i) {
    v[i] = __bfloat162float(s[row * cols + lane + 32 * i]);
    m = fmaxf(m, v[i]);
  }
  m = warp_max(m);
  float sum = 0.0f;
  for (int i = 0; i < per_lane; ++i) {
    v[i] = __expf(v[i] - m);
    sum += v[i];
  }
  const float inv = 1.0f / warp_sum(sum);
  for (int i = 0; i < per_lane; ++i)
    p[row * cols + lane + 32 * i] = __float2bfloat16(v[i] * inv);
}

__global__ void softmax_bwd_kernel(const bf16* p, const bf16* dp, bf16* ds, std::int64_t rows,
                                   int cols) {
  const std::int64_t row = (blockIdx.x * static_cast<std::int64_t>(blockDim.x) + threadIdx.x) / 32;
  const int lane = threadIdx.x % 32;
  if (row >= rows)
    return;
  const int per_lane = cols / 32;
  float pv[kMaxSoftmaxPerLane], dv[kMaxSoftmaxPerLane];
  float dot = 0.0f;
  for (int i = 0; i < per_lane; ++i) {
    pv[i] = __bfloat162float(p[row * cols + lane + 32 * i]);
    dv[i] = __bfloat162float(dp[row * cols + lane + 32 * i]);
    dot += pv[i] * dv[i];
  }
  dot = warp_sum(dot);
  for (int i = 0; i < per_lane; ++i)
    ds[row * cols + lane + 32 * i] = __float2bfloat16(pv[i] * (dv[i] - dot));
}

// Copies 8-element vectors between head-major and token-major layouts.
template <bool kToTokenMajor>
__global__ void relayout_heads_kernel(const bf16* src, bf16* dst, std::int64_t ld,
                                      HeadLayout layout) {
  const std::int64_t width = static_cast<std::int64_t>(layout.heads) * kHeadDim;
  const std::int64_t vectors = layout.tokens * width / 8;
  for (std::int64_t v = blockIdx.x * static_cast<std::int64_t>(blockDim.x) + threadIdx.x;
       v < vectors; v += static_cast<std::int64_t>(gridDim.x) * blockDim.x) {
    const std::int64_t e = v * 8;
    const std::int64_t row = e / width, col = e % width;
    const std::int64_t head = col / kHeadDim, d = col % kHeadDim;
    const std::int64_t image = row / layout.tokens_per_image, t = row % layout.tokens_per_image;
    const std::int64_t hm =
        ((image * layout.heads + head) * layout.tokens_per_image + t) * kHeadDim + d;
    const std::int64_t tm = row * ld + col;
    if (kToTokenMajor) {
      *reinterpret_cast<uint4*>(dst + tm) = *reinterpret_cast<const uint4*>(src + hm);
    } else {
      *reinterpret_cast<uint4*>(dst + hm) = *reinterpret_cast<const uint4*>(src + tm);
    }
  }
}

__global__ void gelu_bias_fwd_kernel(const bf16* u, std::int64_t ld_u, const bf16* bias, bf16* g,
                                     std::int64_t ld_g, std::int64_t rows, int cols) {
  const std::int64_t vectors = rows * (cols / 8);
  for (std::int64_t v = blockIdx.x * static_cast<std::int64_t>(blockDim.x) + threadIdx.x;
       v < vectors; v += static_cast<std::int64_t>(gridDim.x) * blockDim.x) {
    const std::int64_t row = v / (cols / 8);
    const int col = static_cast<int>(v % (cols / 8)) * 8;
    float x[8], b[8];
    load8(u + row * ld_u + col, x);
    load8(bias + col, b);
    for (int i = 0; i < 8; ++i)
      x[i] = gelu(x[i] + b[i]);
    store8(g + row * ld_g + col, x);
  }
}

__global__ void residual_fwd_kernel(const bf16* x, std::int64_t ld_x, const bf16* o,
                                    std::int64_t ld_o, const bf16* bias, bf16* y, std::int64_t ld_y,
                                    std::int64_t rows, int cols) {
  const std::int64_t vectors = rows * (cols / 8);
  for (std::int64_t v = blockIdx.x * static_cast<std::int64_t>(blockDim.x) + threadIdx.x;
       v < vectors; v += static_cast<std::int64_t>(gridDim.x) * blockDim.x) {
    const std::int64_t row = v / (cols / 8);
    const int col = static_cast<int>(v % (cols / 8)) * 8;
    float a[8], b[8], c[8];
    load8(x + row * ld_x + col, a);
    load8(o + row * ld_o + col, b);
    load8(bias + col, c);
    for (int i = 0; i < 8; ++i)
      a[i] = a[i] + b[i] + c[i];
    store8(y + row * ld_y + col, a);
  }
}

// Column-reducing elementwise backward kernels: block = 32 column vectors (8 columns each) x 8
// row lanes; per-thread sums are combined in shared memory, then one atomicAdd per column/block.
constexpr int kColVectors = 32, kRowLanes = 8;

template <bool kGelu>
__global__ void column_bwd_kernel(const bf16* a, std::int64_t ld_a, const bf16* bias, const bf16* b,
                                  std::int64_t ld_b, bf16* out, std::int64_t ld_out, float* db,
                                  std::int64_t rows, int cols) {
  // kGelu:  out = b * gelu'(a + bias), db += out.   else: out = a + b, db += a.
  __shared__ float partial[kRowLanes][kColVectors * 8];
  const int col = (blockIdx.x * kColVectors + threadIdx.x) * 8;
  float acc[8] = {0, 0, 0, 0, 0, 0, 0, 0};
  if (col < cols) {
    float bias_v[8] = {0, 0, 0, 0, 0, 0, 0, 0};
    if (kGelu)
      load8(bias + col, bias_v);
    for (std::int64_t row = blockIdx.y * kRowLanes + threadIdx.y; row < rows;
         row += static_cast<std::int64_t>(gridDim.y) * kRowLanes) {
      float va[8], vb[8], r[8];
      load8(a + row * ld_a + col, va);
      load8(b + row * ld_b + col, vb);
      for (int i = 0; i < 8; ++i) {
        if (kGelu) {
          r[i] = vb[i] * gelu_grad(va[i] + bias_v[i]);
          acc[i] += r[i];
        } else {
          r[i] = va[i] + vb[i];
          acc[i] += va[i];
        }
      }
      store8(out + row * ld_out + col, r);
    }
  }
  for (int i = 0; i < 8; ++i)
    partial[threadIdx.y][threadIdx.x * 8 + i] = acc[i];
  __syncthreads();
  if (threadIdx.y == 0 && col < cols) {
    for (int i = 0; i < 8; ++i) {
      float sum = 0.0f;
      for (int lane = 0; lane < kRowLanes; ++lane)
        sum += partial[lane][threadIdx.x * 8 + i];
      atomicAdd(db + col + i, sum);
    }
  }
}

void check_launch() {
  CUDA_CHECK(cudaGetLastError());
}

void require_vectors(std::int64_t ld_a, std::int64_t ld_b, int cols) {
  require(cols % 8 == 0 && ld_a % 8 == 0 && ld_b % 8 == 0,
          "columns and row strides must be multiples of 8 elements (16-byte vectors)");
}

dim3 column_grid(std::int64_t rows, int cols) {
  const unsigned x = grid_for(cols / 8, kColVectors);
  // About four blocks per SM of a 132-SM H100 in total, never more row chunks than rows / 8.
  std::int64_t y = (528 + x - 1) / x;
  const std::int64_t max_y = (rows + kRowLanes - 1) / kRowLanes;
  if (y > max_y)
    y = max_y;
  if (y < 1)
    y = 1;
  return dim3(x, static_cast<unsigned>(y), 1);
}

}  // namespace

void fill_uniform(bf16* data, std::int64_t count, std::uint64_t seed, float scale, float offset,
                  cudaStream_t stream) {
  fill_uniform_kernel<<<grid_for(count, kBlock * 16), kBlock, 0, stream>>>(data, count, seed, scale,
                                                                           offset);
  check_launch();
}

void count_nonfinite(const bf16* data, std::int64_t count, unsigned long long* out,
                     cudaStream_t stream) {
  count_nonfinite_kernel<<<grid_for(count, kBlock * 16), kBlock, 0, stream>>>(data, count, out);
  check_launch();
}

void count_nonfinite(const float* data, std::int64_t count, unsigned long long* out,
                     cudaStream_t stream) {
  count_nonfinite_kernel<<<grid_for(count, kBlock * 16), kBlock, 0, stream>>>(data, count, out);
  check_launch();
}

void rms_norm_fwd(const bf16* x, std::int64_t ld_x, const bf16* gamma, bf16* y, std::int64_t ld_y,
                  std::int64_t rows, int cols, cudaStream_t stream) {
  require_vectors(ld_x, ld_y, cols);
  rms_norm_fwd_kernel<<<static_cast<unsigned>(rows), kBlock, 0, stream>>>(x, ld_x, gamma, y, ld_y,
                                                                          cols);
  check_launch();
}

void rms_norm_bwd(const bf16* x, std::int64_t ld_x, const bf16* gamma, const bf16* dy,
                  std::int64_t ld_dy, bf16* dx, std::int64_t ld_dx, std::int64_t rows, int cols,
                  cudaStream_t stream) {
  require_vectors(ld_x, ld_dy, cols);
  require_vectors(ld_dx, ld_dx, cols);
  rms_norm_bwd_kernel<<<static_cast<unsigned>(rows), kBlock, 0, stream>>>(x, ld_x, gamma, dy, ld_dy,
                                                                          dx, ld_dx, cols);
  check_launch();
}

void qk_norm_fwd(const bf16* h, std::int64_t ld_h, const bf16* gq, const bf16* gk, bf16* q_hm,
                 bf16* k_hm, bf16* v_hm, HeadLayout layout, cudaStream_t stream) {
  require(ld_h % 8 == 0, "qk_norm: row stride must be a multiple of 8");
  const std::int64_t threads = layout.tokens * layout.heads * 32;
  qk_norm_fwd_kernel<<<grid_for(threads, kBlock), kBlock, 0, stream>>>(h, ld_h, gq, gk, q_hm, k_hm,
                                                                       v_hm, layout);
  check_launch();
}

void qk_norm_bwd(const bf16* h, std::int64_t ld_h, const bf16* gq, const bf16* gk,
                 const bf16* dq_hm, const bf16* dk_hm, const bf16* dv_hm, bf16* dh,
                 std::int64_t ld_dh, HeadLayout layout, cudaStream_t stream) {
  require(ld_h % 8 == 0 && ld_dh % 8 == 0, "qk_norm: row strides must be multiples of 8");
  const std::int64_t threads = layout.tokens * layout.heads * 32;
  qk_norm_bwd_kernel<<<grid_for(threads, kBlock), kBlock, 0, stream>>>(
      h, ld_h, gq, gk, dq_hm, dk_hm, dv_hm, dh, ld_dh, layout);
  check_launch();
}

void softmax_fwd(const bf16* s, bf16* p, std::int64_t rows, int cols, cudaStream_t stream) {
  require(cols % 32 == 0 && cols <= 32 * kMaxSoftmaxPerLane, "softmax: cols % 32 == 0, <= 512");
  softmax_fwd_kernel<<<grid_for(rows * 32, kBlock), kBlock, 0, stream>>>(s, p, rows, cols);
  check_launch();
}

void softmax_bwd(const bf16* p, const bf16* dp, bf16* ds, std::int64_t rows, int cols,
                 cudaStream_t stream) {
  require(cols % 32 == 0 && cols <= 32 * kMaxSoftmaxPerLane, "softmax: cols % 32 == 0, <= 512");
  softmax_bwd_kernel<<<grid_for(rows * 32, kBlock), kBlock, 0, stream>>>(p, dp, ds, rows, cols);
  check_launch();
}

void merge_heads(const bf16* o_hm, bf16* a, std::int64_t ld_a, HeadLayout layout,
                 cudaStream_t stream) {
  require(ld_a % 8 == 0, "merge_heads: row stride must be a multiple of 8");
  const std::int64_t vectors = layout.tokens * layout.heads * kHeadDim / 8;
  relayout_heads_kernel<true>
      <<<grid_for(vectors, kBlock * 4), kBlock, 0, stream>>>(o_hm, a, ld_a, layout);
  check_launch();
}

void split_heads(const bf16* a, std::int64_t ld_a, bf16* o_hm, HeadLayout layout,
                 cudaStream_t stream) {
  require(ld_a % 8 == 0, "split_heads: row stride must be a multiple of 8");
  const std::int64_t vectors = layout.tokens * layout.heads * kHeadDim / 8;
  relayout_heads_kernel<false>
      <<<grid_for(vectors, kBlock * 4), kBlock, 0, stream>>>(a, o_hm, ld_a, layout);
  check_launch();
}

void gelu_bias_fwd(const bf16* u, std::int64_t ld_u, const bf16* bias, bf16* g, std::int64_t ld_g,
                   std::int64_t rows, int cols, cudaStream_t stream) {
  require_vectors(ld_u, ld_g, cols);
  gelu_bias_fwd_kernel<<<grid_for(rows * cols / 8, kBlock * 4), kBlock, 0, stream>>>(
      u, ld_u, bias, g, ld_g, rows, cols);
  check_launch();
}

void gelu_bias_bwd(const bf16* u, std::int64_t ld_u, const bf16* bias, const bf16* dg,
                   std::int64_t ld_dg, bf16* du, std::int64_t ld_du, float* db, std::int64_t rows,
                   int cols, cudaStream_t stream) {
  require_vectors(ld_u, ld_dg, cols);
  require_vectors(ld_du, ld_du, cols);
  column_bwd_kernel<true><<<column_grid(rows, cols), dim3(kColVectors, kRowLanes), 0, stream>>>(
      u, ld_u, bias, dg, ld_dg, du, ld_du, db, rows, cols);
  check_launch();
}

void residual_fwd(const bf16* x, std::int64_t ld_x, const bf16* o, std::int64_t ld_o,
                  const bf16* bias, bf16* y, std::int64_t ld_y, std::int64_t rows, int cols,
                  cudaStream_t stream) {
  require_vectors(ld_x, ld_o, cols);
  require_vectors(ld_y, ld_y, cols);
  residual_fwd_kernel<<<grid_for(rows * cols / 8, kBlock * 4), kBlock, 0, stream>>>(
      x, ld_x, o, ld_o, bias, y, ld_y, rows, cols);
  check_launch();
}

void residual_bwd(const bf16* dy, std::int64_t ld_dy, const bf16* dnorm, std::int64_t ld_dnorm,
                  bf16* dx, std::int64_t ld_dx, float* db, std::int64_t rows, int cols,
                  cudaStream_t stream) {
  require_vectors(ld_dy, ld_dnorm, cols);
  require_vectors(ld_dx, ld_dx, cols);
  column_bwd_kernel<false><<<column_grid(rows, cols), dim3(kColVectors, kRowLanes), 0, stream>>>(
      dy, ld_dy, nullptr, dnorm, ld_dnorm, dx, ld_dx, db, rows, cols);
  check_launch();
}

}  // namespace harness
