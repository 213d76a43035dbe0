#include "sim/validate/validation.hpp"

#include <algorithm>
#include <cmath>
#include <filesystem>

#include "sim/validate/calibration.hpp"

namespace meshsim {
namespace {

std::string label(const std::string& what, std::int64_t b, std::int64_t k) {
  return what + " b=" + std::to_string(b) + " k=" + std::to_string(k);
}

// Median of |error| (mean of the two middle values for an even count) and the worst.
ErrorSummary summarize(const std::vector<std::pair<double, std::string>>& errors) {
  ErrorSummary s;
  s.count = static_cast<std::int64_t>(errors.size());
  if (errors.empty())
    return s;
  std::vector<double> abs_errors;
  for (const auto& [e, name] : errors) {
    abs_errors.push_back(std::abs(e));
    if (std::abs(e) >= s.worst_abs_error) {
      s.worst_abs_error = std::abs(e);
      s.worst = name;
    }
  }
  std::sort(abs_errors.begin(), abs_errors.end());
  const std::size_t mid = abs_errors.size() / 2;
  s.median_abs_error =
      abs_errors.size() % 2 ? abs_errors[mid] : 0.5 * (abs_errors[mid - 1] + abs_errors[mid]);
  return s;
}

bool same_file(const std::string& a, const std::string& b) {
  std::error_code ec;
  if (std::filesystem::equivalent(a, b, ec))
    return true;
  return std::filesystem::path(a).filename() == std::filesystem::path(b).filename();
}

}  // namespace

const char* to_string(ValidationModel model) {
  switch (model) {
    case ValidationModel::Fit:
      return "fit";
    case ValidationModel::Profile:
      return "profile";
    case ValidationModel::Roofline:
      return "roofline";
  }
  return "fit";
}

ValidationReport validate_measurements(const MeasurementSet& measurements,
                                       const HardwareProfile& profile, ValidationModel model) {
  ValidationReport report;
  report.measurements_file = measurements.file;
  report.device_name = measurements.device_name;
  report.date = measurements.date;
  report.hardware_name = profile.name;
  report.synthetic = measurements.synthetic;
  report.model = model;
  report.cost = profile.cost;
  // Which shapes the model has seen: none for the roofline or a calibration from another file.
  std::vector<int> seen_axes;
  if (model == ValidationModel::Fit) {
    report.cost.calibrated = fit_cost_model(measurements, profile.chip);
    seen_axes = report.cost.calibrated->fit_model_axes;
  } else if (model == ValidationModel::Roofline) {
    report.cost.calibrated.reset();
  } else if (report.cost.calibrated &&
             same_file(report.cost.calibrated->source, measurements.file)) {
    seen_axes = report.cost.calibrated->fit_model_axes;
  }

  std::vector<std::pair<double, std::string>> ho_ops, ho_matmuls, ho_layers, fit_ops, fit_layers;
  for (const MeasuredShape& shape : measurements.shapes) {
    const bool held_out =
        std::find(seen_axes.begin(), seen_axes.end(), shape.model_axis) == seen_axes.end();
    double layer_predicted = 0;
    for (const MeasuredOp& measured : shape.ops) {
      const Op op = to_op(measured);
      OpComparison c;
      c.op = measured.op;
      c.pass = measured.pass;
      c.kind = to_string(measured.kind);
      c.batch_images = shape.batch_images;
      c.model_axis = shape.model_axis;
      c.batch = measured.batch;
      c.m = measured.m;
      c.n = measured.n;
      c.k = measured.k;
      c.held_out = held_out;
      c.measured_s = measured.median_s;
      c.predicted_s = isolated_op_time_s(report.cost, profile.chip, op);
      c.rel_error = (c.predicted_s - c.measured_s) / c.measured_s;
      layer_predicted += op_time_s(report.cost, profile.chip, op);
      const std::string name = label(c.op + " " + c.pass, c.batch_images, c.model_axis);
      if (held_out) {
        ho_ops.emplace_back(c.rel_error, name);
        if (measured.kind == OpKind::Matmul || measured.kind == OpKind::BatchedMatmul)
          ho_matmuls.emplace_back(c.rel_error, name);
      } else {
        fit_ops.emplace_back(c.rel_error, name);
      }
      report.ops.push_back(std::move(c));
    }
    LayerComparison l;
    l.batch_images = shape.batch_images;
    l.model_axis = shape.model_axis;
    l.held_out = held_out;
    l.measured_s = shape.layer_median_s;
    l.predicted_s = layer_predicted;
    l.rel_error = (l.predicted_s - l.measured_s) / l.measured_s;
    (held_out ? ho_layers : fit_layers)
        .emplace_back(l.rel_error, label("layer", l.batch_images, l.model_axis));
    report.layers.push_back(l);
  }
  report.held_out_ops = summarize(ho_ops);
  report.held_out_matmuls = summarize(ho_matmuls);
  report.held_out_layers = summarize(ho_layers);
  report.fitted_ops = summarize(fit_ops);
  report.fitted_layers = summarize(fit_layers);
  report.matmul_target_met =
      report.held_out_matmuls.count > 0 && report.held_out_matmuls.worst_abs_error <= kMatmulTarget;
  report.median_op_target_met =
      report.held_out_ops.count > 0 && report.held_out_ops.median_abs_error <= kMedianOpTarget;
  report.layer_target_met =
      report.held_out_layers.count > 0 && report.held_out_layers.worst_abs_error <= kLayerTarget;
  return report;
}

}  // namespace meshsim
