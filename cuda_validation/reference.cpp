#include "reference.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>

namespace harness::ref {
namespace {
constexpr double kNormEps = 1e-6;
}

float bf16_to_float(std::uint16_t bits) {
  const std::uint32_t wide = static_cast<std::uint32_t>(bits) << 16;
  float value = 0;
  std::memcpy(&value, &wide, sizeof value);
  return value;
}

double gelu(double x) {
  const double a = 0.7978845608028654 * (x + 0.044715 * x * x * x);
  return 0.5 * x * (1.0 + std::tanh(a));
}

double gelu_grad(double x) {
  const double a = 0.7978845608028654 * (x + 0.044715 * x * x * x);
  const double t = std::tanh(a);
  return 0.5 * (1.0 + t) +
         0.5 * x * (1.0 - t * t) * 0.7978845608028654 * (1.0 + 3.0 * 0.044715 * x * x);
}

double Operand::at(std::int64_t batch, std::int64_t i, std::int64_t l) const {
  const std::int64_t index = batch * batch_stride + (trans ? l * ld + i : i * ld + l);
  return bf16_to_float(data[index]);
}

double matmul_entry(const Operand& a, const Operand& b, std::int64_t batch, std::int64_t i,
                    std::int64_t j, std::int64_t inner, double alpha) {
  double sum = 0;
  for (std::int64_t l = 0; l < inner; ++l)
    sum += a.at(batch, i, l) * b.at(batch, l, j);
  return alpha * sum;
}

std::vector<double> rms_norm_row(const std::uint16_t* x, const std::uint16_t* gamma, int n) {
  double sumsq = 0;
  for (int i = 0; i < n; ++i)
    sumsq += std::pow(bf16_to_float(x[i]), 2);
  const double r = 1.0 / std::sqrt(sumsq / n + kNormEps);
  std::vector<double> y(static_cast<std::size_t>(n));
  for (int i = 0; i < n; ++i)
    y[i] = bf16_to_float(x[i]) * r * bf16_to_float(gamma[i]);
  return y;
}

std::vector<double> rms_norm_bwd_row(const std::uint16_t* x, const std::uint16_t* gamma,
                                     const std::uint16_t* dy, int n) {
  double sumsq = 0, dot = 0;
  for (int i = 0; i < n; ++i) {
    const double v = bf16_to_float(x[i]);
    sumsq += v * v;
    dot += bf16_to_float(gamma[i]) * bf16_to_float(dy[i]) * v;
  }
  const double r = 1.0 / std::sqrt(sumsq / n + kNormEps);
  const double coeff = dot * r * r * r / n;
  std::vector<double> dx(static_cast<std::size_t>(n));
  for (int i = 0; i < n; ++i)
    dx[i] = r * bf16_to_float(gamma[i]) * bf16_to_float(dy[i]) - bf16_to_float(x[i]) * coeff;
  return dx;
}

std::vector<double> softmax_row(const std::uint16_t* s, int n) {
  double max_value = -INFINITY;
  for (int i = 0; i < n; ++i)
    max_value = std::max(max_value, double{bf16_to_float(s[i])});
  std::vector<double> p(static_cast<std::size_t>(n));
  double sum = 0;
  for (int i = 0; i < n; ++i)
    sum += (p[i] = std::exp(bf16_to_float(s[i]) - max_value));
  for (double& v : p)
    v /= sum;
  return p;
}

std::vector<double> softmax_bwd_row(const std::uint16_t* p, const std::uint16_t* dp, int n) {
  double dot = 0;
  for (int i = 0; i < n; ++i)
    dot += double{bf16_to_float(p[i])} * bf16_to_float(dp[i]);
  std::vector<double> ds(static_cast<std::size_t>(n));
  for (int i = 0; i < n; ++i)
    ds[i] = bf16_to_float(p[i]) * (bf16_to_float(dp[i]) - dot);
  return ds;
}

void ErrorStats::add(double out, double ref) {
  if (!std::isfinite(out))
    ++nonfinite_;
  outs_.push_back(out);
  refs_.push_back(ref);
}

double ErrorStats::max_rel_error() const {
  if (refs_.empty())
    return 0;
  double sumsq = 0;
  for (double r : refs_)
    sumsq += r * r;
  const double floor = std::max(0.05 * std::sqrt(sumsq / static_cast<double>(refs_.size())), 1e-30);
  double worst = 0;
  for (std::size_t i = 0; i < refs_.size(); ++i) {
    const double err = std::abs(outs_[i] - refs_[i]) / std::max(std::abs(refs_[i]), floor);
    worst = std::max(worst, std::isfinite(err) ? err : INFINITY);
  }
  return worst;
}

}  // namespace harness::ref
