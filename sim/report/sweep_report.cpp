#include "sim/report/sweep_report.hpp"

#include <fmt/format.h>

#include <algorithm>

#include <nlohmann/json.hpp>
#include <optional>

#include "common/json_override_apply.hpp"
#include "common/json_text.hpp"
#include "common/version.hpp"
#include "sim/execution/uncertainty.hpp"
#include "sim/plan/sharding.hpp"
#include "sim/report/layer_timeline.hpp"
#include "sim/report/run_report.hpp"
#include "sim/sweep/no_plan.hpp"

namespace meshsim::report {
namespace {

using nlohmann::json;

json memory_summary(const MemoryBreakdown& m) {
  return json{{"fits", m.fits},
              {"per_chip_bytes", m.total_bytes},
              {"capacity_bytes", m.capacity_bytes},
              {"headroom_bytes", m.headroom_bytes},
              {"overflow_bytes", m.overflow_bytes}};
}

// One ranked plan: its choices, what each linear moves, and the simulated metrics.
json plan_entry(const ModelConfig& model, const HardwareProfile& hardware,
                const sweep::RankedPlan& rp, std::size_t rank) {
  const Plan& p = rp.plan;
  const auto& r = rp.result;
  json j;
  j["rank"] = rank;
  j["mesh"] = p.mesh.text();
  j["mapping"] = p.mapping.text();
  j["sharding"] = to_string(p.sharding);
  json lin = json::array();
  for (const auto& l : resolve_sharding(model, p)) {
    lin.push_back(
        {{"linear", l.name}, {"sharding", to_string(l.chosen)}, {"communicates", l.communicates}});
  }
  j["linears"] = lin;
  j["async"] = p.async_collective_matmul;
  j["fsdp"] = p.fsdp;
  j["remat"] = to_string(p.remat);
  j["optimizer"] = to_string(p.optimizer.kind);
  j["microbatches"] = p.microbatches;
  j["grad_sync"] = to_string(p.grad_sync);
  j["attention"] = to_string(p.attention);
  j["activation_layout"] = to_string(p.activation_layout);
  j["sequence_parallel"] = p.sequence_parallel;
  j["global_batch"] = p.global_batch;
  if (p.mesh.pipeline > 1) {
    j["pipeline"] = {{"stages", p.mesh.pipeline},
                     {"schedule", to_string(p.schedule)},
                     {"virtual_stages", p.virtual_stages},
                     {"bubble_fraction", r.pipeline.bubble_fraction},
                     {"send_bytes_per_chip", r.pipeline.send_bytes_per_chip}};
  }
  j["microbatch_images"] = r.microbatch_images;
  j["step_time_s"] = r.step_time_s;
  const execution::StepBand band = execution::step_band(r, hardware);
  j["step_time_low_s"] = band.low_s;
  j["step_time_high_s"] = band.high_s;
  j["uncertainty"] = band_json(band);
  j["step_lower_bound_s"] = rp.bound.step_s;
  j["tokens_per_s"] = r.tokens_per_s;
  j["images_per_s"] = r.images_per_s;
  j["tokens_per_s_per_chip"] = r.tokens_per_s_per_chip;
  j["mfu"] = r.mfu;
  j["hfu"] = r.hfu;
  j["compute_s"] = r.slowest.compute_s;
  j["recompute_s"] = r.slowest.recompute_s;
  j["exposed_model_axis_s"] = r.model_axis.exposed_s;
  j["exposed_data_axis_s"] = r.data_axis.exposed_s;
  j["bottleneck"] = r.bottleneck;
  j["memory"] = memory_summary(r.memory);
  return j;
}

json why_json(const sweep::WhyLost& w) {
  return json{{"step_time_delta_s", w.step_time_delta_s},
              {"compute_delta_s", w.compute_delta_s},
              {"exposed_model_axis_delta_s", w.exposed_model_axis_delta_s},
              {"exposed_data_axis_delta_s", w.exposed_data_axis_delta_s},
              {"headroom_delta_bytes", w.headroom_delta_bytes},
              {"dominant", w.dominant},
              {"summary", w.summary}};
}

json rejections_json(const sweep::SweepResult& s) {
  json j;
  j["considered"] = s.considered;
  j["fitting"] = s.fitting;
  json rej = json::object();
  std::int64_t total = 0;
  for (const auto& [reason, count] : s.rejected) {
    rej[reason] = count;
    total += count;
  }
  j["rejected"] = rej;
  j["rejected_total"] = total;
  json ex = json::array();
  for (const auto& e : s.rejected_examples) {
    ex.push_back({{"reason", e.reason}, {"detail", e.detail}, {"plan", e.plan_text}});
  }
  j["rejected_examples"] = ex;
  j["pruned"] = s.pruned;
  j["simulated"] = s.simulated;
  if (s.partial) {  // stopped by --max-seconds (docs/sweep.md "Work bound")
    j["partial"] = true;
    j["unfinished"] = s.unfinished;
  }
  if (s.top.empty()) {  // docs/sweep.md "When no plan fits"
    j["no_plan"] = {
        {"why", sweep::no_plan_text(s)},
        {"nearest_chips_below", s.nearest_chips_below > 0 ? json(s.nearest_chips_below) : json()},
        {"nearest_chips_above", s.nearest_chips_above > 0 ? json(s.nearest_chips_above) : json()}};
  }
  return j;
}

json plans_json(const ModelConfig& model, const HardwareProfile& hardware,
                const sweep::SweepResult& s) {
  json plans = json::array();
  for (std::size_t i = 0; i < s.top.size(); ++i)
    plans.push_back(plan_entry(model, hardware, s.top[i], i + 1));
  return plans;
}

// True when the runner-up's step-time band overlaps the winner's: the model cannot rank them.
bool runner_up_ties(const HardwareProfile& hardware, const sweep::SweepResult& s) {
  return s.top.size() >= 2 &&
         execution::bands_overlap(execution::step_band(s.top[0].result, hardware),
                                  execution::step_band(s.top[1].result, hardware));
}

json runner_up_json(const HardwareProfile& hardware, const sweep::SweepResult& s) {
  if (s.top.size() < 2)
    return nullptr;
  json j = why_json(sweep::why_lost(s.top[0].result, s.top[1].result));
  j["tie_within_model_error"] = runner_up_ties(hardware, s);
  return j;
}

// "Why #2 lost: ..." or, when the bands overlap, a tie.
std::string runner_up_text(const HardwareProfile& hardware, const sweep::SweepResult& s,
                           const char* label) {
  const auto w = sweep::why_lost(s.top[0].result, s.top[1].result);
  if (runner_up_ties(hardware, s)) {
    return fmt::format(
        "Tie within model error: #1 and #2 have overlapping step-time bands ({} and {}); #1 is "
        "ahead by {:.2f}% on the prediction ({})\n",
        band_text(execution::step_band(s.top[0].result, hardware)),
        band_text(execution::step_band(s.top[1].result, hardware)),
        100.0 * w.step_time_delta_s / s.top[0].result.step_time_s, w.summary);
  }
  return fmt::format("{}{}\n", label, w.summary);
}

json model_json(const ModelConfig& m) {
  json j{{"name", m.name}, {"display_name", m.display_name}, {"params", count_params(m).total}};
  add_overrides(j, m.overrides);
  return j;
}
json hardware_json(const HardwareProfile& h) {
  json j{{"name", h.name}, {"display_name", h.display_name}};
  add_overrides(j, h.overrides);
  return j;
}

std::string gb(double bytes) {
  return fmt::format("{:.2f} GB", bytes / 1e9);
}

// The ranked plans as a table; a batch column when the space has several global batches.
std::string plan_table(const sweep::SweepResult& s, bool batch_column) {
  // The mesh column: 9 wide, wider for a pipeline's named axes (a pipeline plan also names its
  // schedule there).
  std::size_t width = 9;
  auto mesh_text = [](const Plan& p) {
    std::string t = p.mesh.text();
    if (p.mesh.pipeline > 1) {
      t += std::string(" ") + to_string(p.schedule);
      if (p.virtual_stages > 1)
        t += " v=" + std::to_string(p.virtual_stages);
    }
    return t;
  };
  for (const auto& rp : s.top)
    width = std::max(width, mesh_text(rp.plan).size());
  std::string out = fmt::format("{:>4}  {:<{}} ", "rank", "mesh", width);
  if (batch_column)
    out += fmt::format("{:>8} ", "batch");
  out +=
      fmt::format("{:<6} {:<5} {:<5} {:<9} {:<9} {:>3} {:<6}  {:>11}  {:>13}  {:>6}  {:>10}  {}\n",
                  "shard", "async", "fsdp", "remat", "optimizer", "mb", "sync", "step (s)",
                  "tokens/s", "MFU", "headroom", "bottleneck");
  for (std::size_t i = 0; i < s.top.size(); ++i) {
    const auto& rp = s.top[i];
    const auto& p = rp.plan;
    out += fmt::format("{:>4}  {:<{}} ", i + 1, mesh_text(p), width);
    if (batch_column)
      out += fmt::format("{:>8} ", p.global_batch);
    out += fmt::format(
        "{:<6} {:<5} {:<5} {:<9} {:<9} {:>3} {:<6}  {:>11.5f}  {:>13.4g}  {:>5.1f}%  {:>10}  "
        "{}\n",
        // Megatron's layout with sequence parallelism fixes the sharding: "seq" (docs/sweep.md).
        p.sequence_parallel ? "seq" : to_string(p.sharding),
        p.async_collective_matmul ? "on" : "off", p.fsdp ? "on" : "off", to_string(p.remat),
        to_string(p.optimizer.kind), p.microbatches,
        // The gradient sync only differs with FSDP and microbatches (docs/plans.md).
        !p.fsdp || p.microbatches == 1  ? "-"
        : p.grad_sync == GradSync::Last ? "last"
                                        : "per-mb",
        rp.result.step_time_s, rp.result.tokens_per_s, 100.0 * rp.result.mfu,
        gb(rp.result.memory.headroom_bytes), rp.result.bottleneck);
  }
  return out;
}

std::string counts_text(const sweep::SweepResult& s) {
  std::string out =
      fmt::format("plans considered {}, fit in memory {}, pruned by bound {}, simulated {}\n",
                  s.considered, s.fitting, s.pruned, s.simulated);
  for (const auto& [reason, count] : s.rejected)
    out += fmt::format("  rejected ({}): {}\n", reason, count);
  if (s.partial) {
    out += fmt::format(
        "PARTIAL: stopped by --max-seconds with {} candidates neither simulated nor pruned; the "
        "ranking covers the plans simulated so far\n",
        s.unfinished);
  }
  return out;
}

}  // namespace

std::string sweep_json(const ModelConfig& model, const HardwareProfile& hardware,
                       const sweep::SweepOptions& options, const sweep::SweepResult& result) {
  json j;
  j["schema"] = "meshsim.sweep/v1";
  j["version"] = kVersion;
  j["model"] = model_json(model);
  j["hardware"] = hardware_json(hardware);
  add_overrides(j, hardware.overrides, model.overrides);
  j["chips"] = options.chips;
  j["top_k"] = options.top;
  json space;
  json gbs = json::array(), sh = json::array(), opt = json::array(), rem = json::array();
  const auto& sp = options.space;
  if (sp.global_batches.empty())
    gbs.push_back(model.train_batch);
  for (auto b : sp.global_batches)
    gbs.push_back(b);
  if (sp.shardings.empty())
    sh.push_back("auto");
  for (auto s : sp.shardings)
    sh.push_back(to_string(s));
  if (sp.optimizers.empty())
    opt.push_back("adam");
  for (auto o : sp.optimizers)
    opt.push_back(to_string(o));
  if (sp.remats.empty())
    rem = {"none", "selective", "full"};
  for (auto r : sp.remats)
    rem.push_back(to_string(r));
  space["global_batches"] = gbs;
  space["shardings"] = sh;
  space["optimizers"] = opt;
  space["remats"] = rem;
  space["async"] = {true, false};
  space["fsdp"] = {false, true};
  space["max_microbatches"] = sp.max_microbatches;
  j["space"] = space;
  const json counts = rejections_json(result);
  for (auto it = counts.begin(); it != counts.end(); ++it)
    j[it.key()] = it.value();
  j["plans"] = plans_json(model, hardware, result);
  j["runner_up_lost"] = runner_up_json(hardware, result);
  return json_text(j) + "\n";
}

std::string sweep_text(const ModelConfig& model, const HardwareProfile& hardware,
                       const sweep::SweepOptions& options, const sweep::SweepResult& result) {
  std::string out = fmt::format("Sweep: {} on {} x {} (top {})\n", model.display_name,
                                options.chips, hardware.display_name, options.top);
  out += counts_text(result);
  if (result.top.empty()) {
    out += sweep::no_plan_text(result);
    return out;
  }
  out += fmt::format("\n{}", plan_table(result, options.space.global_batches.size() > 1));
  out += fmt::format("Step-time band of #1: {}; model error: {}\n",
                     band_text(execution::step_band(result.top[0].result, hardware)),
                     statuses_text(execution::step_band(result.top[0].result, hardware)));
  if (result.top.size() >= 2) {
    out += '\n';
    out += runner_up_text(hardware, result, "Why #2 lost: ");
  }
  return out;
}

namespace {
// The cost to train at a scaling point: chips x steps x step time / 3600 x price.
std::optional<double> scaling_cost(const sweep::CapacityReport& rep,
                                   const sweep::ScalingPoint& pt) {
  if (!rep.hardware->price_per_chip_hour_usd)
    return std::nullopt;
  return static_cast<double>(pt.chips) * rep.steps * pt.result.step_time_s / 3600.0 *
         *rep.hardware->price_per_chip_hour_usd;
}

// The answer to a capacity question, first in the text.
std::string question_text(const sweep::CapacityReport& rep) {
  const auto& q = *rep.search;
  std::string ask;
  if (q.goal.max_days)
    ask += fmt::format("within {:g} days", *q.goal.max_days);
  if (q.goal.max_cost_usd)
    ask += fmt::format("{}within ${:.4g}", ask.empty() ? "" : " and ", *q.goal.max_cost_usd);
  std::string out;
  if (q.answer_chips > 0) {
    out =
        fmt::format("Answer: {} chips is the smallest count that trains {}\n", q.answer_chips, ask);
  } else {
    out = fmt::format(
        "Answer: no chip count up to {} trains {}; best reachable:", q.candidates.back(), ask);
    if (q.fastest_chips > 0)
      out += fmt::format(" {:.2f} days on {} chips", q.fastest_days, q.fastest_chips);
    if (q.cheapest_cost_usd)
      out += fmt::format("{} ${:.4g} on {} chips", q.fastest_chips > 0 ? "," : "",
                         *q.cheapest_cost_usd, q.cheapest_chips);
    if (q.fastest_chips == 0)
      out += " no plan fits in memory on any count simulated";
    out += fmt::format("; the report below is for {} chips\n", rep.options.chips);
  }
  out += fmt::format("  searched {} candidate counts, simulated {}:", q.candidates.size(),
                     q.simulated.size());
  for (const auto& p : q.simulated) {
    if (!p.has_plan)
      out += fmt::format(" {} (nothing fits)", p.chips);
    else if (p.cost_usd)
      out += fmt::format(" {} ({:.2f} d, ${:.4g}{})", p.chips, p.days, *p.cost_usd,
                         p.meets ? ", meets" : "");
    else
      out += fmt::format(" {} ({:.2f} d{})", p.chips, p.days, p.meets ? ", meets" : "");
    out += p.chips == q.simulated.back().chips ? "" : ";";
  }
  out += fmt::format("\n  ({})\n", q.method);
  return out;
}
}  // namespace

std::string capacity_json(const sweep::CapacityReport& rep) {
  const auto& model = *rep.model;
  const auto& hw = *rep.hardware;
  json j;
  j["schema"] = "meshsim.report/v1";
  j["version"] = kVersion;
  json inputs;
  inputs["model"] = model_json(model);
  inputs["hardware"] = hardware_json(hw);
  add_overrides(j, hw.overrides, model.overrides);
  inputs["chips"] = rep.options.chips;
  inputs["global_batch"] = rep.global_batch;
  inputs["tokens_per_image"] = model.tokens;
  inputs["target"] = {{"kind", sweep::to_string(rep.options.target_kind)},
                      {"value", rep.options.target_value}};
  inputs["steps"] = rep.steps;
  j["inputs"] = inputs;
  j["versions"] = {{"meshsim", kVersion},
                   {"report_schema", "meshsim.report/v1"},
                   {"sweep_schema", "meshsim.sweep/v1"}};
  j["plans"] = rejections_json(rep.sweep);
  j["top_plans"] = plans_json(model, hw, rep.sweep);
  j["runner_up_lost"] = runner_up_json(hw, rep.sweep);
  if (!rep.has_best) {
    j["best_plan"] = nullptr;
    j["time_to_train_s"] = nullptr;
    j["chip_hours"] = nullptr;
    j["cost_usd"] = nullptr;
  } else {
    j["best_plan"] = plan_entry(model, hw, rep.sweep.top.front(), 1);
    if (const json timeline = layer_timeline_json(rep.sweep.top.front().result);
        !timeline.is_null())
      j["layer_timeline"] = timeline;
    // The band scales every total with the best plan's step time.
    const auto band = execution::step_band(rep.sweep.top.front().result, hw);
    const double lo = band.low_s / band.step_time_s, hi = band.high_s / band.step_time_s;
    j["time_to_train_s"] = rep.time_to_train_s;
    j["time_to_train_low_s"] = rep.time_to_train_s * lo;
    j["time_to_train_high_s"] = rep.time_to_train_s * hi;
    j["time_to_train_days"] = rep.time_to_train_s / 86400.0;
    j["chip_hours"] = rep.chip_hours;
    j["chip_hours_low"] = rep.chip_hours * lo;
    j["chip_hours_high"] = rep.chip_hours * hi;
    j["cost_usd"] = rep.cost_usd ? json(*rep.cost_usd) : json(nullptr);
    j["cost_usd_low"] = rep.cost_usd ? json(*rep.cost_usd * lo) : json(nullptr);
    j["cost_usd_high"] = rep.cost_usd ? json(*rep.cost_usd * hi) : json(nullptr);
  }
  j["price_per_chip_hour_usd"] =
      hw.price_per_chip_hour_usd ? json(*hw.price_per_chip_hour_usd) : json(nullptr);
  j["price_source"] =
      hw.price_per_chip_hour_usd ? json(source_of(hw, "/price_per_chip_hour_usd")) : json(nullptr);
  if (rep.search) {
    const auto& q = *rep.search;
    json question;
    question["max_days"] = q.goal.max_days ? json(*q.goal.max_days) : json(nullptr);
    question["max_cost_usd"] = q.goal.max_cost_usd ? json(*q.goal.max_cost_usd) : json(nullptr);
    question["answer_chips"] = q.answer_chips > 0 ? json(q.answer_chips) : json(nullptr);
    question["met"] = q.answer_chips > 0;
    question["report_chips"] = rep.options.chips;
    question["candidates"] = q.candidates;
    question["counts_simulated"] = q.simulated.size();
    json sims = json::array();
    for (const auto& p : q.simulated) {
      json e{{"chips", p.chips}, {"fits", p.has_plan}, {"meets", p.meets}};
      e["step_time_s"] = p.has_plan ? json(p.step_time_s) : json(nullptr);
      e["time_to_train_days"] = p.has_plan ? json(p.days) : json(nullptr);
      e["cost_usd"] = p.has_plan && p.cost_usd ? json(*p.cost_usd) : json(nullptr);
      sims.push_back(e);
    }
    question["simulated"] = sims;
    question["fastest"] = q.fastest_chips > 0 ? json{{"chips", q.fastest_chips},
                                                     {"time_to_train_days", q.fastest_days}}
                                              : json(nullptr);
    question["cheapest"] =
        q.cheapest_cost_usd ? json{{"chips", q.cheapest_chips}, {"cost_usd", *q.cheapest_cost_usd}}
                            : json(nullptr);
    question["method"] = q.method;
    j["capacity_question"] = question;
  }
  json lb = json::array();
  for (const auto& l : rep.largest_batch) {
    lb.push_back({{"remat", to_string(l.remat)},
                  {"images_per_replica", l.images_per_replica},
                  {"global_batch", l.global_batch},
                  {"per_chip_bytes", l.per_chip_bytes}});
  }
  j["largest_batch_that_fits"] = lb;
  json sc = json::array();
  for (const auto& pt : rep.scaling) {
    json p;
    p["chips"] = pt.chips;
    p["simulated"] = pt.simulated;
    if (!pt.simulated) {
      p["reason"] = pt.reason;
      sc.push_back(p);
      continue;
    }
    const auto& r = pt.result;
    p["mesh"] = pt.plan.mesh.text();
    p["remat"] = to_string(pt.plan.remat);
    p["microbatches"] = pt.plan.microbatches;
    p["microbatch_images"] = r.microbatch_images;
    p["step_time_s"] = r.step_time_s;
    p["time_to_train_days"] = rep.steps * r.step_time_s / 86400.0;
    p["cost_usd"] = scaling_cost(rep, pt) ? json(*scaling_cost(rep, pt)) : json(nullptr);
    p["tokens_per_s"] = r.tokens_per_s;
    p["tokens_per_s_per_chip"] = r.tokens_per_s_per_chip;
    p["mfu"] = r.mfu;
    p["efficiency"] = pt.efficiency;
    p["doubling_efficiency"] = pt.doubling_efficiency;
    p["compute_s"] = r.slowest.compute_s;
    p["exposed_model_axis_s"] = r.model_axis.exposed_s;
    p["exposed_data_axis_s"] = r.data_axis.exposed_s;
    p["bottleneck"] = r.bottleneck;
    p["max_link_utilization"] = pt.max_link_utilization;
    p["links_saturated"] = pt.links_saturated;
    p["memory"] = memory_summary(r.memory);
    sc.push_back(p);
  }
  j["scaling"] = {{"points", sc},
                  {"stops_scaling_at_chips",
                   rep.stops_scaling_at > 0 ? json(rep.stops_scaling_at) : json(nullptr)},
                  {"why", rep.stops_scaling_reason},
                  {"rule",
                   "scaling stops where doubling the chips gives less than 1.6x the "
                   "throughput, or the plan cannot be formed"}};
  return json_text(j) + "\n";
}

std::string capacity_text(const sweep::CapacityReport& rep) {
  const auto& model = *rep.model;
  const auto& hw = *rep.hardware;
  std::string out = fmt::format(
      "Capacity report: {} on {} x {}, global batch {}, target {:.0f} {} = {:.0f} steps\n",
      model.display_name, rep.options.chips, hw.display_name, rep.global_batch,
      rep.options.target_value, sweep::to_string(rep.options.target_kind), rep.steps);
  if (rep.search)
    out += question_text(rep);
  out += counts_text(rep.sweep);
  if (!rep.has_best) {
    out += sweep::no_plan_text(rep.sweep);
    return out;
  }
  const auto& b = rep.sweep.top.front();
  out += fmt::format(
      "Best plan: {} sharding={}{} async={} fsdp={} remat={} {} microbatches={}{}\n"
      "  step {:.4f} s, {:.4g} tokens/s, {:.4g} images/s, MFU {:.1f}%, headroom {} per chip, "
      "bottleneck {}\n",
      b.plan.mesh.text(), to_string(b.plan.sharding),
      b.plan.sequence_parallel ? " activations=replicated sequence-parallel" : "",
      b.plan.async_collective_matmul ? "on" : "off", b.plan.fsdp ? "on" : "off",
      to_string(b.plan.remat), to_string(b.plan.optimizer.kind), b.plan.microbatches,
      b.plan.fsdp && b.plan.microbatches > 1
          ? std::string(" grad_sync=") + to_string(b.plan.grad_sync)
          : std::string(),
      b.result.step_time_s, b.result.tokens_per_s, b.result.images_per_s, 100.0 * b.result.mfu,
      gb(b.result.memory.headroom_bytes), b.result.bottleneck);
  const auto band = execution::step_band(b.result, hw);
  const double lo = band.low_s / band.step_time_s, hi = band.high_s / band.step_time_s;
  out +=
      fmt::format("  step-time band {}; model error: {}\n", band_text(band), statuses_text(band));
  out += fmt::format(
      "Time to train: {:.4g} s = {:.2f} days ({:.2f} .. {:.2f}); {:.4g} chip-hours ({:.4g} .. "
      "{:.4g})",
      rep.time_to_train_s, rep.time_to_train_s / 86400.0, lo * rep.time_to_train_s / 86400.0,
      hi * rep.time_to_train_s / 86400.0, rep.chip_hours, lo * rep.chip_hours, hi * rep.chip_hours);
  if (rep.cost_usd)
    out += fmt::format(", ${:.4g} (${:.4g} .. ${:.4g}) at ${}/chip-hour{}", *rep.cost_usd,
                       lo * *rep.cost_usd, hi * *rep.cost_usd, *hw.price_per_chip_hour_usd,
                       source_of(hw, "/price_per_chip_hour_usd") == "--price on the command line"
                           ? " (--price)"
                           : "");
  out += "\n";
  if (rep.sweep.top.size() >= 2)
    out += runner_up_text(hw, rep.sweep, "Runner-up lost: ");
  out += "Largest batch per replica that fits (best plan, 1 microbatch):";
  for (const auto& l : rep.largest_batch)
    out += fmt::format(" remat={} {} images;", to_string(l.remat), l.images_per_replica);
  out += "\nScaling (best plan's choices, data axis scaled):\n";
  out += fmt::format("  {:>6}  {:<9} {:>3}  {:>10}  {:>8}  {:>10}  {:>13}  {:>10}  {:>8}  {}\n",
                     "chips", "mesh", "mb", "step (s)", "days", "cost ($)", "tokens/s",
                     "efficiency", "link use", "bottleneck");
  for (const auto& pt : rep.scaling) {
    if (!pt.simulated) {
      out += fmt::format("  {:>6}  {}\n", pt.chips, pt.reason);
      continue;
    }
    const auto cost = scaling_cost(rep, pt);
    out += fmt::format(
        "  {:>6}  {:<9} {:>3}  {:>10.4f}  {:>8.2f}  {:>10}  {:>13.4g}  {:>9.1f}%  {:>7.0f}%  {}\n",
        pt.chips, pt.plan.mesh.text(), pt.plan.microbatches, pt.result.step_time_s,
        rep.steps * pt.result.step_time_s / 86400.0,
        cost ? fmt::format("{:.4g}", *cost) : std::string("-"), pt.result.tokens_per_s,
        100.0 * pt.efficiency, 100.0 * pt.max_link_utilization, pt.result.bottleneck);
  }
  if (rep.stops_scaling_at > 0)
    out += fmt::format("Stops scaling at {} chips: {}\n", rep.stops_scaling_at,
                       rep.stops_scaling_reason);
  else
    out += "Scales to the largest chip count shown.\n";
  return out;
}

}  // namespace meshsim::report
