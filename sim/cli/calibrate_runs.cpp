#include "sim/cli/calibrate_runs.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <nlohmann/json.hpp>

#include "common/error.hpp"
#include "common/json_fields.hpp"
#include "common/json_text.hpp"
#include "common/output_path.hpp"
#include "common/units.hpp"
#include "hardware_profiles/hardware.hpp"
#include "sim/validate/error_summary.hpp"
#include "sim/validate/runs.hpp"
#include "sim/validate/stack_fit.hpp"

namespace meshsim::cli {
namespace {

using nlohmann::json;

// With one row the fit goes through it exactly and shows no error: this allowance stands in.
constexpr double kOneRowAllowance = 0.10;

std::string value_text(int j, double value) {
  const StackParameter& p = stack_parameters()[static_cast<std::size_t>(j)];
  if (std::string(p.unit) == "s")
    return value == 0 ? std::string("0 s") : format_quantity(value, QuantityKind::Time);
  return fmt::format("{:.4g}", value);
}

// The value as the profile file writes it: a quantity string for times, a number otherwise.
json value_json(int j, double value) {
  const StackParameter& p = stack_parameters()[static_cast<std::size_t>(j)];
  if (std::string(p.unit) == "s")
    return fmt::format("{:.6g} s", value);
  return value;
}

std::string join(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& s : items)
    out += (out.empty() ? "" : ", ") + s;
  return out;
}

double worst_abs(const std::vector<RunComparison>& rows) {
  double w = 0;
  for (const auto& r : rows)
    w = std::max(w, std::abs(r.rel_error));
  return w;
}

// The derived profile: the original file with "stack", the stack's fidelity and their sources.
json derived_profile(const HardwareProfile& base, const std::string& runs_file,
                     const StackFitResult& fit, double stack_error, const std::string& error_why) {
  json doc = read_json_file(base.file);
  doc["name"] = base.name + "-calibrated";
  doc["display_name"] = base.display_name + " (stack calibrated on " + runs_file + ")";
  json stack = doc.contains("stack") ? doc["stack"] : json::object();
  std::vector<std::string> ids;
  for (const auto& r : fit.after)
    ids.push_back(r.id);
  json& sources = doc["sources"];
  auto set_source = [&](const std::string& field, const std::string& text) {
    for (auto& entry : sources) {
      if (entry.value("field", "") == field) {
        entry["source"] = text;
        return;
      }
    }
    sources.push_back({{"field", field}, {"source", text}});
  };
  for (int j = 0; j < kStackParameters; ++j) {
    const auto& p = fit.parameters[static_cast<std::size_t>(j)];
    if (!p.fitted)
      continue;
    const char* field = stack_parameters()[static_cast<std::size_t>(j)].field;
    stack[field] = value_json(j, p.value);
    set_source(std::string("/stack/") + field, "fitted by `meshsim calibrate --runs " + runs_file +
                                                   " --hardware " + base.name + "` on rows " +
                                                   join(ids) + "; constrained by " +
                                                   join(p.constrained_by) + " (docs/fidelity.md)");
  }
  doc["stack"] = stack;
  if (!doc.contains("fidelity"))
    doc["fidelity"] = json::object();
  doc["fidelity"]["stack"] = {{"status", "measured"}, {"error", stack_error}};
  set_source("/fidelity/stack/error", error_why);
  // Keep "sources" last, as in the zoo files.
  json ordered = json::object();
  for (auto it = doc.begin(); it != doc.end(); ++it) {
    if (it.key() != "sources")
      ordered[it.key()] = it.value();
  }
  ordered["sources"] = doc["sources"];
  return ordered;
}

// --fit NAME[,NAME...]: the parameters the fit may move.
StackParameterMask parse_fit(const std::string& text) {
  if (text.empty())
    return kAllStackParameters;
  StackParameterMask mask{};
  std::string names;
  for (const auto& p : stack_parameters())
    names += (names.empty() ? "" : ", ") + std::string(p.field);
  std::size_t begin = 0;
  while (begin <= text.size()) {
    const std::size_t end = std::min(text.find(',', begin), text.size());
    const std::string name = text.substr(begin, end - begin);
    bool found = false;
    for (int j = 0; j < kStackParameters; ++j) {
      if (name == stack_parameters()[static_cast<std::size_t>(j)].field) {
        mask[static_cast<std::size_t>(j)] = true;
        found = true;
      }
    }
    if (!found) {
      throw InputError({"--fit", "", "fit"}, "not a stack parameter", "'" + name + "'",
                       "a comma-separated list of: " + names);
    }
    begin = end + 1;
  }
  return mask;
}

}  // namespace

void run_calibrate_runs(const CalibrateRunsOptions& o) {
  if (o.hardware.empty()) {
    throw InputError({"--hardware", "", "hardware"}, "required with --runs", "none",
                     "--hardware NAME|FILE, the profile whose stack to fit");
  }
  if (!o.output.empty())
    check_outputs({{"-o", o.output}}, {});
  const MeasuredRunSet set = load_measured_runs(o.runs);
  if (set.runs.empty()) {
    throw InputError({o.runs, "", "rows"}, "no measured run", "0 rows",
                     "at least one row (docs/fidelity.md \"Calibrating your own stack\")");
  }
  if (o.leave_one_out && set.runs.size() < 2) {
    throw InputError({"--leave-one-out", "", "leave-one-out"},
                     "needs at least 2 rows to hold one out", std::to_string(set.runs.size()),
                     "a runs file with 2 or more rows");
  }
  const StackParameterMask allowed = parse_fit(o.fit);
  const HardwareProfile base = load_hardware(o.hardware);
  // The output may not be an input (common/output_path.hpp), checked before any simulation.
  if (!o.output.empty())
    check_outputs({{"-o", o.output}}, {{"--runs", o.runs}, {"--hardware", base.file}});
  // With -o - the profile is the standard output; the summary or --json goes to stderr.
  std::FILE* const summary = is_standard_output(o.output) ? stderr : stdout;
  const std::vector<PreparedRun> rows = prepare_measured_runs(set, base);
  const StackFitResult fit = fit_stack(rows, base, std::nullopt, allowed);
  std::vector<RunComparison> held_out;
  if (o.leave_one_out || rows.size() >= 2)
    held_out = leave_one_out(rows, base, allowed);

  double stack_error = 0;
  std::string error_why;
  if (rows.size() == 1) {
    stack_error = kOneRowAllowance;
    error_why = "assumption: one measured run (" + o.runs +
                ") is fitted exactly and cannot show the fit's error; a 10% allowance stands in";
  } else {
    stack_error = std::max(worst_abs(held_out), worst_abs(fit.after));
    error_why = fmt::format(
        "worst |error| of the leave-one-out predictions of {} ({} rows) and of the fit itself: "
        "{:.1f}% (meshsim calibrate --runs {} --hardware {} --leave-one-out)",
        o.runs, rows.size(), 100 * stack_error, o.runs, base.name);
  }
  const json profile = derived_profile(base, o.runs, fit, stack_error, error_why);

  if (o.json) {
    json j;
    j["schema"] = "meshsim.calibration.runs/v1";
    j["file"] = o.runs;
    j["hardware"] = base.name;
    j["profile"] = base.name + "-calibrated";
    j["parameters"] = json::array();
    for (int k = 0; k < kStackParameters; ++k) {
      const auto& sp = stack_parameters()[static_cast<std::size_t>(k)];
      const auto& p = fit.parameters[static_cast<std::size_t>(k)];
      j["parameters"].push_back(
          {{"name", sp.field},
           {"unit", sp.unit},
           {"low", sp.low},
           {"high", sp.high},
           {"fitted", p.fitted},
           {"value", p.value},
           {"std_error", p.std_error < 0 ? json(nullptr) : json(p.std_error)},
           {"at_bound", p.at_bound},
           {"constrained_by", p.constrained_by},
           {"kept_because", p.fitted ? json(nullptr) : json(p.why_kept)},
           {"alone",
            allowed[static_cast<std::size_t>(k)]
                ? json{{"value", fit.alone[static_cast<std::size_t>(k)].value},
                       {"rms_log_error", fit.alone[static_cast<std::size_t>(k)].rms_log_error}}
                : json(nullptr)}});
    }
    auto rows_json = [&](const std::vector<RunComparison>& list) {
      json a = json::array();
      for (const auto& r : list) {
        a.push_back({{"id", r.id},
                     {"measured_images_per_s", r.measured_images_per_s},
                     {"predicted_images_per_s", r.predicted_images_per_s},
                     {"rel_error", r.rel_error}});
      }
      return a;
    };
    j["before"] = rows_json(fit.before);
    j["after"] = rows_json(fit.after);
    if (!held_out.empty())
      j["held_out"] = rows_json(held_out);
    j["stack_error"] = stack_error;
    j["simulations"] = fit.simulations;
    if (!o.output.empty())
      write_output({"-o", o.output}, json_text(profile) + "\n");
    std::fprintf(summary, "%s\n", json_text(j).c_str());
    return;
  }

  std::string out = fmt::format(
      "meshsim calibrate: stack of {} fitted on {} ({} measured run{}, {} simulated steps)\n\n",
      base.name, o.runs, rows.size(), rows.size() == 1 ? "" : "s", fit.simulations);
  out += fmt::format("  {:<24} {:>12} {:>12}   {:<22} {}\n", "parameter", "value", "+- (1 sd)",
                     "bounds", "constrained by");
  std::vector<std::string> kept;
  for (int k = 0; k < kStackParameters; ++k) {
    const auto& sp = stack_parameters()[static_cast<std::size_t>(k)];
    const auto& p = fit.parameters[static_cast<std::size_t>(k)];
    const std::string bounds =
        fmt::format("[{}, {}]", value_text(k, sp.low), value_text(k, sp.high));
    if (!p.fitted) {
      kept.push_back(std::string(sp.field) + " (" + p.why_kept + ")");
      out += fmt::format("  {:<24} {:>12} {:>12}   {:<22} kept: {}\n", sp.field,
                         value_text(k, p.value), "-", bounds, p.why_kept);
      continue;
    }
    out += fmt::format("  {:<24} {:>12} {:>12}   {:<22} {}{}\n", sp.field, value_text(k, p.value),
                       p.std_error < 0 ? std::string("n/a") : value_text(k, p.std_error), bounds,
                       join(p.constrained_by), p.at_bound ? "  (at its bound)" : "");
  }
  out += "\n  each parameter alone (the others at the profile's values):\n";
  for (int k = 0; k < kStackParameters; ++k) {
    if (!allowed[static_cast<std::size_t>(k)])
      continue;
    const auto& a = fit.alone[static_cast<std::size_t>(k)];
    out += fmt::format("    {:<24} {:>12}   rms error {:.1f}%\n",
                       stack_parameters()[static_cast<std::size_t>(k)].field,
                       value_text(k, a.value), 100 * (std::exp(a.rms_log_error) - 1));
  }
  out += fmt::format("\n  {:<32} {:>14} {:>14} {:>9} {:>14} {:>9}", "run", "measured img/s",
                     "before img/s", "error", "fitted img/s", "error");
  out += held_out.empty() ? "\n" : fmt::format(" {:>10}\n", "held out");
  for (std::size_t i = 0; i < fit.after.size(); ++i) {
    const auto& b = fit.before[i];
    const auto& a = fit.after[i];
    out += fmt::format("  {:<32} {:>14.1f} {:>14.1f} {:>+8.1f}% {:>14.1f} {:>+8.1f}%", a.id,
                       a.measured_images_per_s, b.predicted_images_per_s, 100 * b.rel_error,
                       a.predicted_images_per_s, 100 * a.rel_error);
    out += held_out.empty() ? "\n" : fmt::format(" {:>+9.1f}%\n", 100 * held_out[i].rel_error);
  }
  out += fmt::format("\n  stack error for the band: {:.1f}% ({})\n", 100 * stack_error, error_why);
  if (!kept.empty() && rows.size() < static_cast<std::size_t>(kStackParameters)) {
    out += fmt::format(
        "  {} row{} fit{} at most {} parameter{}; the others keep the profile's values.\n",
        rows.size(), rows.size() == 1 ? "" : "s", rows.size() == 1 ? "s" : "", rows.size(),
        rows.size() == 1 ? "" : "s");
  }
  if (!o.output.empty()) {
    write_output({"-o", o.output}, json_text(profile) + "\n");
    out += fmt::format("  wrote {} (profile {}-calibrated)\n", o.output, base.name);
  }
  std::fputs(out.c_str(), summary);
}

}  // namespace meshsim::cli
