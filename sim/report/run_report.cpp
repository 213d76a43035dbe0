#include "sim/report/run_report.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <set>

#include "common/json_override_apply.hpp"
#include "common/json_text.hpp"
#include "common/units.hpp"
#include "common/version.hpp"
#include "sim/execution/uncertainty.hpp"
#include "sim/network/topology.hpp"
#include "sim/report/layer_timeline.hpp"

namespace meshsim::report {
namespace {

using nlohmann::json;

const char* on_off(bool v) {
  return v ? "on" : "off";
}

json plan_json(const Plan& plan) {
  json p;
  p["name"] = plan.name;
  p["source"] = plan.source;
  p["mesh"] = plan.mesh.text();
  p["mapping"] = plan.mapping.text();
  p["sharding"] = to_string(plan.sharding);
  json overrides = json::object();
  for (const auto& [name, s] : plan.sharding_overrides)
    overrides[name] = to_string(s);
  p["sharding_overrides"] = overrides;
  p["async"] = plan.async_collective_matmul;
  p["bidirectional"] = plan.bidirectional;
  p["fsdp"] = plan.fsdp;
  p["remat"] = to_string(plan.remat);
  p["optimizer"] = to_string(plan.optimizer.kind);
  p["master_weights_fp32"] = plan.optimizer.master_weights_fp32;
  p["gradient_dtype"] = to_string(plan.gradient_dtype);
  p["weight_grad_input"] = to_string(plan.weight_grad_input);
  p["attention"] = to_string(plan.attention);
  p["activation_layout"] = to_string(plan.activation_layout);
  p["grad_sync"] = to_string(plan.grad_sync);
  p["sequence_parallel"] = plan.sequence_parallel;
  p["microbatches"] = plan.microbatches;
  p["global_batch"] = plan.global_batch;
  if (plan.mesh.pipeline > 1) {
    p["schedule"] = to_string(plan.schedule);
    p["virtual_stages"] = plan.virtual_stages;
    p["stages"] = plan.stages;
  }
  return p;
}

// The LM head's activations: on the last stage with a pipeline.
double lm_head_bytes(const execution::StepResult& r) {
  return r.pipeline.per_stage.empty() ? r.memory.lm_head_activation_bytes
                                      : r.pipeline.per_stage.back().memory.lm_head_activation_bytes;
}

json memory_json(const MemoryBreakdown& m) {
  json j;
  j["per_chip_bytes"] = m.total_bytes;
  j["capacity_bytes"] = m.capacity_bytes;
  j["fits"] = m.fits;
  j["headroom_bytes"] = m.headroom_bytes;
  j["overflow_bytes"] = m.overflow_bytes;
  j["breakdown"] = {{"weights_bytes", m.weights_bytes},
                    {"weight_gather_buffer_bytes", m.weight_gather_buffer_bytes},
                    {"gradient_buffer_bytes", m.gradient_buffer_bytes},
                    {"master_weights_bytes", m.master_weights_bytes},
                    {"optimizer_state_bytes", m.optimizer_state_bytes},
                    {"gradients_bytes", m.gradients_bytes},
                    {"activations_bytes", m.activations_bytes},
                    {"runtime_reserve_bytes", m.runtime_reserve_bytes}};
  j["params_per_chip"] = m.params_per_chip;
  j["microbatch_images"] = m.microbatch_images;
  j["sequence_parallel_saving_bytes"] = m.sequence_parallel_saving_bytes;
  return j;
}

}  // namespace

json band_json(const execution::StepBand& band) {
  json components = json::object();
  for (int i = 0; i < kFidelityComponents; ++i) {
    const auto& c = band.components[static_cast<std::size_t>(i)];
    components[to_string(static_cast<FidelityComponent>(i))] = {{"status", to_string(c.status)},
                                                                {"error", c.error},
                                                                {"share_s", c.share_s},
                                                                {"low_s", c.low_s},
                                                                {"high_s", c.high_s}};
  }
  return {{"relative_half_width", band.relative_half_width()}, {"components", components}};
}

std::string band_text(const execution::StepBand& band) {
  const double step = band.step_time_s > 0 ? band.step_time_s : 1.0;
  return fmt::format(
      "{} .. {} (-{:.0f}% +{:.0f}%)", format_quantity(band.low_s, QuantityKind::Time),
      format_quantity(band.high_s, QuantityKind::Time),
      100 * (band.step_time_s - band.low_s) / step, 100 * (band.high_s - band.step_time_s) / step);
}

namespace {

json result_json(const RunInputs& in, const execution::StepResult& r) {
  json j;
  j["model"] = in.model->name;
  j["hardware"] = in.hardware->name;
  add_overrides(j, in.hardware->overrides, in.model->overrides);
  j["chips"] = r.chips;
  j["topology"] = r.topology;
  j["plan"] = plan_json(*in.plan);
  j["step_time_s"] = r.step_time_s;
  const execution::StepBand band = execution::step_band(r, *in.hardware);
  j["step_time_low_s"] = band.low_s;
  j["step_time_high_s"] = band.high_s;
  j["uncertainty"] = band_json(band);
  j["tokens_per_s"] = r.tokens_per_s;
  j["images_per_s"] = r.images_per_s;
  j["tokens_per_s_per_chip"] = r.tokens_per_s_per_chip;
  j["images_per_s_per_chip"] = r.images_per_s_per_chip;
  j["mfu"] = r.mfu;
  j["hfu"] = r.hfu;
  j["model_flop_per_step"] = r.model_flop;
  j["executed_flop_per_step"] = r.executed_flop;
  j["compute_only_s"] = r.compute_only_s;
  j["lower_bound_s"] = r.lower_bound_s;
  j["compute_lower_bound_s"] = r.compute_lower_bound_s;
  j["comm_lower_bound_s"] = r.comm_lower_bound_s;
  j["microbatch_images"] = r.microbatch_images;
  j["axes"] = {{"model",
                {{"bytes_sent_per_chip", r.model_axis.bytes_sent_per_chip},
                 {"exposed_s", r.model_axis.exposed_s}}},
               {"data",
                {{"bytes_sent_per_chip", r.data_axis.bytes_sent_per_chip},
                 {"exposed_s", r.data_axis.exposed_s}}}};
  json classes = json::object();
  for (std::size_t i = 0; i < r.bytes_per_link_class.size(); ++i) {
    if (r.bytes_per_link_class[i] <= 0)
      continue;
    classes[network::to_string(static_cast<network::LinkClass>(i))] = {
        {"bytes", r.bytes_per_link_class[i]}, {"max_utilization", r.link_utilization[i]}};
  }
  j["link_classes"] = classes;
  j["memory"] = memory_json(r.memory);
  json linears = json::array();
  for (const auto& l : r.linears) {
    linears.push_back({{"name", l.name},
                       {"sharding", l.sharding},
                       {"communicates", l.communicates},
                       {"compute_s", l.forward_compute_s + l.backward_compute_s},
                       {"comm_s", l.forward_comm_s + l.backward_comm_s},
                       {"exposed_s", l.forward_exposed_s + l.backward_exposed_s},
                       {"forward",
                        {{"compute_s", l.forward_compute_s},
                         {"comm_s", l.forward_comm_s},
                         {"exposed_s", l.forward_exposed_s}}},
                       {"backward",
                        {{"compute_s", l.backward_compute_s},
                         {"comm_s", l.backward_comm_s},
                         {"exposed_s", l.backward_exposed_s}}},
                       {"model_axis_bytes_per_layer", l.bytes_per_layer}});
  }
  j["linears"] = linears;
  j["other_ops_compute_per_layer_s"] = r.other_compute_per_layer_s;
  if (r.pipeline.stages > 1) {
    const auto& pr = r.pipeline;
    json stages = json::array();
    for (const auto& st : pr.per_stage) {
      stages.push_back({{"stage", st.stage},
                        {"layers", st.layers},
                        {"in_flight", st.in_flight},
                        {"compute_s", st.compute_s},
                        {"bubble_s", st.bubble_s},
                        {"memory", memory_json(st.memory)}});
    }
    j["pipeline"] = {{"stages", pr.stages},
                     {"schedule", pr.schedule},
                     {"virtual_stages", pr.virtual_stages},
                     {"microbatches", pr.microbatches},
                     {"bubble_s", pr.bubble_s},
                     {"bubble_fraction", pr.bubble_fraction},
                     {"ideal_bubble_fraction", pr.ideal_bubble_fraction},
                     {"send_bytes_per_chip", pr.send_bytes_per_chip},
                     {"exposed_s", pr.exposed_s},
                     {"per_stage", stages}};
  }
  if (in.model->kind == ModelKind::Decoder) {
    // Decoders only (encoder output unchanged): sequences, the causal FLOP convention, the LM head.
    const FlopPerToken f = flop_per_token(*in.model);
    j["decoder"] = {{"sequence_length", in.model->tokens},
                    {"sequences_per_s", r.images_per_s},
                    {"flop_per_token_train", f.train},
                    {"flop_per_token_train_causal", f.train_causal},
                    {"mfu_causal", r.mfu * f.train_causal / f.train},
                    {"lm_head_compute_s", r.lm_head_compute_s},
                    {"lm_head_exposed_s", r.lm_head_exposed_s},
                    {"lm_head_activation_bytes", lm_head_bytes(r)}};
  }
  j["critical_path"] = {{"chip", r.slowest.chip},
                        {"data_index", r.slowest.data_index},
                        {"model_index", r.slowest.model_index},
                        {"finish_s", r.slowest.finish_s},
                        {"compute_s", r.slowest.compute_s},
                        {"exposed_model_s", r.slowest.exposed_model_s},
                        {"exposed_data_s", r.slowest.exposed_data_s},
                        {"recompute_s", r.slowest.recompute_s},
                        {"optimizer_s", r.slowest.optimizer_s},
                        {"bottleneck", r.bottleneck}};
  if (const json timeline = layer_timeline_json(r); !timeline.is_null())
    j["layer_timeline"] = timeline;
  j["simulation"] = {{"events", r.events},
                     {"transfers", r.transfers},
                     {"simulated_chips", r.simulated_chips},
                     {"replica_symmetry", r.symmetry},
                     {"memoized_data_collectives", r.memoized_data_collectives},
                     {"stepwise_data_collectives", r.stepwise_data_collectives}};
  return j;
}

std::string dump(const json& j) {
  return json_text(j) + "\n";
}

std::string seconds(double s) {
  return format_quantity(s, QuantityKind::Time);
}
std::string bytes(double b) {
  return format_quantity(b, QuantityKind::Bytes);
}

}  // namespace

std::string statuses_text(const execution::StepBand& band) {
  std::string out;
  for (int i = 0; i < kFidelityComponents; ++i) {
    const auto& c = band.components[static_cast<std::size_t>(i)];
    const bool one_sided = static_cast<FidelityComponent>(i) == FidelityComponent::Stack &&
                           c.status == FidelityStatus::Assumed;
    out += fmt::format("{}{} {} {}{:.0f}%", i == 0 ? "" : ", ",
                       to_string(static_cast<FidelityComponent>(i)), to_string(c.status),
                       one_sided ? "+" : "+-", 100 * c.error);
  }
  return out;
}

std::string run_json(const RunInputs& inputs, const execution::StepResult& result) {
  json j = result_json(inputs, result);
  j["schema"] = "meshsim.run/v1";
  j["version"] = kVersion;
  return dump(j);
}

std::size_t compare_winner(const std::vector<execution::StepResult>& results) {
  std::size_t best = 0;
  bool best_fits = false;
  for (std::size_t i = 0; i < results.size(); ++i) {
    const bool fits = results[i].memory.fits;
    const bool better = (fits && !best_fits) ||
                        (fits == best_fits && results[i].tokens_per_s > results[best].tokens_per_s);
    if (i == 0 || better) {
      best = i;
      best_fits = fits;
    }
  }
  return best;
}

std::vector<Difference> compare_differences(const std::vector<RunInputs>& inputs,
                                            const std::vector<execution::StepResult>& results) {
  using R = execution::StepResult;
  using Field = std::function<std::string(const RunInputs&, const R&)>;
  const std::vector<std::pair<std::string, Field>> fields = {
      {"hardware", [](const RunInputs& in, const R&) { return in.hardware->name; }},
      {"mesh", [](const RunInputs& in, const R&) { return in.plan->mesh.text(); }},
      {"topology", [](const RunInputs&, const R& r) { return r.topology; }},
      {"mapping", [](const RunInputs&, const R& r) { return r.mapping; }},
      {"sharding",
       [](const RunInputs& in, const R&) { return std::string(to_string(in.plan->sharding)); }},
      {"async", [](const RunInputs& in,
                   const R&) { return std::string(on_off(in.plan->async_collective_matmul)); }},
      {"bidirectional",
       [](const RunInputs& in, const R&) { return std::string(on_off(in.plan->bidirectional)); }},
      {"fsdp", [](const RunInputs& in, const R&) { return std::string(on_off(in.plan->fsdp)); }},
      {"remat",
       [](const RunInputs& in, const R&) { return std::string(to_string(in.plan->remat)); }},
      {"optimizer", [](const RunInputs& in,
                       const R&) { return std::string(to_string(in.plan->optimizer.kind)); }},
      {"microbatches",
       [](const RunInputs& in, const R&) { return std::to_string(in.plan->microbatches); }},
      {"global batch",
       [](const RunInputs& in, const R&) { return std::to_string(in.plan->global_batch); }},
      {"gradient dtype", [](const RunInputs& in,
                            const R&) { return std::string(to_string(in.plan->gradient_dtype)); }},
      {"attention",
       [](const RunInputs& in, const R&) { return std::string(to_string(in.plan->attention)); }},
      {"activation layout",
       [](const RunInputs& in, const R&) {
         return std::string(to_string(in.plan->activation_layout));
       }},
      {"gradient sync",
       [](const RunInputs& in, const R&) { return std::string(to_string(in.plan->grad_sync)); }},
      {"sequence parallel",
       [](const RunInputs& in, const R&) {
         return std::string(on_off(in.plan->sequence_parallel));
       }},
  };
  std::vector<Difference> out;
  for (const auto& [label, field] : fields) {
    Difference d{label, {}};
    for (std::size_t i = 0; i < inputs.size(); ++i)
      d.values.push_back(field(inputs[i], results[i]));
    if (std::any_of(d.values.begin(), d.values.end(),
                    [&](const std::string& v) { return v != d.values.front(); }))
      out.push_back(std::move(d));
  }
  return out;
}

CompareVerdict compare_verdict(const std::vector<RunInputs>& inputs,
                               const std::vector<execution::StepResult>& results) {
  CompareVerdict v;
  v.winner = compare_winner(results);
  v.any_fits = std::any_of(results.begin(), results.end(),
                           [](const execution::StepResult& r) { return r.memory.fits; });
  const execution::StepBand best =
      execution::step_band(results[v.winner], *inputs[v.winner].hardware);
  for (std::size_t i = 0; i < results.size(); ++i) {
    if (i == v.winner || results[i].memory.fits != results[v.winner].memory.fits)
      continue;
    if (execution::bands_overlap(best, execution::step_band(results[i], *inputs[i].hardware)))
      v.tied.push_back(i);
  }
  return v;
}

std::string compare_json(const std::vector<RunInputs>& inputs,
                         const std::vector<execution::StepResult>& results) {
  json j;
  j["schema"] = "meshsim.compare/v1";
  j["version"] = kVersion;
  json plans = json::array();
  for (std::size_t i = 0; i < results.size(); ++i)
    plans.push_back(result_json(inputs[i], results[i]));
  j["plans"] = plans;
  const CompareVerdict v = compare_verdict(inputs, results);
  const auto w = v.winner;
  json tied = json::array();
  for (auto i : v.tied)
    tied.push_back(inputs[i].plan->name);
  json differs = json::object();
  for (const auto& d : compare_differences(inputs, results))
    differs[d.label] = d.values;
  j["differs"] = differs;
  j["winner"] = {
      {"index", w}, {"name", inputs[w].plan->name}, {"verdict", v.verdict()}, {"tied_with", tied}};
  return dump(j);
}

// Where a plan value came from: the flag or file that set it (Plan::origins), else the plan file.
std::string origin_of(const Plan& p, std::initializer_list<const char*> keys) {
  for (const char* key : keys) {
    const auto it = p.origins.find(key);
    if (it != p.origins.end() && !it->second.file.empty())
      return it->second.file;
  }
  return p.source.empty() ? "default" : p.source;
}

// Every plan value that differs from the defaults (Plan{} and the model's published batch), each
// with where it was set: "gradient dtype fp32 (plans/x.json), remat none (--remat)".
std::string non_defaults_text(const RunInputs& in) {
  const Plan& p = *in.plan;
  const Plan d;
  std::vector<std::string> items;
  auto add = [&](bool differs, const std::string& what, std::initializer_list<const char*> keys) {
    if (differs)
      items.push_back(what + " (" + origin_of(p, keys) + ")");
  };
  add(p.sharding != d.sharding, fmt::format("sharding {}", to_string(p.sharding)), {"sharding"});
  for (const auto& [linear, sh] : p.sharding_overrides)
    items.push_back(
        fmt::format("{} sharding {} ({})", linear, to_string(sh), origin_of(p, {"sharding"})));
  add(p.async_collective_matmul != d.async_collective_matmul,
      fmt::format("async {}", on_off(p.async_collective_matmul)), {"async"});
  add(p.bidirectional != d.bidirectional, fmt::format("bidirectional {}", on_off(p.bidirectional)),
      {"bidirectional"});
  add(p.fsdp != d.fsdp, fmt::format("fsdp {}", on_off(p.fsdp)), {"fsdp"});
  add(p.remat != d.remat, fmt::format("remat {}", to_string(p.remat)), {"remat"});
  add(p.optimizer.kind != d.optimizer.kind,
      fmt::format("optimizer {}", to_string(p.optimizer.kind)), {"optimizer"});
  add(p.optimizer.master_weights_fp32 != d.optimizer.master_weights_fp32,
      fmt::format("fp32 master weights {}", on_off(p.optimizer.master_weights_fp32)),
      {"master_weights_fp32", "optimizer"});
  add(p.optimizer.adafactor_momentum != d.optimizer.adafactor_momentum,
      fmt::format("adafactor momentum {}", on_off(p.optimizer.adafactor_momentum)), {"optimizer"});
  add(p.gradient_dtype != d.gradient_dtype,
      fmt::format("gradient dtype {}", to_string(p.gradient_dtype)), {"gradient_dtype"});
  add(p.weight_grad_input != d.weight_grad_input,
      fmt::format("weight-grad input {}", to_string(p.weight_grad_input)), {"weight_grad_input"});
  add(p.attention != d.attention, fmt::format("attention {}", to_string(p.attention)),
      {"attention"});
  add(p.activation_layout != d.activation_layout,
      fmt::format("activation layout {}", to_string(p.activation_layout)), {"activation_layout"});
  add(p.grad_sync != d.grad_sync, fmt::format("gradient sync {}", to_string(p.grad_sync)),
      {"grad_sync"});
  if (p.microbatches != d.microbatches && !p.origins.count("microbatches") && p.mesh.pipeline > 1) {
    // Not given: finalize_plan chose it for the pipeline (sim/plan/plan_validate.cpp).
    items.push_back(
        fmt::format("microbatches {} (chosen for the pipeline: the most up to 4 x {} "
                    "stages that divide the replica's batch)",
                    p.microbatches, p.mesh.pipeline));
  } else {
    add(p.microbatches != d.microbatches, fmt::format("microbatches {}", p.microbatches),
        {"microbatches"});
  }
  add(p.global_batch != in.model->train_batch, fmt::format("global batch {}", p.global_batch),
      {"global_batch"});
  if (items.empty())
    return "  not default: nothing (every plan value is the default)\n";
  std::string out = "  not default:";
  for (std::size_t i = 0; i < items.size(); ++i)
    out += (i == 0 ? " " : ", ") + items[i];
  return out + "\n";
}

// The mesh and its placement on the machine, and who chose it.
std::string placement_text(const RunInputs& in, const execution::StepResult& r) {
  const Plan& p = *in.plan;
  const std::string mesh_from = origin_of(p, {"mesh"});
  std::string out =
      fmt::format("  placement: mesh {} ({}) on {}; ", p.mesh.text(),
                  mesh_from == "default" ? "default: chips x 1" : mesh_from, r.topology);
  if (in.hardware->kind != InterconnectKind::Torus) {
    out += fmt::format("ranks numbered model axis fastest ({})\n", p.mapping.text());
  } else if (p.mapping.given) {
    out += fmt::format("mapping {} from {}\n", p.mapping.text(), origin_of(p, {"mapping"}));
  } else {
    out += fmt::format(
        "mapping {}: the default for this mesh (docs/plans.md \"Mapping\"); choose another "
        "torus shape or mapping with --mapping JSON or a plan file's \"mapping\"\n",
        p.mapping.text());
  }
  return out;
}

std::string run_text(const RunInputs& in, const execution::StepResult& r) {
  const Plan& p = *in.plan;
  std::string out;
  out += fmt::format("{} on {} x {} ({}), plan '{}'\n", in.model->display_name, r.chips,
                     in.hardware->display_name, r.topology, p.name);
  out += fmt::format(
      "  mesh {} ({}), sharding {}, async {}, bidirectional {}, fsdp {}, remat {}, optimizer {}, "
      "microbatches {}, global batch {}\n"
      "  attention {}, activation layout {}{}, gradient sync {}, gradient dtype {}, fp32 master "
      "weights {}, weight-grad input {}\n",
      p.mesh.text(), p.mapping.text(), to_string(p.sharding), on_off(p.async_collective_matmul),
      on_off(p.bidirectional), on_off(p.fsdp), to_string(p.remat), to_string(p.optimizer.kind),
      p.microbatches, p.global_batch, to_string(p.attention), to_string(p.activation_layout),
      p.sequence_parallel ? " + sequence parallel" : "", to_string(p.grad_sync),
      to_string(p.gradient_dtype), on_off(p.optimizer.master_weights_fp32),
      to_string(p.weight_grad_input));
  out += non_defaults_text(in);
  out += placement_text(in, r) + "\n";
  const execution::StepBand band = execution::step_band(r, *in.hardware);
  out +=
      fmt::format("  step time            {}   band {}\n", seconds(r.step_time_s), band_text(band));
  out += "  model error          " + statuses_text(band) + "\n";
  out += fmt::format(
      "  throughput           {:.4g} tokens/s, {:.4g} images/s ({:.4g} tokens/s per chip)\n",
      r.tokens_per_s, r.images_per_s, r.tokens_per_s_per_chip);
  out += fmt::format("  MFU / HFU            {:.1f}% / {:.1f}%\n", 100 * r.mfu, 100 * r.hfu);
  if (in.model->kind == ModelKind::Decoder) {
    const FlopPerToken f = flop_per_token(*in.model);
    out += fmt::format(
        "  decoder              {:.4g} sequences/s of {} tokens; MFU {:.1f}% counting the causal "
        "half of attention (6N + 6LHQT = {:.4g} FLOP/token; above: 6N + 12LHQT = {:.4g})\n",
        r.images_per_s, in.model->tokens, 100 * r.mfu * f.train_causal / f.train, f.train_causal,
        f.train);
    out += fmt::format(
        "  embedding + LM head  {} compute, {} exposed model-axis traffic (slowest chip, per "
        "step); logits etc. {} per chip\n",
        seconds(r.lm_head_compute_s), seconds(r.lm_head_exposed_s), bytes(lm_head_bytes(r)));
  }
  out += fmt::format("  compute only         {}   lower bound {} (compute {}, comm {})\n",
                     seconds(r.compute_only_s), seconds(r.lower_bound_s),
                     seconds(r.compute_lower_bound_s), seconds(r.comm_lower_bound_s));
  out += fmt::format("  model axis           {} sent per chip, {} exposed\n",
                     bytes(r.model_axis.bytes_sent_per_chip), seconds(r.model_axis.exposed_s));
  out += fmt::format("  data axis            {} sent per chip, {} exposed\n",
                     bytes(r.data_axis.bytes_sent_per_chip), seconds(r.data_axis.exposed_s));
  if (r.pipeline.stages > 1) {
    const auto& pr = r.pipeline;
    out += fmt::format(
        "  pipeline             {} stages, {}{}, {} microbatches: bubble {} ({:.1f}% of the step; "
        "ideal {:.1f}% of the pipelined part), {} sent per chip between stages, {} exposed\n",
        pr.stages, pr.schedule,
        pr.virtual_stages > 1 ? fmt::format(" x {} virtual", pr.virtual_stages) : std::string(),
        pr.microbatches, seconds(pr.bubble_s), 100 * pr.bubble_fraction,
        100 * pr.ideal_bubble_fraction, bytes(pr.send_bytes_per_chip), seconds(pr.exposed_s));
  }
  for (std::size_t i = 0; i < r.bytes_per_link_class.size(); ++i) {
    if (r.bytes_per_link_class[i] <= 0)
      continue;
    out += fmt::format("  link class {:<9} {} carried, busiest link {:.1f}% busy\n",
                       network::to_string(static_cast<network::LinkClass>(i)),
                       bytes(r.bytes_per_link_class[i]), 100 * r.link_utilization[i]);
  }
  const auto& m = r.memory;
  out += fmt::format("\n  memory per chip      {} of {}: {}\n", bytes(m.total_bytes),
                     bytes(m.capacity_bytes),
                     m.fits ? fmt::format("fits, {} headroom", bytes(m.headroom_bytes))
                            : fmt::format("DOES NOT FIT, {} over", bytes(m.overflow_bytes)));
  out += fmt::format(
      "    weights {}, gather buffers {}, grad buffer {}, master {}, optimizer {}, gradients {}, "
      "activations {}, reserve {}\n",
      bytes(m.weights_bytes), bytes(m.weight_gather_buffer_bytes), bytes(m.gradient_buffer_bytes),
      bytes(m.master_weights_bytes), bytes(m.optimizer_state_bytes), bytes(m.gradients_bytes),
      bytes(m.activations_bytes), bytes(m.runtime_reserve_bytes));
  if (r.pipeline.stages > 1) {
    out += "    per stage (the figure above is the stage that needs the most):\n";
    for (const auto& st : r.pipeline.per_stage) {
      out += fmt::format(
          "      stage {:<3} {:>3} layers, {:>3} microbatch chunks in flight: {} (activations {}), "
          "compute {}, bubble {}\n",
          st.stage, st.layers, st.in_flight, bytes(st.memory.total_bytes),
          bytes(st.memory.activations_bytes), seconds(st.compute_s), seconds(st.bubble_s));
    }
  }
  if (p.sequence_parallel) {
    out += fmt::format(
        "    sequence parallel saves {} of activations (norm and residual tensors stored 1/{})\n",
        bytes(m.sequence_parallel_saving_bytes), p.mesh.model());
  }
  out += "\n  per layer (slowest chip, averaged over layers and microbatches)\n";
  out += fmt::format("    {:<16} {:<8} {:<24} {:>11} {:>11} {:>11}\n", "linear", "sharding",
                     "moves", "compute", "comm", "exposed");
  for (const auto& l : r.linears) {
    out += fmt::format("    {:<16} {:<8} {:<24} {:>11} {:>11} {:>11}\n", l.name, l.sharding,
                       l.communicates, seconds(l.forward_compute_s + l.backward_compute_s),
                       seconds(l.forward_comm_s + l.backward_comm_s),
                       seconds(l.forward_exposed_s + l.backward_exposed_s));
  }
  out += fmt::format("    {:<16} {:<8} {:<24} {:>11}\n", "other ops", "-", "-",
                     seconds(r.other_compute_per_layer_s));
  const auto& s = r.slowest;
  out += fmt::format(
      "\n  critical path: chip {} (data {}, model {}) finishes last: compute {} (recompute {}, "
      "optimizer {}), exposed model-axis {}, exposed data-axis {}; bottleneck: {}\n",
      s.chip, s.data_index, s.model_index, seconds(s.compute_s), seconds(s.recompute_s),
      seconds(s.optimizer_s), seconds(s.exposed_model_s), seconds(s.exposed_data_s), r.bottleneck);
  out += fmt::format("  simulated {} events, {} transfers; replica symmetry {}\n", r.events,
                     r.transfers, r.symmetry);
  return out;
}

std::string compare_text(const std::vector<RunInputs>& inputs,
                         const std::vector<execution::StepResult>& results) {
  const auto w = compare_winner(results);
  std::vector<std::string> headers;
  for (std::size_t i = 0; i < results.size(); ++i) {
    headers.push_back((i == w ? "*" : "") + inputs[i].plan->name);
  }
  struct Row {
    std::string label;
    std::vector<std::string> cells;
  };
  std::vector<Row> rows;
  auto add = [&](const std::string& label, auto cell) {
    Row row{label, {}};
    for (std::size_t i = 0; i < results.size(); ++i)
      row.cells.push_back(cell(inputs[i], results[i]));
    rows.push_back(row);
  };
  using R = execution::StepResult;
  add("mesh", [](const RunInputs& in, const R&) { return in.plan->mesh.text(); });
  add("async / bidi", [](const RunInputs& in, const R&) {
    return std::string(on_off(in.plan->async_collective_matmul)) + " / " +
           on_off(in.plan->bidirectional);
  });
  add("fsdp", [](const RunInputs& in, const R&) { return std::string(on_off(in.plan->fsdp)); });
  add("remat",
      [](const RunInputs& in, const R&) { return std::string(to_string(in.plan->remat)); });
  add("hardware", [](const RunInputs& in, const R&) { return in.hardware->name; });
  add("step time", [](const RunInputs&, const R& r) { return seconds(r.step_time_s); });
  add("step time band", [](const RunInputs& in, const R& r) {
    const auto band = execution::step_band(r, *in.hardware);
    return fmt::format("{}..{}", seconds(band.low_s), seconds(band.high_s));
  });
  add("tokens/s per chip",
      [](const RunInputs&, const R& r) { return fmt::format("{:.1f}", r.tokens_per_s_per_chip); });
  add("MFU", [](const RunInputs&, const R& r) { return fmt::format("{:.1f}%", 100 * r.mfu); });
  add("HFU", [](const RunInputs&, const R& r) { return fmt::format("{:.1f}%", 100 * r.hfu); });
  add("compute (slowest chip)",
      [](const RunInputs&, const R& r) { return seconds(r.slowest.compute_s); });
  add("  of which recompute",
      [](const RunInputs&, const R& r) { return seconds(r.slowest.recompute_s); });
  add("  of which optimizer",
      [](const RunInputs&, const R& r) { return seconds(r.slowest.optimizer_s); });
  add("exposed model comm",
      [](const RunInputs&, const R& r) { return seconds(r.model_axis.exposed_s); });
  add("exposed data comm",
      [](const RunInputs&, const R& r) { return seconds(r.data_axis.exposed_s); });
  add("memory per chip", [](const RunInputs&, const R& r) { return bytes(r.memory.total_bytes); });
  add("fits",
      [](const RunInputs&, const R& r) { return std::string(r.memory.fits ? "yes" : "NO"); });
  add("bottleneck", [](const RunInputs&, const R& r) { return r.bottleneck; });

  std::size_t label_width = 20;
  std::vector<std::size_t> widths;
  for (std::size_t i = 0; i < headers.size(); ++i) {
    std::size_t w_i = headers[i].size();
    for (const auto& row : rows)
      w_i = std::max(w_i, row.cells[i].size());
    widths.push_back(w_i + 2);
  }
  std::string out;
  const auto differs = compare_differences(inputs, results);
  if (differs.empty()) {
    out += "the columns differ in nothing meshsim models\n\n";
  } else {
    out += "differs:";
    for (const auto& d : differs) {
      std::string values;
      for (const auto& v : d.values)
        values += (values.empty() ? "" : " | ") + v;
      out += fmt::format(" {} ({});", d.label, values);
    }
    out.back() = '\n';
    out += "\n";
  }
  out += fmt::format("{:<{}}", "metric", label_width);
  for (std::size_t i = 0; i < headers.size(); ++i)
    out += fmt::format("{:>{}}", headers[i], widths[i]);
  out += "\n";
  for (const auto& row : rows) {
    out += fmt::format("{:<{}}", row.label, label_width);
    for (std::size_t i = 0; i < row.cells.size(); ++i)
      out += fmt::format("{:>{}}", row.cells[i], widths[i]);
    out += "\n";
  }
  const CompareVerdict v = compare_verdict(inputs, results);
  if (!v.any_fits) {
    out += fmt::format(
        "\nno plan fits in memory; * marks the fastest ({}), which would need more memory\n",
        inputs[w].plan->name);
  } else if (!v.tied.empty()) {
    std::string names;
    for (auto i : v.tied)
      names += ", " + inputs[i].plan->name;
    out += fmt::format(
        "\ntie within model error: {}{} (their step-time bands overlap); * marks the fastest "
        "prediction\n",
        inputs[w].plan->name, names);
  } else {
    out += fmt::format(
        "\n* winner: {} (highest tokens/s among plans that fit, outside the others' bands)\n",
        inputs[w].plan->name);
  }
  return out;
}

std::string trace_json(const RunInputs& inputs, const execution::StepResult& result) {
  // Chrome Trace Event Format (docs/execution.md "Trace"): one process per traced chip, labelled
  // with its mesh coordinates, a thread per track that has events, one process for the link
  // classes that carried traced sends; slices with args; a flow from each send to its receive.
  json events = json::array();
  const char* tracks[] = {"compute stream", "model-axis sends", "model-axis collectives",
                          "model-axis receives", "data-axis collectives"};
  const int links_pid = 1 << 30;  // after every chip id
  auto pid_of = [&](const execution::TraceEvent& e) { return e.chip >= 0 ? e.chip : links_pid; };
  // Slices of one track that overlap without nesting (two sends in flight, a prefetched gather
  // beside a gradient reduction) go to lanes of their own: thread id 1000 x track + lane, so
  // every thread's slices are disjoint, as the format requires of complete events.
  std::vector<int> tid(result.trace.size(), 0);
  std::map<std::pair<int, int>, std::vector<std::size_t>> by_track;
  for (std::size_t i = 0; i < result.trace.size(); ++i)
    by_track[{pid_of(result.trace[i]), result.trace[i].track}].push_back(i);
  std::map<int, std::set<int>> threads;  // pid -> thread ids in use
  for (auto& [key, indices] : by_track) {
    std::stable_sort(indices.begin(), indices.end(), [&](std::size_t a, std::size_t b) {
      return result.trace[a].start_s < result.trace[b].start_s;
    });
    std::vector<double> lane_end;
    for (const auto i : indices) {
      const auto& e = result.trace[i];
      std::size_t lane = 0;
      // Half a picosecond of slack: start + duration may round one ulp past the next start.
      while (lane < lane_end.size() && lane_end[lane] > e.start_s + 0.5e-12)
        ++lane;
      if (lane == lane_end.size())
        lane_end.push_back(0);
      lane_end[lane] = e.start_s + e.duration_s;
      tid[i] = 1000 * key.second + static_cast<int>(lane);
      threads[key.first].insert(tid[i]);
    }
  }
  auto thread_name = [&](int pid, int t) {
    const int track = t / 1000, lane = t % 1000;
    const std::string base = pid == links_pid
                                 ? network::to_string(static_cast<network::LinkClass>(track))
                                 : std::string(tracks[track]);
    return lane == 0 ? base : base + " #" + std::to_string(lane + 1);
  };
  auto name_threads = [&](int pid) {
    for (const int t : threads[pid]) {
      events.push_back({{"ph", "M"},
                        {"pid", pid},
                        {"tid", t},
                        {"name", "thread_name"},
                        {"args", {{"name", thread_name(pid, t)}}}});
      events.push_back({{"ph", "M"},
                        {"pid", pid},
                        {"tid", t},
                        {"name", "thread_sort_index"},
                        {"args", {{"sort_index", t}}}});
    }
  };
  for (const auto& c : result.trace_chips) {
    if (threads.count(c.chip) == 0)
      continue;  // a chip without events gets no track
    events.push_back({{"ph", "M"},
                      {"pid", c.chip},
                      {"tid", 0},
                      {"name", "process_name"},
                      {"args",
                       {{"name", c.stage >= 0 ? fmt::format("chip {} (data {}, stage {}, model {})",
                                                            c.chip, c.data, c.stage, c.model)
                                              : fmt::format("chip {} (data {}, model {})", c.chip,
                                                            c.data, c.model)}}}});
    events.push_back(
        {{"ph", "M"},
         {"pid", c.chip},
         {"tid", 0},
         {"name", "process_sort_index"},
         {"args",
          {{"sort_index",
            (c.data * 1'000 + std::max<std::int64_t>(0, c.stage)) * 1'000'000 + c.model}}}});
    name_threads(c.chip);
  }
  if (threads.count(links_pid) > 0) {  // only the link classes that carried traced sends
    events.push_back({{"ph", "M"},
                      {"pid", links_pid},
                      {"tid", 0},
                      {"name", "process_name"},
                      {"args", {{"name", "links (first hop of traced chips' sends)"}}}});
    name_threads(links_pid);
  }
  for (std::size_t i = 0; i < result.trace.size(); ++i) {
    const auto& e = result.trace[i];
    const int pid = pid_of(e);
    json args = {{"layer", e.layer >= 0 ? json(e.layer) : json("none")},
                 {"pass", e.pass},
                 {"microbatch", e.microbatch}};
    if (e.category == "compute")
      args["flop"] = e.flop;  // 0 for memory-bound ops counted as none
    if (e.bytes > 0)
      args["bytes"] = e.bytes;
    if (e.peer >= 0)
      args["peer_chip"] = e.peer;
    events.push_back({{"ph", "X"},
                      {"name", e.name},
                      {"cat", e.category},
                      {"pid", pid},
                      {"tid", tid[i]},
                      {"ts", e.start_s * 1e6},
                      {"dur", e.duration_s * 1e6},
                      {"args", args}});
    if (e.flow == 0)
      continue;
    // The flow starts where the send starts (inside its slice) and finishes inside the receive
    // slice (its middle; "bp": "e" binds it to the enclosing slice), so the arrow joins the two.
    const bool send = e.track == 1;
    json flow = {{"ph", send ? "s" : "f"},
                 {"name", "send"},
                 {"cat", "flow"},
                 {"id", e.flow},
                 {"pid", pid},
                 {"tid", tid[i]},
                 {"ts", (e.start_s + (send ? 0.0 : 0.5 * e.duration_s)) * 1e6}};
    if (!send)
      flow["bp"] = "e";
    events.push_back(flow);
  }
  json j;
  j["traceEvents"] = events;
  j["displayTimeUnit"] = "ns";
  j["otherData"] = {{"schema", "meshsim.trace/v1"}, {"version", kVersion},
                    {"model", inputs.model->name},  {"hardware", inputs.hardware->name},
                    {"plan", inputs.plan->name},    {"step_time_s", result.step_time_s}};
  return json_text(j, -1) + "\n";
}

}  // namespace meshsim::report
