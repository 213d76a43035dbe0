#include "sim/sweep/sweep.hpp"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <exception>
#include <optional>

#include "sim/execution/pipeline_memory.hpp"
#include "sim/execution/placement.hpp"
#include "sim/limits.hpp"
#include "sim/sweep/distribution.hpp"

namespace meshsim::sweep {
namespace {

std::string classify(const InputError& e) {
  const std::string& p = e.problem();
  if (p.find("does not divide") != std::string::npos)
    return "model_axis_does_not_divide";
  if (p.find("global batch") != std::string::npos)
    return "batch_not_divisible";
  if (p.find("more chips") != std::string::npos)
    return "too_many_chips";
  if (e.site().field == "mesh")
    return "no_machine_slice";
  return "invalid";
}

std::vector<std::int64_t> divisors(std::int64_t n) {
  std::vector<std::int64_t> out;
  for (std::int64_t d = 1; d <= n; ++d) {
    if (n % d == 0)
      out.push_back(d);
  }
  return out;
}

// True when every linear resolves to the same choice under `a` and `b` (then the variant is the
// same plan and is not enumerated twice).
bool same_resolution(const ModelConfig& model, const Plan& a, const Plan& b) {
  const auto ra = resolve_sharding(model, a);
  const auto rb = resolve_sharding(model, b);
  for (std::size_t i = 0; i < ra.size(); ++i) {
    if (ra[i].chosen != rb[i].chosen)
      return false;
  }
  return true;
}

std::string gb_text(double bytes) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.3g GB", bytes / 1e9);
  return buf;
}

}  // namespace

std::string plan_summary(const Plan& plan) {
  std::string s = plan.mesh.text() + " " + to_string(plan.sharding);
  if (plan.mesh.pipeline > 1) {
    s += std::string(" ") + to_string(plan.schedule);
    if (plan.virtual_stages > 1)
      s += " v=" + std::to_string(plan.virtual_stages);
  }
  s += plan.async_collective_matmul ? " async" : " sync";
  s += plan.fsdp ? " fsdp" : " no-fsdp";
  s += std::string(" remat=") + to_string(plan.remat);
  s += std::string(" ") + to_string(plan.optimizer.kind);
  s += " mb=" + std::to_string(plan.microbatches);
  if (plan.fsdp && plan.microbatches > 1)
    s += std::string(" grad-sync=") + to_string(plan.grad_sync);
  if (plan.attention != AttentionKernel::Unfused)
    s += std::string(" attention=") + to_string(plan.attention);
  if (plan.activation_layout != ActivationLayout::Sharded)
    s += std::string(" activations=") + to_string(plan.activation_layout);
  if (plan.sequence_parallel)
    s += " sequence-parallel";
  s += " batch=" + std::to_string(plan.global_batch);
  return s;
}

std::vector<Enumerated> enumerate_plans(const ModelConfig& model, const HardwareProfile& hardware,
                                        std::int64_t chips, const SweepSpace& space_in) {
  SweepSpace space = space_in;
  if (space.global_batches.empty()) {
    if (model.train_batch <= 0) {
      throw InputError({"--batch", "", "batch"},
                       "the model has no published training batch; give one", model.name,
                       "--batch N");
    }
    space.global_batches = {model.train_batch};
  }
  if (space.shardings.empty())
    space.shardings = {Sharding::Auto};
  if (space.optimizers.empty())
    space.optimizers = {OptimizerKind::Adam};
  if (space.remats.empty())
    space.remats = {Remat::None, Remat::Selective, Remat::Full};
  if (space.pipelines.empty()) {
    // Decoder language models: the powers of two up to the depth that divide the chips (pipelines
    // are how they are trained at scale). Encoders: no pipeline (ViT-22B's recipe has none), which
    // keeps their sweeps, reports and work as before; --pipelines asks for them.
    const std::int64_t most = model.kind == ModelKind::Decoder ? model.depth : 1;
    for (std::int64_t p = 1; p <= most && p <= chips; p *= 2) {
      if (chips % p == 0)
        space.pipelines.push_back(p);
    }
  }
  if (space.schedules.empty())
    space.schedules = {PipelineSchedule::OneFOneB, PipelineSchedule::GPipe,
                       PipelineSchedule::Interleaved};
  if (space.virtual_stages.empty())
    space.virtual_stages = {2};
  // (pipeline, schedule, virtual stages) choices: p = 1 alone, else every schedule.
  struct PipeChoice {
    std::int64_t p = 1;
    PipelineSchedule schedule = PipelineSchedule::OneFOneB;
    std::int64_t v = 1;
  };
  std::vector<PipeChoice> pipes;
  for (const auto p : space.pipelines) {
    if (p == 1) {
      pipes.push_back({});
      continue;
    }
    for (const auto schedule : space.schedules) {
      if (schedule != PipelineSchedule::Interleaved) {
        pipes.push_back({p, schedule, 1});
        continue;
      }
      for (const auto v : space.virtual_stages) {
        if (p * v <= model.depth)
          pipes.push_back({p, schedule, v});
      }
    }
  }
  const auto linears = layer_linears(model);
  std::vector<Enumerated> out;
  // Meshes: t x k for every divisor k, and with two model axes t x k1 x k2 (k1 >= k2 >= 2).
  std::vector<MeshShape> meshes;
  for (const auto k : divisors(chips)) {
    meshes.push_back(MeshShape{chips / k, k, 1, false});
    if (!space.two_model_axes)
      continue;
    for (std::int64_t k2 = 2; k2 * k2 <= k; ++k2) {
      if (k % k2 == 0)
        meshes.push_back(MeshShape{chips / k, k / k2, k2, true});
    }
  }
  for (const auto gb : space.global_batches) {
    for (const auto& mesh : meshes) {
      const std::int64_t k = mesh.model();
      const bool two_axes = mesh.two_model_axes;
      for (const auto& pc : pipes) {
        // A pipeline takes its stages out of the data axis; not with two model axes.
        if (mesh.data % pc.p != 0 || (two_axes && pc.p > 1))
          continue;
        const std::int64_t t = mesh.data / pc.p;
        for (std::int64_t mb = 1; mb <= std::max<std::int64_t>(1, space.max_microbatches);
             mb *= 2) {
          // The interleaved schedule needs the microbatches in multiples of p.
          if (pc.schedule == PipelineSchedule::Interleaved && mb % pc.p != 0) {
            if (mb * t >= gb)
              break;
            continue;
          }
          Plan base;
          base.name = "sweep";
          base.mesh = mesh;
          base.mesh.data = t;
          base.mesh.pipeline = pc.p;
          base.global_batch = gb;
          base.microbatches = mb;
          base.schedule = pc.schedule;
          base.virtual_stages = pc.v;
          base.origins["microbatches"] = ErrorSite{"sweep", "", "microbatches"};
          Enumerated first;
          try {
            first.plan = finalize_plan(base, model, linears, hardware, chips);
          } catch (const InputError& e) {
            first.plan = base;
            first.reason = classify(e);
            first.detail = e.problem();
          }
          // Layouts: sharded; with k > 1 on one model axis also replicated with sequence
          // parallelism (checked by finalize_plan: the model axis must divide the tokens).
          std::vector<Enumerated> layouts = {first};
          if (space.sequence_parallel && first.reason.empty() && k > 1 && !two_axes) {
            Enumerated seq = first;
            seq.plan.activation_layout = ActivationLayout::Replicated;
            seq.plan.sequence_parallel = true;
            try {
              seq.plan = finalize_plan(seq.plan, model, linears, hardware, chips);
              layouts.push_back(std::move(seq));
            } catch (const InputError&) {
            }
          }
          for (const auto& proto : layouts) {
            for (const auto sharding : space.shardings) {
              // Replicated activations fix every linear's sharding: auto only.
              if (proto.plan.sequence_parallel && sharding != Sharding::Auto)
                continue;
              Plan sp = proto.plan;
              sp.sharding = sharding;
              if (sharding != Sharding::Auto) {
                // Row/column variants only where they differ from auto (and never without a
                // model axis).
                if (k == 1)
                  continue;
                Plan autop = proto.plan;
                autop.sharding = Sharding::Auto;
                if (proto.reason.empty() && same_resolution(model, sp, autop))
                  continue;
              }
              for (const bool async : {true, false}) {
                if (!async && k == 1)
                  continue;  // nothing moves on the model axis: async has no effect
                if (async && two_axes)
                  continue;  // two model axes run synchronous collectives (docs/execution.md)
                for (const bool fsdp : {false, true}) {
                  if (fsdp && t == 1)
                    continue;  // no data axis to shard over
                  // With FSDP and microbatches, both gradient reductions (docs/sweep.md): every
                  // microbatch (data-axis traffic) or after the last (accumulated gradients).
                  std::vector<GradSync> syncs = {GradSync::PerMicrobatch};
                  if (fsdp && mb > 1)
                    syncs.push_back(GradSync::Last);
                  for (const auto remat : space.remats) {
                    for (const auto opt : space.optimizers) {
                      for (const auto sync : syncs) {
                        Enumerated e = proto;
                        e.plan.sharding = sharding;
                        e.plan.async_collective_matmul = async;
                        e.plan.fsdp = fsdp;
                        e.plan.remat = remat;
                        e.plan.optimizer.kind = opt;
                        e.plan.grad_sync = sync;
                        out.push_back(std::move(e));
                      }
                    }
                  }
                }
              }
            }
          }
          // Larger microbatch counts than the per-chip batch cannot divide it.
          if (mb * t >= gb)
            break;
        }
      }
    }
  }
  return out;
}

namespace {

struct Candidate {
  std::size_t index = 0;  // enumeration order
  Plan plan;
  MemoryBreakdown memory;
  StepBound bound;
  double max_tokens_per_s = 0;  // global batch x tokens / bound
};

// K-th largest of `values` (K >= 1); -1 when fewer than K.
double kth_best(std::vector<double> values, std::int64_t k) {
  if (static_cast<std::int64_t>(values.size()) < k)
    return -1;
  std::nth_element(values.begin(), values.begin() + (k - 1), values.end(), std::greater<>());
  return values[static_cast<std::size_t>(k - 1)];
}

}  // namespace

SweepResult run_sweep(const ModelConfig& model, const HardwareProfile& hardware,
                      const SweepOptions& options) {
  const auto start = std::chrono::steady_clock::now();
  if (options.chips < 1) {
    throw InputError({"--chips", "", "chips"}, "must be positive", std::to_string(options.chips),
                     "1 or more");
  }
  if (options.top < 1) {
    throw InputError({"--top", "", "top"}, "must be positive", std::to_string(options.top),
                     "1 or more");
  }
  const std::int64_t max_chips =
      hardware.kind == InterconnectKind::Torus ? hardware.torus.max_chips : hardware.gpu.max_gpus;
  if (max_chips > 0 && options.chips > max_chips) {
    throw InputError({"--chips", "", "chips"},
                     "more chips than the largest " + hardware.display_name + " system has",
                     std::to_string(options.chips), "at most " + std::to_string(max_chips));
  }
  limits::check_simulated_chips(options.chips, {"--chips", "", "chips"});
  SweepResult result;
  result.chips = options.chips;
  const auto linears = layer_linears(model);
  const ParamCounts params = count_params(model);
  const auto all = enumerate_plans(model, hardware, options.chips, options.space);
  result.considered = static_cast<std::int64_t>(all.size());

  auto reject = [&](const std::string& reason, const std::string& detail, const Plan& plan) {
    auto& count = result.rejected[reason];
    ++count;
    if (count <= 3)
      result.rejected_examples.push_back({reason, detail, plan.mesh.text(), plan_summary(plan)});
  };
  std::vector<Candidate> candidates;
  for (std::size_t i = 0; i < all.size(); ++i) {
    const auto& e = all[i];
    if (!e.reason.empty()) {
      reject(e.reason, e.detail, e.plan);
      continue;
    }
    Candidate c;
    c.index = i;
    c.plan = e.plan;
    c.memory = c.plan.mesh.pipeline > 1
                   ? execution::largest_stage_memory(model, hardware, c.plan)
                   : memory_per_chip(model, linears, params, c.plan, hardware.chip.hbm_bytes);
    if (!c.memory.fits) {
      reject("memory",
             "needs " + gb_text(c.memory.total_bytes) + " per chip, " +
                 gb_text(c.memory.capacity_bytes) + " available",
             c.plan);
      continue;
    }
    c.bound = step_lower_bound(model, hardware, c.plan, c.memory);
    if (!(c.bound.step_s <= limits::kMaxSimulatedSeconds)) {
      // Beyond what SimTime counts (issue 17 item 6): simulating it would fail.
      reject("time_beyond_range",
             "a step of at least " + std::to_string(c.bound.step_s / 86400) +
                 " days, beyond the simulator's 106 days",
             c.plan);
      continue;
    }
    c.max_tokens_per_s = static_cast<double>(c.plan.global_batch) *
                         static_cast<double>(model.tokens) / c.bound.step_s;
    candidates.push_back(std::move(c));
  }
  result.fitting = static_cast<std::int64_t>(candidates.size());
  // The sweep's work (issue 17 item 10). Candidates are simulated best bound first, and one is
  // pruned once K simulated plans beat its bound. If every simulated step is at most
  // kSweepBoundSlack times its lower bound, the K best bounds' plans reach 1/slack of the K-th best
  // bound, so only candidates whose bound reaches that can be simulated. Their count times the
  // largest estimate among the K best bounds' plans (estimated, not simulated; these are the
  // biggest meshes' plans the bound ranks first) is the work expected (docs/limits.md).
  {
    std::vector<double> bounds;
    for (const auto& c : candidates)
      bounds.push_back(c.max_tokens_per_s);
    const double kth = kth_best(bounds, options.top);
    for (const auto& c : candidates) {
      if (kth < 0 || c.max_tokens_per_s * limits::kSweepBoundSlack >= kth)
        ++result.expected_simulations;
    }
    std::vector<std::size_t> order(candidates.size());
    for (std::size_t i = 0; i < order.size(); ++i)
      order[i] = i;
    const auto first_k = std::min<std::size_t>(order.size(), static_cast<std::size_t>(options.top));
    std::partial_sort(order.begin(), order.begin() + static_cast<std::ptrdiff_t>(first_k),
                      order.end(), [&](std::size_t a, std::size_t b) {
                        return candidates[a].max_tokens_per_s > candidates[b].max_tokens_per_s;
                      });
    double per_step = 0;
    for (std::size_t i = 0; i < first_k; ++i) {
      double events = limits::kMaxStepEvents;
      try {
        events = execution::estimate_step_events(model, hardware, candidates[order[i]].plan);
      } catch (const InputError&) {
        // Beyond a per-step limit: simulating it fails as it always has. Count it at the limit.
      }
      per_step = std::max(per_step, std::min(events, limits::kMaxStepEvents));
    }
    result.estimated_events = per_step * static_cast<double>(result.expected_simulations);
  }
  if (options.max_seconds <= 0 && result.estimated_events > limits::kMaxSweepEvents) {
    throw InputError(
        options.chips_site,
        "the sweep would take about " +
            std::to_string(static_cast<long long>(result.estimated_events / 1e9)) +
            "e9 simulation events to simulate the " + std::to_string(result.expected_simulations) +
            " of its " + std::to_string(candidates.size()) +
            " candidate plans that pruning may not remove, more than the limit (docs/limits.md)",
        std::to_string(options.chips) + " chips",
        "at most " + limits::limit_text(limits::kMaxSweepEvents) +
            " events: " + options.fewer_chips +
            ", a smaller --max-microbatches, fewer --remats, "
            "--shardings or --optimizers, a narrower --batch range, or --max-seconds S to stop "
            "with "
            "the best plans found in S seconds");
  }
  // The bound's NIC term for collective-matmul rings between NVLink nodes (step_lower_bound with
  // the machine, the same for every candidate of a GPU cluster: its GPUs), where it can matter:
  // candidates whose bound reaches 1/slack of the K-th best bound (the others are pruned under
  // the slack assumption above, and without the term their bound is still valid). A function of
  // the candidates alone, so the order and the pruning stay deterministic. After the work
  // estimate, which the cheap bounds give: a refused sweep is refused before this work.
  if (hardware.kind == InterconnectKind::GpuCluster) {
    std::vector<double> bounds;
    for (const auto& c : candidates)
      bounds.push_back(c.max_tokens_per_s);
    const double kth = kth_best(bounds, options.top);
    std::optional<network::Topology> machine;
    for (auto& c : candidates) {
      if (!c.plan.async_collective_matmul || c.plan.mesh.model2 > 1 ||
          c.plan.mesh.model() <= hardware.gpu.gpus_per_node ||
          (kth >= 0 && c.max_tokens_per_s * limits::kSweepBoundSlack < kth))
        continue;
      if (!machine)
        machine = execution::build_topology(hardware, c.plan);
      c.bound = step_lower_bound(model, hardware, c.plan, c.memory, &*machine);
      c.max_tokens_per_s = static_cast<double>(c.plan.global_batch) *
                           static_cast<double>(model.tokens) / c.bound.step_s;
    }
  }
  // Most promising first: the K-th best is found early and prunes the tail.
  std::stable_sort(candidates.begin(), candidates.end(), [](const auto& a, const auto& b) {
    return a.max_tokens_per_s > b.max_tokens_per_s;
  });

  // The simulations, on this process's threads or across ranks (sim/sweep/distribution.hpp):
  // a position is skipped only where the rule below prunes it.
  const std::size_t n = candidates.size();
  WorkItems items;
  items.count = n;
  items.simulate = [&](std::size_t pos) {
    auto r = execution::simulate_step(model, hardware, candidates[pos].plan);
    r.trace.clear();
    return r;
  };
  for (const auto& c : candidates) {
    items.bound.push_back(c.max_tokens_per_s);
    items.labels.push_back(plan_summary(c.plan));
  }
  items.top = options.top;
  items.expected_simulations = result.expected_simulations;
  items.threads = options.threads;
  items.max_seconds = options.max_seconds;
  items.start = start;
  items.progress = options.progress;
  Evaluation evaluation = options.distribution != nullptr ? options.distribution->evaluate(items)
                                                          : evaluate_locally(items);
  std::vector<execution::StepResult> results(n);
  std::vector<std::uint8_t> has_result(n, 0);
  // Candidates the step simulator refuses (beyond a per-step limit, docs/limits.md): rejected,
  // never ranked; the refusal depends on the plan alone, so the ranking stays deterministic.
  std::vector<std::string> refused(n);
  for (std::size_t pos = 0; pos < n; ++pos) {
    auto& item = evaluation.items[pos];
    if (item.state == ItemOutcome::State::Failed)
      std::rethrow_exception(item.error);  // the first failing position's
    if (item.state == ItemOutcome::State::Refused) {
      try {
        std::rethrow_exception(item.error);
      } catch (const InputError& e) {
        refused[pos] = e.problem();
      }
    }
    if (item.state == ItemOutcome::State::Done) {
      results[pos] = std::move(item.result);
      has_result[pos] = 1;
    }
  }
  const bool out_of_time = evaluation.out_of_time;

  // The deterministic decision (docs/sweep.md "Pruning"): in bound order, a candidate is pruned iff
  // its bound is below the K-th best throughput among the candidates accepted before it. A worker
  // only skips a candidate that this rule prunes, so every accepted one has its result.
  std::vector<double> accepted_tps;
  std::vector<std::size_t> accepted;
  for (std::size_t pos = 0; pos < n; ++pos) {
    const double kth = kth_best(accepted_tps, options.top);
    if (kth >= 0 && candidates[pos].max_tokens_per_s < kth) {
      ++result.pruned;
      if (has_result[pos])
        ++result.speculative;
      continue;
    }
    if (!has_result[pos] && refused[pos].empty() && !out_of_time) {
      // Unreachable while the bound holds; simulate rather than report a wrong ranking.
      try {
        results[pos] = execution::simulate_step(model, hardware, candidates[pos].plan);
        results[pos].trace.clear();
        has_result[pos] = 1;
      } catch (const InputError& e) {
        refused[pos] = e.problem();
      }
    }
    if (!refused[pos].empty()) {
      reject("step_too_large", refused[pos], candidates[pos].plan);
      continue;
    }
    if (!has_result[pos] && out_of_time) {
      ++result.unfinished;  // not reached before --max-seconds
      continue;
    }
    accepted.push_back(pos);
    accepted_tps.push_back(results[pos].tokens_per_s);
  }
  result.simulated = static_cast<std::int64_t>(accepted.size());
  result.partial = out_of_time;
  std::sort(accepted.begin(), accepted.end(), [&](std::size_t a, std::size_t b) {
    if (results[a].tokens_per_s != results[b].tokens_per_s)
      return results[a].tokens_per_s > results[b].tokens_per_s;
    return candidates[a].index < candidates[b].index;
  });
  for (std::size_t i = 0; i < accepted.size() && static_cast<std::int64_t>(i) < options.top; ++i) {
    const auto pos = accepted[i];
    result.top.push_back({candidates[pos].plan, candidates[pos].bound, std::move(results[pos])});
  }
  result.wall_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return result;
}

WhyLost why_lost(const execution::StepResult& best, const execution::StepResult& runner_up) {
  WhyLost w;
  w.step_time_delta_s = runner_up.step_time_s - best.step_time_s;
  w.compute_delta_s = runner_up.slowest.compute_s - best.slowest.compute_s;
  w.exposed_model_axis_delta_s = runner_up.slowest.exposed_model_s - best.slowest.exposed_model_s;
  w.exposed_data_axis_delta_s = runner_up.slowest.exposed_data_s - best.slowest.exposed_data_s;
  w.headroom_delta_bytes = runner_up.memory.headroom_bytes - best.memory.headroom_bytes;
  const double biggest =
      std::max({w.compute_delta_s, w.exposed_model_axis_delta_s, w.exposed_data_axis_delta_s, 0.0});
  char buf[512];
  if (biggest <= 0 || w.step_time_delta_s <= 1e-12 * best.step_time_s) {
    w.dominant = "tie";
    std::snprintf(buf, sizeof buf,
                  "the runner-up is as fast (step %.6g s vs %.6g s); it ranks second by "
                  "enumeration order",
                  runner_up.step_time_s, best.step_time_s);
  } else {
    const char* what = "compute";
    if (biggest == w.exposed_model_axis_delta_s)
      what = "model-axis communication";
    else if (biggest == w.exposed_data_axis_delta_s)
      what = "data-axis communication";
    w.dominant = what;
    std::string extra;
    if (w.dominant == "compute" && runner_up.slowest.recompute_s > best.slowest.recompute_s) {
      extra = " (recomputation: " + std::to_string(runner_up.slowest.recompute_s) +
              " s, the price of fitting its activations in memory)";
    }
    // The dominant part named once, then each part's difference once.
    std::snprintf(buf, sizeof buf,
                  "step %.4g s slower (%.3g%%), mostly %s%s: compute %+.4g s, exposed model-axis "
                  "%+.4g s, exposed data-axis %+.4g s",
                  w.step_time_delta_s, 100.0 * w.step_time_delta_s / best.step_time_s, what,
                  extra.c_str(), w.compute_delta_s, w.exposed_model_axis_delta_s,
                  w.exposed_data_axis_delta_s);
  }
  w.summary = buf;
  return w;
}

}  // namespace meshsim::sweep
