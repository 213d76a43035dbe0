#include "sim/validate/calibration.hpp"

#include <Eigen/Dense>
#include <algorithm>
#include <cmath>
#include <limits>
#include <string>

#include "common/error.hpp"
#include "hardware_profiles/hardware.hpp"

namespace meshsim {
namespace {

bool in_axes(const std::vector<int>& axes, std::int64_t k) {
  return std::find(axes.begin(), axes.end(), k) != axes.end();
}

// Rows are divided by the measured time, so the residual is the relative error (pred - meas)/meas.
struct WeightedProblem {
  std::vector<std::vector<double>> rows;
  std::vector<double> target;
  void add(std::vector<double> features, double measured_s) {
    for (double& f : features)
      f /= measured_s;
    rows.push_back(std::move(features));
    target.push_back(1.0);
  }
};

std::vector<double> matmul_features(const Op& op, const ChipSpec& chip) {
  const double x = op.flop / chip.peak_bf16_flop_per_s;
  return {1.0, x, x / double(op.m), x / double(op.n), x / double(op.k)};
}

std::vector<double> memory_features(const Op& op, const ChipSpec& chip) {
  return {1.0, (op.bytes_read + op.bytes_written) / chip.hbm_bandwidth_bytes_per_s};
}

MatmulFit solve_matmul(const WeightedProblem& p) {
  MatmulFit f;
  if (p.rows.empty())
    return f;
  const auto x = nonnegative_least_squares(p.rows, p.target);
  f.fitted = true;
  f.overhead_s = x[0];
  f.flop_coeff = x[1];
  f.inv_m_coeff = x[2];
  f.inv_n_coeff = x[3];
  f.inv_k_coeff = x[4];
  return f;
}

MemoryFit solve_memory(const WeightedProblem& p) {
  MemoryFit f;
  if (p.rows.empty())
    return f;
  const auto x = nonnegative_least_squares(p.rows, p.target);
  f.fitted = true;
  f.overhead_s = x[0];
  f.byte_coeff = x[1];
  return f;
}

}  // namespace

std::vector<double> nonnegative_least_squares(const std::vector<std::vector<double>>& rows,
                                              const std::vector<double>& target) {
  if (rows.empty() || rows.size() != target.size())
    throw std::invalid_argument("nonnegative_least_squares: rows and target sizes differ");
  const Eigen::Index n_rows = static_cast<Eigen::Index>(rows.size());
  const Eigen::Index n_cols = static_cast<Eigen::Index>(rows.front().size());
  if (n_cols < 1 || n_cols > 12)
    throw std::invalid_argument("nonnegative_least_squares: 1 to 12 columns");
  Eigen::MatrixXd a(n_rows, n_cols);
  Eigen::VectorXd b(n_rows);
  for (Eigen::Index i = 0; i < n_rows; ++i) {
    for (Eigen::Index j = 0; j < n_cols; ++j)
      a(i, j) = rows[static_cast<std::size_t>(i)][j];
    b(i) = target[static_cast<std::size_t>(i)];
  }
  // Columns scaled to unit norm: the features span many decades (seconds vs dimensionless).
  Eigen::VectorXd scale = a.colwise().norm().transpose();
  for (Eigen::Index j = 0; j < n_cols; ++j) {
    if (scale(j) <= 0)
      scale(j) = 1;
    a.col(j) /= scale(j);
  }
  double best_residual = std::numeric_limits<double>::infinity();
  Eigen::VectorXd best = Eigen::VectorXd::Zero(n_cols);
  best_residual = b.norm();  // the empty support: x = 0
  for (unsigned mask = 1; mask < (1u << n_cols); ++mask) {
    std::vector<Eigen::Index> support;
    for (Eigen::Index j = 0; j < n_cols; ++j)
      if (mask & (1u << j))
        support.push_back(j);
    Eigen::MatrixXd sub(n_rows, static_cast<Eigen::Index>(support.size()));
    for (std::size_t s = 0; s < support.size(); ++s)
      sub.col(static_cast<Eigen::Index>(s)) = a.col(support[s]);
    const Eigen::VectorXd solution = sub.colPivHouseholderQr().solve(b);
    if (!solution.allFinite() || (solution.array() < 0).any())
      continue;
    const double residual = (sub * solution - b).norm();
    // Strictly better by a relative margin, so the smaller support wins a tie.
    if (residual < best_residual * (1 - 1e-12)) {
      best_residual = residual;
      best.setZero();
      for (std::size_t s = 0; s < support.size(); ++s)
        best(support[s]) = solution(static_cast<Eigen::Index>(s));
    }
  }
  std::vector<double> x(static_cast<std::size_t>(n_cols));
  for (Eigen::Index j = 0; j < n_cols; ++j)
    x[static_cast<std::size_t>(j)] = best(j) / scale(j);
  return x;
}

CalibratedCost fit_cost_model(const MeasurementSet& measurements, const ChipSpec& chip,
                              const std::vector<int>& fit_axes) {
  WeightedProblem matmul, batched, norm, softmax, elementwise;
  std::vector<int> used_axes;
  for (const MeasuredShape& shape : measurements.shapes) {
    if (!in_axes(fit_axes, shape.model_axis))
      continue;
    if (!in_axes(used_axes, shape.model_axis))
      used_axes.push_back(static_cast<int>(shape.model_axis));
    for (const MeasuredOp& measured : shape.ops) {
      const Op op = to_op(measured);
      switch (op.kind) {
        case OpKind::Matmul:
          matmul.add(matmul_features(op, chip), measured.median_s);
          break;
        case OpKind::BatchedMatmul:
          batched.add(matmul_features(op, chip), measured.median_s);
          break;
        case OpKind::Norm:
          norm.add(memory_features(op, chip), measured.median_s);
          break;
        case OpKind::Softmax:
          softmax.add(memory_features(op, chip), measured.median_s);
          break;
        case OpKind::Elementwise:
          elementwise.add(memory_features(op, chip), measured.median_s);
          break;
        case OpKind::FlashAttention:  // not a measured kind (measurements.cpp): priced apart
          break;
      }
    }
  }
  if (used_axes.empty()) {
    std::string wanted;
    for (int k : fit_axes)
      wanted += (wanted.empty() ? "" : ", ") + std::to_string(k);
    throw InputError({measurements.file, "/shapes", "model_axis"},
                     "no measured shape has a model-axis size the fit may use",
                     "none with k in {" + wanted + "}",
                     "a measurement file with shapes at k in {" + wanted + "}");
  }
  std::sort(used_axes.begin(), used_axes.end());
  CalibratedCost fit;
  fit.source = measurements.file;
  fit.device = measurements.device_name;
  fit.date = measurements.date;
  fit.fit_model_axes = used_axes;
  fit.matmul = solve_matmul(matmul);
  fit.batched_matmul = solve_matmul(batched);
  fit.norm = solve_memory(norm);
  fit.softmax = solve_memory(softmax);
  fit.elementwise = solve_memory(elementwise);

  // Graph factor s minimising sum((s P - M) / M)^2 over the fit shapes' layers:
  // s = sum(P/M) / sum((P/M)^2).
  CostModel cost;
  cost.calibrated = fit;
  double num = 0, den = 0;
  for (const MeasuredShape& shape : measurements.shapes) {
    if (!in_axes(used_axes, shape.model_axis))
      continue;
    double predicted = 0;
    for (const MeasuredOp& measured : shape.ops)
      predicted += isolated_op_time_s(cost, chip, to_op(measured));
    const double ratio = predicted / shape.layer_median_s;
    num += ratio;
    den += ratio * ratio;
  }
  fit.graph_factor = den > 0 ? std::clamp(num / den, 0.1, 10.0) : 1.0;
  return fit;
}

}  // namespace meshsim
