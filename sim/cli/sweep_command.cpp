// `meshsim sweep` (rank every valid plan of a chip count, schema meshsim.sweep/v1, docs/sweep.md)
// and `meshsim report` (the capacity report, schema meshsim.report/v1, docs/report.md).
#include <unistd.h>
#include <charconv>

#include <fmt/format.h>

#include <CLI/CLI.hpp>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <optional>
#include <sstream>
#include <stdexcept>
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
#include "sim/limits.hpp"
#include "sim/report/csv_tables.hpp"
#include "sim/report/html_report.hpp"
#include "sim/report/layer_timeline.hpp"
#include "sim/report/sweep_report.hpp"
#include "sim/sweep/capacity.hpp"
#include "sim/sweep/distribution.hpp"
#include "sim/sweep/no_plan.hpp"
#include "sim/sweep/sweep.hpp"

namespace meshsim::cli {
namespace {

std::vector<std::string> split(const std::string& text, char sep) {
  std::vector<std::string> out;
  std::stringstream ss(text);
  std::string item;
  while (std::getline(ss, item, sep))
    out.push_back(item);
  return out;
}

// A global batch of `--batch` (one end of a range): the count grammar, within the plan's bound.
std::int64_t parse_batch(const std::string& text) {
  try {
    return parse_count(text, 1, limits::kMaxGlobalBatch);
  } catch (const InputError& e) {
    throw e.located({"--batch", "", "batch"});
  }
}

// "65536" or "LO:HI": LO, 2 LO, 4 LO, ... up to HI. Both ends are bounded, so the doubling stops
// after at most 41 values (it used to run past 2^63 forever, issue 17 item 7).
std::vector<std::int64_t> parse_batches(const std::string& text) {
  if (text.empty())
    return {};
  const auto colon = text.find(':');
  if (colon == std::string::npos)
    return {parse_batch(text)};
  if (text.find(':', colon + 1) != std::string::npos) {
    throw InputError({"--batch", "", "batch"}, "malformed batch range", "\"" + text + "\"",
                     "N or LO:HI");
  }
  const auto lo = parse_batch(text.substr(0, colon));
  const auto hi = parse_batch(text.substr(colon + 1));
  if (hi < lo) {
    throw InputError({"--batch", "", "batch"}, "the range is empty", "\"" + text + "\"",
                     "LO <= HI");
  }
  std::vector<std::int64_t> out;
  for (std::int64_t b = lo;; b *= 2) {
    out.push_back(b);
    if (b > hi / 2)
      break;
  }
  return out;
}

template <typename T, typename Parse>
std::vector<T> parse_list(const std::string& text, const std::string& flag,
                          const std::vector<T>& all, Parse parse) {
  if (text.empty())
    return {};
  if (text == "all")
    return all;
  std::vector<T> out;
  for (const auto& item : split(text, ','))
    out.push_back(parse(item, ErrorSite{flag, "", flag.substr(2)}));
  return out;
}

struct SweepCliOptions {
  std::string model = "vit-22b";
  std::string hardware = "tpu-v4";
  std::int64_t chips = 0;
  std::int64_t top = 5;
  int threads = 1;
  bool json = false;
  std::string batch, shardings, optimizers, remats, schedules, pipelines;
  std::int64_t max_microbatches = 64;
  std::string output_path;
  // report
  std::string steps, tokens, images;
  std::int64_t global_batch = 0;
  std::int64_t max_scaling_chips = 0;
  std::string html_path;
  std::string csv_path;
  double max_seconds = 0;
  // report: capacity questions (docs/report.md "Capacity questions") and the price
  std::string days, budget, price;
  std::vector<std::string> sets;  // --set PATH=VALUE
  std::int64_t max_chips = 0;
  bool quiet = false;
};

// A positive amount (days, dollars, a price): the count grammar with a fraction
// (common/count.hpp), within [lo, hi]. One line naming the flag otherwise.
double parse_flag_amount(const std::string& text, const char* flag, double lo, double hi,
                         const char* unit) {
  try {
    return parse_amount(text, lo, hi, unit);
  } catch (const InputError& e) {
    throw e.located({flag, "", std::string(flag).substr(2)});
  }
}

void check_common(const SweepCliOptions& o, bool chips_optional = false) {
  if (o.chips < 1 && !(chips_optional && o.chips == 0)) {
    throw InputError({"--chips", "", "chips"}, "must be positive", std::to_string(o.chips),
                     "1 or more");
  }
  if (o.threads < 1 || o.threads > 256) {
    throw InputError({"-j", "", "threads"}, "out of range", std::to_string(o.threads), "1 to 256");
  }
  if (o.top < 1) {
    throw InputError({"--top", "", "top"}, "must be positive", std::to_string(o.top), "1 or more");
  }
}

// The files the command writes: -o, --csv and (report) --html.
std::vector<NamedPath> outputs_of(const SweepCliOptions& o) {
  std::vector<NamedPath> outputs;
  if (!o.output_path.empty())
    outputs.push_back({"--output", o.output_path});
  if (!o.csv_path.empty())
    outputs.push_back({"--csv", o.csv_path});
  if (!o.html_path.empty())
    outputs.push_back({"--html", o.html_path});
  return outputs;
}

// The outputs against the output-path policy and the inputs (common/output_path.hpp), before any
// work.
void check_output(const SweepCliOptions& o, const ModelConfig& model,
                  const HardwareProfile& hardware) {
  check_outputs(outputs_of(o), {{"--model", model.file}, {"--hardware", hardware.file}});
}

// Under MPI only rank 0 writes, so only it checks the outputs (its node's file system); a rank
// that fails meets the others at their next collective step (sim/sweep/distribution.hpp).
void sweep_command(const SweepCliOptions& o, sweep::Distribution& dist) {
  if (dist.is_root())
    check_outputs(outputs_of(o), {});
  check_common(o);
  if (o.max_microbatches < 1) {
    throw InputError({"--max-microbatches", "", "max-microbatches"}, "must be positive",
                     std::to_string(o.max_microbatches), "1 or more");
  }
  const WhatIfSets sets = split_sets(o.sets, true, true);
  const ModelConfig model = load_model(o.model, sets.model);
  const HardwareProfile hardware = load_hardware(o.hardware, sets.hardware);
  if (dist.is_root())
    check_output(o, model, hardware);
  sweep::SweepOptions so;
  so.chips = o.chips;
  so.top = o.top;
  so.threads = o.threads;
  so.space.global_batches = parse_batches(o.batch);
  so.space.shardings =
      parse_list<Sharding>(o.shardings, "--shardings",
                           {Sharding::Auto, Sharding::Row, Sharding::Column}, parse_sharding);
  so.space.optimizers = parse_list<OptimizerKind>(
      o.optimizers, "--optimizers",
      {OptimizerKind::Adam, OptimizerKind::Adafactor, OptimizerKind::Sgd}, parse_optimizer);
  so.space.remats = parse_list<Remat>(o.remats, "--remats",
                                      {Remat::None, Remat::Selective, Remat::Full}, parse_remat);
  so.space.max_microbatches = o.max_microbatches;
  so.space.schedules = parse_list<PipelineSchedule>(
      o.schedules, "--schedules",
      {PipelineSchedule::OneFOneB, PipelineSchedule::GPipe, PipelineSchedule::Interleaved},
      parse_pipeline_schedule);
  so.space.pipelines = parse_list<std::int64_t>(
      o.pipelines, "--pipelines", {}, [&](const std::string& item, const ErrorSite& site) {
        std::int64_t p = 0;
        const auto [end, ec] = std::from_chars(item.data(), item.data() + item.size(), p);
        if (item.empty() || ec != std::errc() || end != item.data() + item.size() || p < 1 ||
            p > 4096 || o.chips % p != 0) {
          throw InputError(site, "not a pipeline size", "\"" + item + "\"",
                           "positive integers dividing --chips, e.g. 1,2,4,8");
        }
        return p;
      });
  so.max_seconds = o.max_seconds;
  // Progress on rank 0 only (docs/sweep.md "Progress"); the other ranks are quiet.
  const auto progress = Progress::to_stderr("sweep", o.quiet || !dist.is_root());
  progress->pending_phase(
      fmt::format("enumerating, bounding and simulating the plans of {} chips", o.chips));
  so.progress = [progress](const sweep::SweepProgress& p) { progress->sweep(p); };
  so.distribution = &dist;
  auto heartbeat = std::make_unique<Heartbeat>(progress, "simulating the plans");
  auto result = sweep::run_sweep(model, hardware, so);
  heartbeat.reset();
  if (!dist.is_root())
    return;
  if (result.top.empty() && !result.partial)
    progress->phase("no plan: searching the nearest chip counts where one fits");
  sweep::find_nearest_chips(model, hardware, so.space, result);
  progress->finish();
  const std::string json = report::sweep_json(model, hardware, so, result);
  if (!o.output_path.empty())
    write_output({"--output", o.output_path}, json);
  if (!o.csv_path.empty())
    write_output({"--csv", o.csv_path}, report::sweep_plans_csv(json));
  if (!any_standard_output(outputs_of(o)))
    std::fputs(o.json ? json.c_str() : report::sweep_text(model, hardware, so, result).c_str(),
               stdout);
}

void report_command(const SweepCliOptions& o, sweep::Distribution& dist) {
  if (dist.is_root())
    check_outputs(outputs_of(o), {});
  sweep::CapacityGoal goal;
  if (!o.days.empty())
    goal.max_days = parse_flag_amount(o.days, "--days", 1e-3, 1e5, "days");
  if (!o.budget.empty())
    goal.max_cost_usd = parse_flag_amount(o.budget, "--budget", 1e-2, 1e13, "US dollars");
  std::optional<double> price;
  if (!o.price.empty())
    price = parse_flag_amount(o.price, "--price", 1e-4, 1e4, "US dollars per chip-hour");
  check_common(o, goal.active());
  if (o.chips == 0 && !goal.active()) {
    throw InputError({"--chips", "", "chips"}, "required", "no --chips",
                     "--chips N, or --days N and/or --budget USD to find the chip count");
  }
  if (o.chips > 0 && goal.active()) {
    throw InputError({"--chips", "", "chips"}, "--days and --budget find the chip count",
                     "--chips " + std::to_string(o.chips),
                     "either --chips N, or --days/--budget without --chips");
  }
  if (o.max_chips > 0 && !goal.active()) {
    throw InputError({"--max-chips", "", "max-chips"}, "only bounds a capacity question",
                     std::to_string(o.max_chips), "--max-chips with --days or --budget");
  }
  const int given =
      (o.steps.empty() ? 0 : 1) + (o.tokens.empty() ? 0 : 1) + (o.images.empty() ? 0 : 1);
  if (given > 1) {
    throw InputError({"--steps", "", "steps"}, "give at most one training target",
                     std::to_string(given) + " given", "--steps S, --tokens T or --images I");
  }
  sweep::CapacityOptions co;
  co.chips = o.chips;
  co.threads = o.threads;
  co.top = o.top;
  co.global_batch = o.global_batch;
  co.max_scaling_chips = o.max_scaling_chips;
  co.max_search_chips = o.max_chips;
  // A count of the one count grammar (common/count.hpp): 177000, 177k, 3T, 11.6G.
  auto target = [](const std::string& text, const std::string& flag) {
    try {
      return static_cast<double>(parse_count(text, 1));
    } catch (const InputError& e) {
      throw e.located({flag, "", flag.substr(2)});
    }
  };
  if (!o.steps.empty()) {
    co.target_kind = sweep::TargetKind::Steps;
    co.target_value = target(o.steps, "--steps");
  } else if (!o.tokens.empty()) {
    co.target_kind = sweep::TargetKind::Tokens;
    co.target_value = target(o.tokens, "--tokens");
  } else if (!o.images.empty()) {
    co.target_kind = sweep::TargetKind::Images;
    co.target_value = target(o.images, "--images");
  }
  const WhatIfSets sets = split_sets(o.sets, true, true);
  const ModelConfig model = load_model(o.model, sets.model);
  HardwareProfile hardware = load_hardware(o.hardware, sets.hardware);
  if (price)
    set_price(hardware, *price);
  if (dist.is_root())
    check_output(o, model, hardware);
  // Progress on rank 0 only; the other ranks are quiet.
  const auto progress = Progress::to_stderr("report", o.quiet || !dist.is_root());
  progress->pending_phase(goal.active()
                              ? std::string("capacity question: sweeps at the chip counts searched")
                              : fmt::format("phase 1/3: sweep of the plans of {} chips", o.chips));
  co.progress = [progress](const sweep::SweepProgress& p) { progress->sweep(p); };
  co.distribution = &dist;
  // Phases 2 and 3 (sim/sweep/capacity.hpp); a heartbeat fills silences (a long simulation).
  auto heartbeat = std::make_unique<Heartbeat>(progress, "simulating the plans");
  co.phase = [progress, &heartbeat](const std::string& phase, std::int64_t done,
                                    std::int64_t total) {
    if (done == 0) {
      heartbeat.reset();
      const bool scaling = phase == "scaling curve";
      progress->phase(fmt::format("phase {}/3: {} ({} {})", scaling ? 3 : 2, phase, total,
                                  scaling ? "chip counts to simulate" : "remat policies"));
      if (scaling)
        heartbeat = std::make_unique<Heartbeat>(progress, "scaling curve");
    } else {
      progress->steps(phase, done, total);
    }
  };
  auto rep = goal.active() ? sweep::answer_capacity_question(model, hardware, co, goal)
                           : sweep::build_capacity_report(model, hardware, co);
  heartbeat.reset();
  if (!dist.is_root())
    return;
  if (!rep.has_best)
    progress->phase("no plan: searching the nearest chip counts where one fits");
  {
    sweep::SweepSpace space;
    space.global_batches = {rep.global_batch};
    sweep::find_nearest_chips(model, hardware, space, rep.sweep);
  }
  if (rep.has_best) {
    // The best plan once more, its first chip traced (replica symmetry kept): the report's
    // timeline of one layer. The same inputs give the same step, so only the trace is taken.
    auto& best = rep.sweep.top.front();
    progress->phase("the best plan's layer timeline");
    auto traced =
        execution::simulate_step(model, hardware, best.plan, report::layer_timeline_trace());
    // Checked, not assumed: a trace of one chip keeps the step (and its symmetry) as it was.
    if (traced.step_time_s != best.result.step_time_s || traced.events != best.result.events)
      throw std::logic_error("report: the traced best plan differs from the one the sweep ranked");
    best.result.trace = std::move(traced.trace);
    best.result.trace_chips = std::move(traced.trace_chips);
  }
  progress->finish();
  const std::string json = report::capacity_json(rep);
  if (!o.output_path.empty())
    write_output({"--output", o.output_path}, json);
  if (!o.html_path.empty()) {
    write_output({"--html", o.html_path},
                 report::html_page(json, o.output_path.empty() ? "meshsim report" : o.output_path));
  }
  if (!o.csv_path.empty())
    write_output({"--csv", o.csv_path}, report::scaling_points_csv(json));
  if (!any_standard_output(outputs_of(o)))
    std::fputs(o.json ? json.c_str() : report::capacity_text(rep).c_str(), stdout);
}

void add_model_hardware(CLI::App* cmd, SweepCliOptions& o, bool chips_required = true) {
  cmd->add_option("--model", o.model, "Model: zoo name (see 'meshsim models') or JSON file")
      ->capture_default_str();
  cmd->add_option("--hardware", o.hardware,
                  "Hardware profile: name (see 'meshsim hardware') or JSON file")
      ->capture_default_str();
  auto* chips =
      cmd->add_option(
             "--chips", o.chips,
             chips_required ? "Chip count" : "Chip count (not with --days/--budget, which find it)")
          ->check(count_flag(1));
  if (chips_required)
    chips->required();
  cmd->add_option("-j,--threads", o.threads,
                  "Simulation threads (results do not depend on it); under mpirun, per rank: the "
                  "ranks share the simulations and rank 0 writes (docs/sweep.md)")
      ->check(count_flag(1, 256))
      ->capture_default_str();
  cmd->add_flag("--json", o.json, "Print JSON instead of a table");
  add_set_option(cmd, o.sets, true, true);
  cmd->add_flag("--quiet", o.quiet,
                "No progress on standard error (by default: in place on a terminal, else a line "
                "every 5 s and at each phase)");
}

}  // namespace

void add_sweep_commands(CLI::App& app, sweep::Distribution& distribution) {
  auto so = std::make_shared<SweepCliOptions>();
  auto* sw = app.add_subcommand(
      "sweep",
      "Enumerate every plan for a chip count (mesh x sharding x async x FSDP x remat x optimizer "
      "x microbatches x batch), reject those that cannot apply or do not fit, prune by a proven "
      "lower bound, simulate the rest and rank by throughput (docs/sweep.md).");
  add_model_hardware(sw, *so);
  sw->add_option("--top", so->top, "Plans shown (the ranking is exact for these)")
      ->check(count_flag(1))
      ->capture_default_str();
  sw->add_option("--batch", so->batch,
                 "Global batch N, or a range LO:HI swept over LO, 2LO, 4LO, ... (default: the "
                 "model's published batch)");
  sw->add_option("--shardings", so->shardings,
                 "Shardings to sweep: auto (default), a list auto,row,column, or all (row/column "
                 "only where they differ from auto)");
  sw->add_option("--optimizers", so->optimizers,
                 "Optimizers to sweep: adam (default), a list adam,adafactor,sgd, or all");
  sw->add_option("--remats", so->remats,
                 "Remat policies to sweep: a list none,selective,full (default: all)");
  sw->add_option("--pipelines", so->pipelines,
                 "Pipeline sizes to sweep, a list such as 1,4,8 (default: for decoders 1 and the "
                 "powers of two up to the depth that divide --chips; for encoders 1)");
  sw->add_option("--schedules", so->schedules,
                 "Pipeline schedules to sweep: a list 1f1b,gpipe,interleaved or all (default: "
                 "all; interleaved with 2 virtual stages)");
  sw->add_option("--max-microbatches", so->max_microbatches,
                 "Largest microbatch count swept (1, 2, 4, ...)")
      ->check(count_flag(1, limits::kMaxMicrobatches))
      ->capture_default_str();
  sw->add_option("--max-seconds", so->max_seconds,
                 "Stop starting simulations after this many seconds of wall time and rank the "
                 "plans simulated so far (output marked partial; default: no limit)")
      ->check(count_flag(1, 31'536'000));
  sw->add_option("-o,--output", so->output_path,
                 "Also write the JSON to FILE (atomically; - for standard output)");
  sw->add_option("--csv", so->csv_path,
                 "Also write the ranked plans as CSV to FILE (docs/report.md \"CSV\"; - for "
                 "standard output)");
  sw->callback([so, &distribution] { sweep_command(*so, distribution); });

  auto ro = std::make_shared<SweepCliOptions>();
  ro->top = 3;
  auto* rp = app.add_subcommand(
      "report",
      "Capacity report (docs/report.md): plans that fit, the best plan, time, chip-hours and cost "
      "to train, the largest batch that fits, and scaling with the chip count. Writes JSON "
      "(meshsim.report/v1) to FILE and a summary to stdout.");
  add_model_hardware(rp, *ro, false);
  rp->add_option("--steps", ro->steps,
                 "Training steps (default: the model's published count, e.g. 177k for ViT-22B)");
  rp->add_option("--tokens", ro->tokens, "Training target in tokens (e.g. 3T)");
  rp->add_option("--images", ro->images, "Training target in images seen (e.g. 11.6G)");
  // --batch as in run and sweep; --global-batch, its older name, is the same flag.
  auto* batch = rp->add_option("--batch", ro->global_batch,
                               "Global batch in images (default: the model's published batch)")
                    ->check(count_flag(1, limits::kMaxGlobalBatch));
  auto* global_batch =
      rp->add_option("--global-batch", ro->global_batch, "The same as --batch (older name)")
          ->check(count_flag(1, limits::kMaxGlobalBatch));
  batch->excludes(global_batch);
  global_batch->excludes(batch);
  rp->add_option("--top", ro->top, "Plans listed in the report")
      ->check(count_flag(1))
      ->capture_default_str();
  rp->add_option("--max-scaling-chips", ro->max_scaling_chips,
                 "Largest chip count of the scaling curve (default: 4 x chips, within the "
                 "profile)")
      ->check(count_flag(1));
  rp->add_option("--days", ro->days,
                 "Capacity question: the smallest chip count (and its plan) that trains the target "
                 "within this many days (replaces --chips; docs/report.md \"Capacity questions\")");
  rp->add_option("--budget", ro->budget,
                 "Capacity question: the smallest chip count that trains the target within this "
                 "many US dollars (e.g. 2.5M; with --days: both)");
  rp->add_option("--max-chips", ro->max_chips,
                 "Largest chip count a capacity question searches (default: the profile's "
                 "largest system)")
      ->check(count_flag(1));
  rp->add_option("--price", ro->price,
                 "Price in US dollars per chip-hour, replacing the profile's (recorded in the "
                 "JSON as price_source)");
  rp->add_option("-o,--output", ro->output_path,
                 "Also write the JSON report to FILE (atomically; - for standard output; --json "
                 "prints it instead of the summary)");
  rp->add_option("--html", ro->html_path,
                 "Also write the HTML report (answer first, then charts; opens offline) to FILE");
  rp->add_option("--csv", ro->csv_path,
                 "Also write the scaling points as CSV to FILE (docs/report.md \"CSV\")");
  rp->callback([ro, &distribution] { report_command(*ro, distribution); });
}

}  // namespace meshsim::cli
