// `meshsim run` (one what-if run of a training step) and `meshsim compare` (several plans side by
// side). The JSON schemas meshsim.run/v1 and meshsim.compare/v1 are documented in docs/run-json.md.
#include <CLI/CLI.hpp>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "common/error.hpp"
#include "common/output_path.hpp"
#include "hardware_profiles/hardware.hpp"
#include "models/model.hpp"
#include "sim/cli/commands.hpp"
#include "sim/cli/flag_checks.hpp"
#include "sim/cli/progress.hpp"
#include "sim/cli/what_if.hpp"
#include "sim/execution/step.hpp"
#include "sim/limits.hpp"
#include "sim/plan/plan.hpp"
#include "sim/report/csv_tables.hpp"
#include "sim/report/layer_timeline.hpp"
#include "sim/report/run_report.hpp"

namespace meshsim::cli {
namespace {

struct RunOptions {
  std::string model = "vit-22b";
  std::string hardware = "tpu-v4";
  std::int64_t chips = 0;
  std::vector<std::string> plan_files;
  PlanFlags flags;
  std::string trace_path;
  int trace_chips = 8;
  bool all_chips = false;
  std::string output_path;
  bool json = false;
  std::string csv_path;
  bool quiet = false;
  // compare: several --mesh and --hardware values, each column one combination.
  std::vector<std::string> meshes, hardwares;
  std::vector<std::string> sets;  // --set PATH=VALUE (what-if overrides)
};

// Plan flags shared by run and compare (DESIGN §5).
void add_plan_flags(CLI::App* cmd, RunOptions& o, bool variants = false) {
  if (variants) {
    cmd->add_option("--mesh", o.meshes,
                    "Logical mesh DATAxMODEL, e.g. 256x4, DATAxMODEL1xMODEL2 (2-D weight "
                    "sharding), or named axes data=8,pipeline=16,model=8; give several "
                    "(--mesh 128x8 --mesh 256x4) to compare them");
  } else {
    cmd->add_option("--mesh", o.flags.mesh,
                    "Logical mesh DATAxMODEL, e.g. 256x4, DATAxMODEL1xMODEL2 (2-D weight "
                    "sharding), e.g. 64x4x4, or named axes data=8,pipeline=16,model=8 "
                    "(default: chips x 1)");
  }
  cmd->add_option("--mapping", o.flags.mapping,
                  "Axes on the torus, as a plan file's mapping object, e.g. "
                  "'{\"torus_shape\": [16,16,4], \"data\": [\"x\",\"y\"], \"model\": [\"z\"]}'");
  cmd->add_option("--sharding", o.flags.sharding,
                  "auto|row|column, optionally per linear: auto,fused_out_proj=column (row = "
                  "all-gather input, column = reduce-scatter output)");
  cmd->add_option("--async", o.flags.async, "Collective matmul overlapped chunk by chunk: on|off");
  cmd->add_option("--bidirectional", o.flags.bidirectional,
                  "Bidirectional model-axis rings: on|off");
  cmd->add_option("--fsdp", o.flags.fsdp,
                  "Shard weights/gradients/optimizer over the data axis: on|off");
  cmd->add_option("--remat", o.flags.remat, "Rematerialization: none|full|selective");
  cmd->add_option("--optimizer", o.flags.optimizer, "adam|adafactor|sgd");
  cmd->add_option("--master-weights", o.flags.master_weights, "fp32 master weights: on|off");
  cmd->add_option("--grad-dtype", o.flags.gradient_dtype, "Gradient dtype: bf16|fp32");
  cmd->add_option("--weight-grad-input", o.flags.weight_grad_input,
                  "Input of the weight-gradient matmul: keep|regather");
  cmd->add_option("--attention", o.flags.attention,
                  "Attention kernels: unfused (batched matmuls + softmax) | flash (fused)");
  cmd->add_option(
      "--activation-layout", o.flags.activation_layout,
      "Norms/residual on the model axis: sharded (D/k slice) | replicated (full width)");
  cmd->add_option("--grad-sync", o.flags.grad_sync,
                  "FSDP gradient reduce-scatter with microbatches: per-microbatch | last");
  cmd->add_option("--sequence-parallel", o.flags.sequence_parallel,
                  "With replicated activations: norms and residual split along the tokens, "
                  "all-reduces as reduce-scatter + all-gather: on|off");
  cmd->add_option("--microbatches", o.flags.microbatches,
                  "Microbatches per step (gradient accumulation)");
  cmd->add_option("--schedule", o.flags.schedule,
                  "Pipeline schedule (mesh with pipeline=N): gpipe | 1f1b | interleaved "
                  "(default 1f1b)");
  cmd->add_option("--virtual-stages", o.flags.virtual_stages,
                  "Model chunks per chip for --schedule interleaved (default 1)");
  cmd->add_option("--batch", o.flags.batch,
                  "Global batch in images (default: the model's published batch)");
}

void add_common(CLI::App* cmd, RunOptions& o, bool variants = false) {
  cmd->add_option("--model", o.model, "Model: zoo name (see 'meshsim models') or JSON file")
      ->capture_default_str();
  if (variants) {
    cmd->add_option("--hardware", o.hardwares,
                    "Hardware profile: name (see 'meshsim hardware') or JSON file; give several to "
                    "compare them (default: tpu-v4)");
  } else {
    cmd->add_option("--hardware", o.hardware,
                    "Hardware profile: name (see 'meshsim hardware') or JSON file")
        ->capture_default_str();
  }
  cmd->add_option("--chips", o.chips, "Chip count (default: the mesh's product)")
      ->check(count_flag(1));
  cmd->add_flag("--json", o.json, "Print JSON instead of a table");
  add_set_option(cmd, o.sets, true, true);
  cmd->add_option("-o,--output", o.output_path,
                  "Also write the JSON report to FILE (atomically; - for standard output)");
}

struct Prepared {
  ModelConfig model;
  HardwareProfile hardware;
  std::vector<Plan> plans;
};

// The files the command writes: -o and --trace ("-" is standard output, common/output_path.hpp).
std::vector<NamedPath> outputs_of(const RunOptions& o) {
  std::vector<NamedPath> outputs;
  if (!o.output_path.empty())
    outputs.push_back({"--output", o.output_path});
  if (!o.trace_path.empty())
    outputs.push_back({"--trace", o.trace_path});
  if (!o.csv_path.empty())
    outputs.push_back({"--csv", o.csv_path});
  return outputs;
}

// The plans the flags apply to: each --plan file, or one empty plan named "command line".
std::vector<Plan> plan_bases(const RunOptions& o) {
  std::vector<Plan> bases;
  if (o.plan_files.empty()) {
    Plan base;
    base.name = "command line";
    bases.push_back(base);
  }
  for (const auto& file : o.plan_files)
    bases.push_back(load_plan_file(file));
  return bases;
}

// The checks that need no file: outputs against the policy, --trace-chips, --chips, empty --plan.
void check_flags(const RunOptions& o) {
  check_outputs(outputs_of(o), {});  // cheap checks first: a missing directory, a directory, ...
  if (o.trace_chips < 1 || o.trace_chips > 4096) {
    throw InputError({"--trace-chips", "", "trace-chips"}, "out of range",
                     std::to_string(o.trace_chips), "1 to 4096");
  }
  if (o.chips < 0) {
    throw InputError({"--chips", "", "chips"}, "must be positive", std::to_string(o.chips),
                     "1 or more");
  }
  if (o.chips > 0)
    limits::check_simulated_chips(o.chips, {"--chips", "", "chips"});
  for (const auto& file : o.plan_files) {
    if (file.empty()) {  // CLI11 does not run validators on an empty list item
      throw InputError({"--plan", "", ""}, "empty value; give a plan file or leave the flag out",
                       "''", "a path to a plan JSON file (see plans/)");
    }
  }
}

Prepared prepare(const RunOptions& o) {
  check_flags(o);
  Prepared p;
  const WhatIfSets sets = split_sets(o.sets, true, true);
  p.model = load_model(o.model, sets.model);
  p.hardware = load_hardware(o.hardware, sets.hardware);
  const std::vector<Plan> bases = plan_bases(o);
  for (const auto& base : bases) {
    p.plans.push_back(finalize_plan(apply_plan_flags(base, o.flags), p.model, p.hardware, o.chips));
  }
  // No output may overwrite an input or another output (issue 17, item 4), before simulating.
  std::vector<NamedPath> inputs{{"--model", p.model.file}, {"--hardware", p.hardware.file}};
  for (const auto& file : o.plan_files)
    inputs.push_back({"--plan", file});
  check_outputs(outputs_of(o), inputs);
  return p;
}

void warn_if_not_fitting(const Plan& plan, const execution::StepResult& r) {
  if (r.memory.fits)
    return;
  std::fprintf(stderr,
               "meshsim: warning: plan '%s' does not fit in memory: %.4g GB per chip needed, %.4g "
               "GB available (%.4g GB over); timings are shown for reference only\n",
               plan.name.c_str(), r.memory.total_bytes / 1e9, r.memory.capacity_bytes / 1e9,
               r.memory.overflow_bytes / 1e9);
}

void run_command(const RunOptions& o) {
  Prepared p = prepare(o);
  const Plan& plan = p.plans.front();
  // Without --trace, the first chip alone is traced, symmetry kept, for the JSON's layer timeline.
  execution::TraceOptions trace = report::layer_timeline_trace();
  if (!o.trace_path.empty())
    trace.chips = o.trace_chips;
  execution::StepOptions options;
  options.replica_symmetry = !o.all_chips;
  const auto progress = Progress::to_stderr("run", o.quiet);
  execution::StepResult result;
  {
    // Silent unless it takes more than a few seconds (docs/guide/README.md "Progress"), and
    // until the step's limits are checked (a refusal stays one line).
    const std::string what =
        "simulating one step on " + std::to_string(plan.mesh.chips()) + " chips";
    progress->pending_phase(what);
    options.checked = [progress] { progress->confirm_pending(); };
    const Heartbeat heartbeat(progress, what);
    result = execution::simulate_step(p.model, p.hardware, plan, trace, options);
  }
  progress->finish();
  const report::RunInputs inputs{&p.model, &p.hardware, &plan};
  const std::string json = report::run_json(inputs, result);
  if (!o.trace_path.empty())
    write_output({"--trace", o.trace_path}, report::trace_json(inputs, result));
  if (!o.output_path.empty())
    write_output({"--output", o.output_path}, json);
  if (!o.csv_path.empty())
    write_output({"--csv", o.csv_path}, report::run_linears_csv(json));
  warn_if_not_fitting(plan, result);
  if (!any_standard_output(outputs_of(o)))
    std::fputs(o.json ? json.c_str() : report::run_text(inputs, result).c_str(), stdout);
}

// One column of a comparison: a plan on a profile.
struct Column {
  std::size_t hardware = 0;  // index into the loaded profiles
  Plan plan;
};

void compare_command(const RunOptions& o) {
  const std::vector<std::string> hardware_names =
      o.hardwares.empty() ? std::vector<std::string>{o.hardware} : o.hardwares;
  const std::vector<std::string> meshes =
      o.meshes.empty() ? std::vector<std::string>{""} : o.meshes;
  const std::size_t plans = std::max<std::size_t>(o.plan_files.size(), 1);
  if (plans * meshes.size() * hardware_names.size() < 2) {
    throw InputError({"--plan", "", "plan"}, "compare needs at least two columns",
                     "1 plan, 1 mesh, 1 hardware profile",
                     "two or more of --plan A.json, --mesh DATAxMODEL or --hardware NAME (each "
                     "column is one combination)");
  }
  for (const auto& mesh : o.meshes) {
    if (mesh.empty()) {
      throw InputError({"--mesh", "", "mesh"}, "empty value", "''",
                       "a mesh DATAxMODEL, e.g. 256x4");
    }
  }
  check_flags(o);
  const WhatIfSets sets = split_sets(o.sets, true, true);
  const ModelConfig model = load_model(o.model, sets.model);
  std::vector<HardwareProfile> profiles;
  profiles.reserve(hardware_names.size());
  for (const auto& name : hardware_names)
    profiles.push_back(load_hardware(name, sets.hardware));
  const std::vector<Plan> bases = plan_bases(o);
  std::vector<Column> columns;
  for (const auto& base : bases) {
    for (const auto& mesh : meshes) {
      for (std::size_t h = 0; h < profiles.size(); ++h) {
        PlanFlags flags = o.flags;
        if (!mesh.empty())
          flags.mesh = mesh;
        Column c;
        c.hardware = h;
        c.plan = finalize_plan(apply_plan_flags(base, flags), model, profiles[h], o.chips);
        // A column's name tells it apart from the others: the plan's (when several), the mesh
        // (when several) and the profile (when several).
        std::string name = o.plan_files.size() > 1 ? c.plan.name : std::string();
        if (meshes.size() > 1)
          name += (name.empty() ? "" : " ") + c.plan.mesh.text();
        if (profiles.size() > 1)
          name += (name.empty() ? "" : " on ") + profiles[h].name;
        if (!name.empty())
          c.plan.name = name;
        columns.push_back(std::move(c));
      }
    }
  }
  std::vector<NamedPath> inputs{{"--model", model.file}};
  for (const auto& profile : profiles)
    inputs.push_back({"--hardware", profile.file});
  for (const auto& file : o.plan_files)
    inputs.push_back({"--plan", file});
  check_outputs(outputs_of(o), inputs);
  std::vector<execution::StepResult> results;
  std::vector<report::RunInputs> run_inputs;
  for (const auto& c : columns) {
    results.push_back(execution::simulate_step(model, profiles[c.hardware], c.plan,
                                               report::layer_timeline_trace()));
    run_inputs.push_back({&model, &profiles[c.hardware], &c.plan});
  }
  const std::string json = report::compare_json(run_inputs, results);
  if (!o.output_path.empty())
    write_output({"--output", o.output_path}, json);
  for (std::size_t i = 0; i < results.size(); ++i)
    warn_if_not_fitting(columns[i].plan, results[i]);
  if (!any_standard_output(outputs_of(o)))
    std::fputs(o.json ? json.c_str() : report::compare_text(run_inputs, results).c_str(), stdout);
}

}  // namespace

void add_run_commands(CLI::App& app) {
  auto run_opts = std::make_shared<RunOptions>();
  auto* run = app.add_subcommand(
      "run",
      "Simulate one training step of a plan on every chip (replica 0 alone when the data replicas "
      "provably run alike): step time, throughput, MFU/HFU, "
      "exposed communication per axis, memory per chip, per-linear table, critical path.");
  add_common(run, *run_opts);
  run->add_option("--plan", run_opts->plan_files,
                  "Plan JSON file (schema meshsim.plan/v1); flags override it")
      ->expected(0, 1);
  add_plan_flags(run, *run_opts);
  run->add_option("--trace", run_opts->trace_path,
                  "Write a Chrome trace-event JSON (open in Perfetto; - for standard output)");
  run->add_option("--csv", run_opts->csv_path,
                  "Also write the per-linear table as CSV to FILE (docs/report.md \"CSV\"; - for "
                  "standard output)");
  run->add_option("--trace-chips", run_opts->trace_chips, "Chips given trace tracks (the first N)")
      ->check(count_flag(1, 4096))
      ->capture_default_str();
  run->add_flag("--quiet", run_opts->quiet,
                "No progress on standard error (a line every 5 s while a long step simulates)");
  run->add_flag("--all-chips", run_opts->all_chips,
                "Simulate every chip even when the data replicas provably run alike (slower; "
                "gives the same report, see docs/execution.md \"Replica symmetry\")");
  run->callback([run_opts] { run_command(*run_opts); });

  auto cmp_opts = std::make_shared<RunOptions>();
  auto* cmp = app.add_subcommand(
      "compare",
      "Simulate two or more plans side by side (each column one combination of --plan, --mesh "
      "and --hardware): what differs, the step breakdown, and the winner only outside the "
      "model's uncertainty band (a tie otherwise).");
  add_common(cmp, *cmp_opts, /*variants=*/true);
  cmp->add_option("--plan", cmp_opts->plan_files,
                  "Plan JSON file; give several to compare them (flags apply to every plan)");
  add_plan_flags(cmp, *cmp_opts, /*variants=*/true);
  cmp->callback([cmp_opts] { compare_command(*cmp_opts); });
}

}  // namespace meshsim::cli
