#pragma once
// Float/double CPU reference of the layer's ops, evaluated at sampled output positions so the check
// stays fast at full ViT-22B shapes. Plain C++ (no CUDA): bf16 values arrive as their raw 16 bits.
#include <cstdint>
#include <vector>

namespace harness::ref {

float bf16_to_float(std::uint16_t bits);

double gelu(double x);       // tanh approximation, as the kernel
double gelu_grad(double x);  // its derivative

// A row-major matrix operand of a (batched) matmul; op(X)[i, l] = trans ? X[l, i] : X[i, l].
struct Operand {
  const std::uint16_t* data = nullptr;
  std::int64_t ld = 0;
  std::int64_t batch_stride = 0;
  bool trans = false;
  double at(std::int64_t batch, std::int64_t i, std::int64_t l) const;
};

// alpha * sum_l op(A)[i, l] op(B)[l, j] of batch `batch`, in double.
double matmul_entry(const Operand& a, const Operand& b, std::int64_t batch, std::int64_t i,
                    std::int64_t j, std::int64_t inner, double alpha);

// LayerNorm without centering (RMS), eps as the kernel (1e-6).
std::vector<double> rms_norm_row(const std::uint16_t* x, const std::uint16_t* gamma, int n);
std::vector<double> rms_norm_bwd_row(const std::uint16_t* x, const std::uint16_t* gamma,
                                     const std::uint16_t* dy, int n);
std::vector<double> softmax_row(const std::uint16_t* s, int n);
std::vector<double> softmax_bwd_row(const std::uint16_t* p, const std::uint16_t* dp, int n);

// Compares device outputs with reference values. The relative error of one value is
// |out - ref| / max(|ref|, 0.05 * rms(ref)): relative where values are large, absolute against the
// typical magnitude where a value is near zero (cancellation), so bf16 rounding of the output
// (2^-9 relative) is judged fairly everywhere.
class ErrorStats {
 public:
  void add(double out, double ref);
  std::int64_t count() const { return static_cast<std::int64_t>(outs_.size()); }
  std::int64_t nonfinite() const { return nonfinite_; }
  double max_rel_error() const;

 private:
  std::vector<double> outs_, refs_;
  std::int64_t nonfinite_ = 0;
};

}  // namespace harness::ref
