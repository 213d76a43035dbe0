// `meshsim validate --measurements FILE [--hardware NAME] [--model fit|profile|roofline] [--json]`
// and `meshsim calibrate --measurements FILE --hardware NAME -o OUT.json` (issue 8; fields and the
// cost-model form in docs/validation.md); `meshsim validate --matmuls FILE.csv --hardware NAME
// [--dtype bf16|tf32] [--json]` and `meshsim calibrate --matmuls FILE.csv --hardware NAME
// [-o OUT.json]` (issue 12: the matmul shape model, docs/fidelity.md).
#include <fmt/format.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "common/error.hpp"
#include "common/json_fields.hpp"
#include "common/json_text.hpp"
#include "common/output_path.hpp"
#include "common/version.hpp"
#include "hardware_profiles/cost_model_json.hpp"
#include "hardware_profiles/hardware.hpp"
#include "sim/cli/calibrate_runs.hpp"
#include "sim/cli/commands.hpp"
#include "sim/cli/flag_checks.hpp"
#include "sim/cli/what_if.hpp"
#include "sim/limits.hpp"
#include "sim/validate/calibration.hpp"
#include "sim/validate/collective_validation.hpp"
#include "sim/validate/error_summary.hpp"
#include "sim/validate/gemm_table.hpp"
#include "sim/validate/matmul_fit.hpp"
#include "sim/validate/matmul_validation.hpp"
#include "sim/validate/measurements.hpp"
#include "sim/validate/runs.hpp"
#include "sim/validate/validation.hpp"

namespace meshsim::cli {
namespace {

struct ValidateOptions {
  std::string measurements, matmuls, runs, hardware, model = "fit", output, dtype = "bf16";
  bool json = false;
  bool allow_synthetic = false;
  bool leave_one_out = false;  // calibrate --runs
  std::string fit;             // calibrate --runs --fit
  // Collectives (issue 12): --collectives FILE | --allreduce-busbw FILE --gpus N [--algorithm].
  std::string collectives, allreduce_busbw, algorithm = "auto";
  int gpus = 0;
  std::vector<std::string> sets;  // validate: --set PATH=VALUE into the profile
  std::string renamed_model;      // validate --model: refused, renamed --cost-model
};

// The profile of the measured GPU when --hardware is not given.
std::string profile_for_device(const MeasurementSet& m) {
  std::string name = m.device_name;
  std::transform(name.begin(), name.end(), name.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  if (name.find("h100") != std::string::npos)
    return "h100-sxm";
  if (name.find("h200") != std::string::npos)
    return "h200-sxm";
  if (name.find("a100") != std::string::npos)
    return "a100-sxm-80gb";
  throw InputError({"--hardware", "", "hardware"},
                   "no profile is known for the measured GPU; name one", "'" + m.device_name + "'",
                   "--hardware NAME|FILE (see 'meshsim hardware')");
}

nlohmann::json summary_json(const ErrorSummary& s) {
  return {{"count", s.count},
          {"median_abs_rel_error", s.median_abs_error},
          {"worst_abs_rel_error", s.worst_abs_error},
          {"worst", s.worst}};
}

nlohmann::json report_json(const ValidationReport& r) {
  nlohmann::json j;
  j["schema"] = "meshsim.validation/v1";
  j["version"] = kVersion;
  j["measurements"] = r.measurements_file;
  j["device"] = r.device_name;
  j["date"] = r.date;
  j["hardware"] = r.hardware_name;
  j["synthetic"] = r.synthetic;
  j["model"] = to_string(r.model);
  if (r.cost.calibrated)
    j["calibration"] = calibrated_cost_to_json(*r.cost.calibrated);
  j["ops"] = nlohmann::json::array();
  for (const OpComparison& c : r.ops) {
    j["ops"].push_back({{"op", c.op},
                        {"pass", c.pass},
                        {"kind", c.kind},
                        {"shape", fmt::format("b={} k={}", c.batch_images, c.model_axis)},
                        {"batch_images", c.batch_images},
                        {"k", c.model_axis},
                        {"dims", {{"batch", c.batch}, {"m", c.m}, {"n", c.n}, {"k", c.k}}},
                        {"held_out", c.held_out},
                        {"measured_s", c.measured_s},
                        {"predicted_s", c.predicted_s},
                        {"rel_error", c.rel_error}});
  }
  j["layers"] = nlohmann::json::array();
  for (const LayerComparison& l : r.layers) {
    j["layers"].push_back({{"shape", fmt::format("b={} k={}", l.batch_images, l.model_axis)},
                           {"batch_images", l.batch_images},
                           {"k", l.model_axis},
                           {"held_out", l.held_out},
                           {"measured_s", l.measured_s},
                           {"predicted_s", l.predicted_s},
                           {"rel_error", l.rel_error}});
  }
  j["summary"] = {
      {"held_out",
       {{"ops", summary_json(r.held_out_ops)},
        {"matmuls", summary_json(r.held_out_matmuls)},
        {"layers", summary_json(r.held_out_layers)}}},
      {"fitted", {{"ops", summary_json(r.fitted_ops)}, {"layers", summary_json(r.fitted_layers)}}},
      {"targets",
       {{"every_matmul_within", kMatmulTarget},
        {"median_op_within", kMedianOpTarget},
        {"every_layer_within", kLayerTarget},
        {"matmul_target_met", r.matmul_target_met},
        {"median_op_target_met", r.median_op_target_met},
        {"layer_target_met", r.layer_target_met}}}};
  return j;
}

std::string pct(double e) {
  return fmt::format("{:+.1f}%", 100 * e);
}

void print_summary_line(const char* what, const ErrorSummary& s) {
  if (s.count == 0) {
    std::printf("  %-20s none\n", what);
    return;
  }
  std::printf("  %-20s %3lld  median |err| %5.1f%%  worst %5.1f%% (%s)\n", what,
              static_cast<long long>(s.count), 100 * s.median_abs_error, 100 * s.worst_abs_error,
              s.worst.c_str());
}

void print_report(const ValidationReport& r) {
  std::printf("meshsim validate: %s\n  device %s, %s; profile %s; model %s%s\n",
              r.measurements_file.c_str(), r.device_name.c_str(), r.date.c_str(),
              r.hardware_name.c_str(), to_string(r.model),
              r.synthetic ? "\n  SYNTHETIC measurements (generated by a test, not measured)" : "");
  std::printf("\n%-10s %-16s %-16s %-9s %12s %12s %8s\n", "shape", "op", "pass", "held-out",
              "measured_us", "predicted_us", "error");
  for (const OpComparison& c : r.ops) {
    std::printf("%-10s %-16s %-16s %-9s %12.2f %12.2f %8s\n",
                fmt::format("b={} k={}", c.batch_images, c.model_axis).c_str(), c.op.c_str(),
                c.pass.c_str(), c.held_out ? "yes" : "", 1e6 * c.measured_s, 1e6 * c.predicted_s,
                pct(c.rel_error).c_str());
  }
  std::printf("\n%-10s %-9s %12s %12s %8s   (whole layer fwd+bwd)\n", "shape", "held-out",
              "measured_us", "predicted_us", "error");
  for (const LayerComparison& l : r.layers) {
    std::printf("%-10s %-9s %12.2f %12.2f %8s\n",
                fmt::format("b={} k={}", l.batch_images, l.model_axis).c_str(),
                l.held_out ? "yes" : "", 1e6 * l.measured_s, 1e6 * l.predicted_s,
                pct(l.rel_error).c_str());
  }
  std::printf("\nheld-out shapes (not seen by the fit):\n");
  print_summary_line("ops", r.held_out_ops);
  print_summary_line("matmuls", r.held_out_matmuls);
  print_summary_line("layers", r.held_out_layers);
  std::printf("shapes the fit saw:\n");
  print_summary_line("ops", r.fitted_ops);
  print_summary_line("layers", r.fitted_layers);
  std::printf(
      "targets: every matmul within 10%% %s, median op within 10%% %s, layer within 5%% %s\n",
      r.matmul_target_met ? "MET" : "NOT MET", r.median_op_target_met ? "MET" : "NOT MET",
      r.layer_target_met ? "MET" : "NOT MET");
}

ValidationModel parse_model(const std::string& text) {
  if (text == "fit")
    return ValidationModel::Fit;
  if (text == "profile")
    return ValidationModel::Profile;
  return ValidationModel::Roofline;  // CLI11 restricts the choices
}

// The summary of a validation table's rows (each with a rel_error).
template <class Rows>
RelErrorSummary summary_of(const Rows& rows) {
  std::vector<double> errors;
  for (const auto& r : rows)
    errors.push_back(r.rel_error);
  return summarize_rel_errors(errors);
}

// The head of every table mode's JSON: "meshsim.validation.<mode>/v1" and the version.
nlohmann::json table_json(const std::string& mode) {
  nlohmann::json j;
  j["schema"] = "meshsim.validation." + mode + "/v1";
  j["version"] = kVersion;
  return j;
}

void run_validate_runs(const ValidateOptions& o) {
  if (!o.sets.empty()) {
    throw InputError({"--set", "", "set"}, "not supported with --runs (each run names its profile)",
                     o.sets.front(), "--set with --measurements, --matmuls or --collectives");
  }
  const MeasuredRunSet set = load_measured_runs(o.runs);
  const auto rows = predict_measured_runs(set, o.hardware);
  const RelErrorSummary sum = summary_of(rows);
  if (o.json) {
    nlohmann::json j = table_json("runs");
    j["runs"] = o.runs;
    j["rows"] = nlohmann::json::array();
    for (const auto& r : rows) {
      j["rows"].push_back({{"id", r.id},
                           {"hardware", r.hardware},
                           {"measured_images_per_s", r.measured_images_per_s},
                           {"predicted_images_per_s", r.predicted_images_per_s},
                           {"step_time_s", r.step_time_s},
                           {"rel_error", r.rel_error}});
    }
    j["summary"] = rel_error_summary_json(sum);
    std::printf("%s\n", json_text(j).c_str());
    return;
  }
  std::printf("meshsim validate: %s (%zu measured runs)\n\n", o.runs.c_str(), rows.size());
  std::printf("%-32s %-16s %14s %14s %8s\n", "id", "hardware", "measured img/s", "predicted img/s",
              "error");
  for (const auto& r : rows) {
    std::printf("%-32s %-16s %14.1f %14.1f %8s\n", r.id.c_str(), r.hardware.c_str(),
                r.measured_images_per_s, r.predicted_images_per_s, pct(r.rel_error).c_str());
  }
  std::printf("\ncount %zu, median |error| %.1f%%, worst %.1f%% (%s)\n", rows.size(),
              100 * sum.median_abs, 100 * sum.worst_abs, rows[sum.worst_index].id.c_str());
}

void require_hardware(const ValidateOptions& o, const char* mode) {
  if (o.hardware.empty()) {
    throw InputError({"--hardware", "", "hardware"}, std::string("required with ") + mode, "none",
                     "--hardware NAME|FILE (see 'meshsim hardware')");
  }
}

// Exactly one input: --measurements, --matmuls, --collectives, --allreduce-busbw or --runs.
void check_one_input(const ValidateOptions& o, const char* allowed) {
  const int given = !o.measurements.empty() + !o.matmuls.empty() + !o.runs.empty() +
                    !o.collectives.empty() + !o.allreduce_busbw.empty();
  if (given != 1) {
    throw InputError({"--measurements", "", "measurements"},
                     given == 0 ? "no input given" : "more than one input given",
                     given == 0 ? "none" : std::to_string(given) + " inputs", allowed);
  }
  if (!o.matmuls.empty())
    require_hardware(o, "--matmuls");
}

MatmulDtype parse_dtype(const std::string& text, const HardwareProfile& profile) {
  if (text != "tf32")
    return MatmulDtype::Bf16;  // CLI11 restricts the choices
  if (profile.cost.matmul.kind == MatmulModelKind::TpuMxu) {
    throw InputError({"--dtype", "", "dtype"}, "TF32 is a GPU tensor-core format", "'tf32'",
                     "bf16 for TPU profile '" + profile.name + "'");
  }
  return MatmulDtype::Tf32;
}

void run_validate_matmuls(const ValidateOptions& o) {
  const GemmTable table = load_gemm_table(o.matmuls);
  const HardwareProfile profile =
      load_hardware(o.hardware, split_sets(o.sets, true, false).hardware);
  const MatmulDtype dtype = parse_dtype(o.dtype, profile);
  const MatmulValidation v = validate_matmuls(table.rows, profile.cost, profile.chip, dtype);
  if (o.json) {
    nlohmann::json j = table_json("matmuls");
    j["matmuls"] = table.file;
    j["hardware"] = profile.name;
    j["dtype"] = o.dtype;
    j["rows"] = nlohmann::json::array();
    for (const MatmulComparison& c : v.rows) {
      const MatmulShape& s = c.row.shape;
      j["rows"].push_back({{"b", s.batch},
                           {"m", s.m},
                           {"n", s.n},
                           {"k", s.k},
                           {"bf16_flop_per_s", c.row.bf16_flop_per_s},
                           {"tf32_flop_per_s", c.row.tf32_flop_per_s},
                           {"measured_s", c.measured_s},
                           {"predicted_s", c.predicted_s},
                           {"rel_error", c.rel_error}});
    }
    j["summary"] = rel_error_summary_json(v.summary);
    std::printf("%s\n", json_text(j).c_str());
    return;
  }
  std::printf("meshsim validate: %s (%s); profile %s\n\n", table.file.c_str(), o.dtype.c_str(),
              profile.name.c_str());
  std::printf("%3s %6s %6s %6s %12s %12s %8s\n", "b", "m", "n", "k", "measured_us", "predicted_us",
              "error");
  for (const MatmulComparison& c : v.rows) {
    const MatmulShape& s = c.row.shape;
    std::printf("%3lld %6lld %6lld %6lld %12.2f %12.2f %8s\n", static_cast<long long>(s.batch),
                static_cast<long long>(s.m), static_cast<long long>(s.n),
                static_cast<long long>(s.k), 1e6 * c.measured_s, 1e6 * c.predicted_s,
                pct(c.rel_error).c_str());
  }
  const RelErrorSummary& sum = v.summary;
  const MatmulShape& w = v.rows[sum.worst_index].row.shape;
  std::printf(
      "\n%lld rows: median |error| %.1f%%, 90th percentile %.1f%%, worst %.1f%% (b=%lld m=%lld "
      "n=%lld k=%lld, line %d)\n",
      static_cast<long long>(sum.count), 100 * sum.median_abs, 100 * sum.p90_abs,
      100 * sum.worst_abs, static_cast<long long>(w.batch), static_cast<long long>(w.m),
      static_cast<long long>(w.n), static_cast<long long>(w.k), v.rows[sum.worst_index].row.line);
}

void run_calibrate_matmuls(const ValidateOptions& o) {
  if (!o.output.empty())
    check_outputs({{"-o", o.output}}, {});
  const GemmTable table = load_gemm_table(o.matmuls);
  const HardwareProfile profile =
      load_hardware(o.hardware, split_sets(o.sets, true, false).hardware);
  if (!o.output.empty())
    check_outputs({{"-o", o.output}}, {{"--matmuls", o.matmuls}, {"--hardware", profile.file}});
  // With -o - the profile is the standard output; the summary goes to stderr.
  std::FILE* out = is_standard_output(o.output) ? stderr : stdout;
  if (profile.cost.matmul.kind != MatmulModelKind::GpuTiles) {
    throw InputError({"--hardware", "", "hardware"},
                     "the profile has no GPU tile matmul model (cost_model/matmul/model gpu_tiles) "
                     "to take the SM count from",
                     "'" + profile.name + "'", "a GPU profile, e.g. h100-sxm");
  }
  const MatmulFitResult fit =
      fit_gpu_tile_matmul(table.rows, profile.chip, profile.cost.memory_efficiency,
                          profile.cost.matmul.gpu.sms, MatmulDtype::Bf16);
  MatmulModel model;
  model.kind = MatmulModelKind::GpuTiles;
  model.gpu = fit.model;
  CostModel cost = profile.cost;
  cost.matmul = model;
  const MatmulValidation v = validate_matmuls(table.rows, cost, profile.chip, MatmulDtype::Bf16);
  // Written before the summary is printed, so that a failed write leaves stdout empty.
  if (!o.output.empty()) {
    nlohmann::json document = read_json_file(profile.file);
    document["cost_model"].erase("matmul_efficiency");
    document["cost_model"]["matmul"] = matmul_model_to_json(model);
    // The fitted figures now come from this file: say so in their sources.
    for (auto& entry : document["sources"]) {
      const std::string field = entry.value("field", "");
      for (const char* key :
           {"tensor_core_fraction", "kernel_overhead", "tile_overhead", "sm_operand_bandwidth"}) {
        if (field == std::string("/cost_model/matmul/") + key) {
          entry["source"] = "fitted on " + table.file +
                            " (bf16 column) by `meshsim calibrate --matmuls " + table.file +
                            " --hardware " + profile.name + "` (docs/fidelity.md)";
        }
      }
    }
    write_output({"-o", o.output}, json_text(document) + "\n");
  }
  std::fprintf(out, "meshsim calibrate: matmul model of %s fitted on %s (bf16, %zu rows, %d SMs)\n",
               profile.name.c_str(), table.file.c_str(), table.rows.size(), fit.model.sms);
  std::fprintf(out, "  tensor_core_fraction  %.4f\n", fit.model.tensor_core_fraction);
  std::fprintf(out, "  kernel_overhead       %.3f us\n", 1e6 * fit.model.kernel_overhead_s);
  std::fprintf(out, "  tile_overhead         %.3f us\n", 1e6 * fit.model.tile_overhead_s);
  std::fprintf(out, "  sm_operand_bandwidth  %.2f GB/s\n", 1e-9 * fit.model.sm_operand_bandwidth);
  std::fprintf(out, "  sum of squared log errors %.4f\n", fit.sum_sq_log_error);
  std::fprintf(
      out, "  |error| on the fitted rows: median %.1f%%, 90th percentile %.1f%%, worst %.1f%%\n",
      100 * v.summary.median_abs, 100 * v.summary.p90_abs, 100 * v.summary.worst_abs);
  if (!o.output.empty())
    std::fprintf(out, "  wrote %s\n", o.output.c_str());
}

void run_validate(const ValidateOptions& o) {
  if (!o.matmuls.empty())
    return run_validate_matmuls(o);
  if (!o.runs.empty())
    return run_validate_runs(o);
  const MeasurementSet m = load_measurements(o.measurements);
  const HardwareProfile profile =
      load_hardware(o.hardware.empty() ? profile_for_device(m) : o.hardware,
                    split_sets(o.sets, true, false).hardware);
  const ValidationReport report = validate_measurements(m, profile, parse_model(o.model));
  if (o.json) {
    std::printf("%s\n", json_text(report_json(report)).c_str());
  } else {
    print_report(report);
  }
}

void run_calibrate(const ValidateOptions& o) {
  check_one_input(o,
                  "exactly one of --measurements FILE.json, --matmuls FILE.csv, --runs FILE.csv");
  if (!o.matmuls.empty())
    return run_calibrate_matmuls(o);
  if (!o.runs.empty())
    return run_calibrate_runs({o.runs, o.hardware, o.output, o.fit, o.leave_one_out, o.json});
  if (o.leave_one_out) {
    throw InputError({"--leave-one-out", "", "leave-one-out"}, "only with --runs", "given",
                     "calibrate --runs FILE.csv --leave-one-out");
  }
  if (o.output.empty()) {
    throw InputError({"-o", "", "output"}, "required with --measurements", "none",
                     "-o OUT.json, the profile file to write");
  }
  check_outputs({{"-o", o.output}}, {});
  const MeasurementSet m = load_measurements(o.measurements);
  if (m.synthetic && !o.allow_synthetic) {
    throw InputError({o.measurements, "/synthetic", "synthetic"},
                     "synthetic measurements cannot calibrate a profile", "true",
                     "a file measured by cuda_validation/run_sweep.sh");
  }
  const HardwareProfile profile =
      load_hardware(o.hardware, split_sets(o.sets, true, false).hardware);
  check_outputs({{"-o", o.output}},
                {{"--measurements", o.measurements}, {"--hardware", profile.file}});
  const CalibratedCost fit = fit_cost_model(m, profile.chip);
  nlohmann::json document = read_json_file(profile.file);
  document["cost_model"]["calibrated"] = calibrated_cost_to_json(fit);
  write_output({"-o", o.output}, json_text(document) + "\n");
  std::FILE* out = is_standard_output(o.output) ? stderr : stdout;  // -o -: the profile is stdout
  std::fprintf(out, "meshsim calibrate: wrote %s (profile %s, calibrated on %s, k in {",
               o.output.c_str(), profile.name.c_str(), o.measurements.c_str());
  for (std::size_t i = 0; i < fit.fit_model_axes.size(); ++i)
    std::fprintf(out, "%s%d", i ? ", " : "", fit.fit_model_axes[i]);
  std::fprintf(out, "})\n");
}

// --- Collectives against published measurements (issue 12; docs/fidelity.md) ---

void print_abs_summary(const RelErrorSummary& s, const char* on) {
  std::printf("\n%lld rows; |error| on %s: median %.1f%%, p90 %.1f%%, worst %.1f%%\n",
              static_cast<long long>(s.count), on, 100 * s.median_abs, 100 * s.p90_abs,
              100 * s.worst_abs);
}

void run_validate_collectives(const ValidateOptions& o) {
  require_hardware(o, "--collectives");
  const HardwareProfile profile =
      load_hardware(o.hardware, split_sets(o.sets, true, false).hardware);
  validate::require_gpu_cluster(profile);
  const auto rows =
      validate::load_collective_measurements(o.collectives, profile.gpu.gpus_per_node);
  const auto results = validate::predict_collectives(rows, profile);
  const auto summary = summary_of(results);
  if (o.json) {
    nlohmann::json j = table_json("collectives");
    j["file"] = o.collectives;
    j["hardware"] = profile.name;
    j["error_on"] = "time";
    j["rows"] = nlohmann::json::array();
    for (const auto& r : results) {
      j["rows"].push_back({{"collective", r.input.collective},
                           {"groups", r.input.groups},
                           {"tensor_size_bytes", r.input.bytes},
                           {"algorithm", r.algorithm},
                           {"protocol", r.protocol},
                           {"measured_s", r.input.time_s},
                           {"predicted_s", r.predicted_s},
                           {"rel_error", r.rel_error}});
    }
    j["summary"] = rel_error_summary_json(summary);
    std::printf("%s\n", json_text(j).c_str());
    return;
  }
  std::printf(
      "meshsim validate --collectives %s on %s (per-call overhead included; error on time)\n\n",
      o.collectives.c_str(), profile.name.c_str());
  std::printf("%-15s %-7s %12s %-7s %-7s %12s %12s %8s\n", "collective", "groups", "bytes", "algo",
              "proto", "measured_us", "predicted_us", "error");
  for (const auto& r : results) {
    std::printf("%-15s %-7s %12lld %-7s %-7s %12.1f %12.1f %8s\n", r.input.collective.c_str(),
                r.input.groups.c_str(), static_cast<long long>(r.input.bytes), r.algorithm.c_str(),
                r.protocol.c_str(), 1e6 * r.input.time_s, 1e6 * r.predicted_s,
                pct(r.rel_error).c_str());
  }
  print_abs_summary(summary, "time");
}

void run_validate_busbw(const ValidateOptions& o) {
  require_hardware(o, "--allreduce-busbw");
  const HardwareProfile profile =
      load_hardware(o.hardware, split_sets(o.sets, true, false).hardware);
  validate::require_gpu_cluster(profile);
  // Simulated GPUs are bounded by the simulation limits, not only by the profile's cluster.
  const int max_gpus =
      static_cast<int>(std::min<std::int64_t>(profile.gpu.max_gpus, limits::kMaxSimulatedChips));
  const auto rows = validate::load_allreduce_busbw(o.allreduce_busbw, max_gpus);
  const bool per_row_gpus = !rows.empty() && rows.front().gpus.has_value();
  if (!per_row_gpus && (o.gpus < 2 || o.gpus > max_gpus)) {
    throw InputError({"--chips", "", "chips"}, "the GPU count of the measurement is needed",
                     std::to_string(o.gpus),
                     "--chips N (or --gpus N, its older name), 2 to " + std::to_string(max_gpus) +
                         " (the file has no gpus column)");
  }
  const auto results = validate::predict_allreduce_busbw(rows, profile, o.gpus, o.algorithm);
  const auto summary = summary_of(results);
  if (o.json) {
    nlohmann::json j = table_json("allreduce-busbw");
    j["file"] = o.allreduce_busbw;
    j["hardware"] = profile.name;
    j["algorithm"] = o.algorithm;
    j["error_on"] = "busbw";
    j["rows"] = nlohmann::json::array();
    for (const auto& r : results) {
      nlohmann::json row = {{"size_bytes", r.input.bytes},
                            {"gpus", r.gpus},
                            {"algorithm", r.algorithm},
                            {"protocol", r.protocol},
                            {"measured_busbw_bytes_per_s", r.measured_busbw},
                            {"predicted_busbw_bytes_per_s", r.predicted_busbw},
                            {"predicted_s", r.predicted_s},
                            {"rel_error", r.rel_error}};
      if (r.input.algorithm) {
        row["measured_algorithm"] = *r.input.algorithm;
      }
      if (r.input.time_s) {
        row["measured_s"] = *r.input.time_s;
      }
      j["rows"].push_back(row);
    }
    j["summary"] = rel_error_summary_json(summary);
    std::printf("%s\n", json_text(j).c_str());
    return;
  }
  std::printf(
      "meshsim validate --allreduce-busbw %s on %s, algorithm %s (nccl-tests timing, no "
      "per-call overhead; error on busbw)\n\n",
      o.allreduce_busbw.c_str(), profile.name.c_str(), o.algorithm.c_str());
  std::printf("%12s %5s %-9s %-7s %-7s %13s %13s %8s\n", "bytes", "gpus", "measured", "algo",
              "proto", "measured_GB/s", "predicted_GB/s", "error");
  for (const auto& r : results) {
    std::printf("%12lld %5d %-9s %-7s %-7s %13.2f %13.2f %8s\n",
                static_cast<long long>(r.input.bytes), r.gpus,
                r.input.algorithm ? r.input.algorithm->c_str() : "", r.algorithm.c_str(),
                r.protocol.c_str(), r.measured_busbw / 1e9, r.predicted_busbw / 1e9,
                pct(r.rel_error).c_str());
  }
  print_abs_summary(summary, "busbw");
}

void dispatch_validate(const ValidateOptions& o) {
  if (!o.renamed_model.empty()) {
    throw InputError({"--model", "", "model"},
                     "renamed: the cost model to validate is --cost-model (--model names the "
                     "model file in the other verbs)",
                     o.renamed_model, "--cost-model fit|profile|roofline");
  }
  check_one_input(o,
                  "exactly one of --measurements FILE.json, --matmuls FILE.csv, --collectives "
                  "FILE.csv, --allreduce-busbw FILE.csv, --runs FILE.csv");
  if (!o.collectives.empty()) {
    run_validate_collectives(o);
  } else if (!o.allreduce_busbw.empty()) {
    run_validate_busbw(o);
  } else {
    run_validate(o);
  }
}

}  // namespace

void add_validate_commands(CLI::App& app) {
  auto options = std::make_shared<ValidateOptions>();
  CLI::App* validate = app.add_subcommand(
      "validate",
      "Compare the cost model with measurements: CUDA timings of the ViT-22B layer "
      "(--measurements; fitted on k in {1,4,16}, judged on the other shapes), published tables "
      "(--matmuls, --collectives, --allreduce-busbw: cuda_validation/published/) or measured "
      "training runs (--runs); docs/fidelity.md");
  validate->add_option("--measurements", options->measurements,
                       "measurement file (schema meshsim.cuda-measurements/v1)");
  validate->add_option("--runs", options->runs,
                       "measured training runs (CSV, columns of "
                       "cuda_validation/published/end_to_end_calibration.csv): predicted vs "
                       "measured images/s");
  validate->add_option("--matmuls", options->matmuls,
                       "matmul throughput table (CSV: b,m,n,k,bf16_flop_per_s,tf32_flop_per_s; "
                       "cuda_validation/published/gemm_h100_xla.csv); needs --hardware");
  validate->add_option("--dtype", options->dtype, "with --matmuls: the column to compare")
      ->check(CLI::IsMember({"bf16", "tf32"}));
  validate->add_option("--collectives", options->collectives,
                       "collective timings CSV (format of cuda_validation/published/"
                       "collectives_8xh100_xla.csv); needs --hardware");
  validate->add_option(
      "--allreduce-busbw", options->allreduce_busbw,
      "nccl-tests all-reduce busbw CSV (cuda_validation/published/"
      "nccl_allreduce_*.csv); needs --hardware and, without a gpus column, --chips");
  auto* chips =
      validate->add_option("--chips", options->gpus, "GPUs of the --allreduce-busbw measurement")
          ->check(count_flag(1));
  auto* gpus = validate->add_option("--gpus", options->gpus, "The same as --chips (older name)")
                   ->check(count_flag(1));
  chips->excludes(gpus);
  gpus->excludes(chips);
  validate
      ->add_option("--algorithm", options->algorithm,
                   "--allreduce-busbw: ring | nvls | auto (default: auto, NCCL's choice)")
      ->check(CLI::IsMember({"ring", "nvls", "auto"}));
  validate->add_option("--hardware", options->hardware,
                       "hardware profile name or file (default: the profile of the measured GPU)");
  validate
      ->add_option("--cost-model", options->model,
                   "fit: calibrate on this file's k in {1,4,16} now; profile: the profile's cost "
                   "model as is; roofline: the uncalibrated roofline")
      ->check(CLI::IsMember({"fit", "profile", "roofline"}));
  // The old name: --model names the model (zoo name or file) in every other verb, so here it is
  // refused with the new name rather than kept as an alias (docs/guide/README.md "Flag names").
  validate->add_option("--model", options->renamed_model)->group("");
  validate->add_flag("--json", options->json, "print one JSON object (meshsim.validation/v1)");
  add_set_option(validate, options->sets, true, false);
  validate->callback([options] { dispatch_validate(*options); });

  auto cal = std::make_shared<ValidateOptions>();
  CLI::App* calibrate = app.add_subcommand(
      "calibrate",
      "Fit a profile on measurements and write it with the fitted parameters, the measurement "
      "file named as their source: the cost model on CUDA timings (--measurements), the matmul "
      "model on a GEMM table (--matmuls) or the software stack on measured runs (--runs)");
  calibrate->add_option("--measurements", cal->measurements, "measurement file");
  calibrate->add_option("--matmuls", cal->matmuls,
                        "matmul throughput table (CSV): fit the GPU matmul model's parameters on "
                        "its bf16 column and print them");
  calibrate->add_option("--runs", cal->runs,
                        "measured training runs (CSV, as for validate --runs): fit the stack "
                        "parameters (launch gap, memory traffic factor, gradient overlap, input "
                        "time per image) and write the profile NAME-calibrated with -o");
  calibrate->add_flag("--leave-one-out", cal->leave_one_out,
                      "with --runs: also predict each row from a fit on the others");
  calibrate->add_flag("--json", cal->json, "with --runs: print one JSON object");
  calibrate->add_option("--fit", cal->fit,
                        "with --runs: the parameters the fit may move, comma-separated (default: "
                        "all; with fewer rows than parameters it picks among them)");
  calibrate->add_option("--hardware", cal->hardware, "hardware profile name or file")->required();
  calibrate->add_option("-o,--output", cal->output,
                        "profile file to write (required with --measurements)");
  calibrate->add_flag("--allow-synthetic", cal->allow_synthetic,
                      "accept a file labelled synthetic (tests of the calibration only)");
  calibrate->callback([cal] { run_calibrate(*cal); });
}

}  // namespace meshsim::cli
