#include "sim/sweep/capacity.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>
#include <mutex>
#include <set>
#include <stdexcept>
#include <thread>

#include "sim/execution/pipeline_memory.hpp"
#include "sim/plan/memory.hpp"
#include "sim/sweep/distribution.hpp"

namespace meshsim::sweep {
namespace {

// A doubling of the chip count that yields less than this share of a doubling in throughput is
// where the report says scaling stops (docs/report.md "scaling").
constexpr double kScalingThreshold = 0.8;
// A link busy at least this share of the step is reported as saturated.
constexpr double kSaturated = 0.9;

std::int64_t profile_max_chips(const HardwareProfile& hw) {
  return hw.kind == InterconnectKind::Torus ? hw.torus.max_chips : hw.gpu.max_gpus;
}

// The best plan's choices on `chips` chips: the same model axis, the data axis scaled, the first
// remat policy (the best plan's own, then none, selective, full) and the fewest microbatches
// (powers of two) that fit in memory. Empty plan name and a reason when none can be formed.
ScalingPoint scaled_plan(const ModelConfig& model, const HardwareProfile& hw, const Plan& best,
                         std::int64_t chips) {
  ScalingPoint pt;
  pt.chips = chips;
  // A pipeline keeps its stages: the data axis alone scales.
  const std::int64_t k = best.mesh.model(), pipe = best.mesh.pipeline;
  if (chips % (k * pipe) != 0) {
    pt.reason = pipe > 1
                    ? "the model axis x pipeline (" + std::to_string(k * pipe) +
                          ") does not divide the chip count"
                    : "the model axis (" + std::to_string(k) + ") does not divide the chip count";
    return pt;
  }
  const std::int64_t t = chips / (k * pipe);
  if (best.global_batch % t != 0) {
    pt.reason = "the global batch (" + std::to_string(best.global_batch) +
                ") cannot be split over " + std::to_string(t) + " data-parallel replicas";
    return pt;
  }
  std::vector<Remat> order = {best.remat};
  for (auto r : {Remat::None, Remat::Selective, Remat::Full}) {
    if (r != best.remat)
      order.push_back(r);
  }
  const auto linears = layer_linears(model);
  const ParamCounts params = count_params(model);
  for (const auto remat : order) {
    for (std::int64_t mb = 1; best.global_batch % (t * mb) == 0; mb *= 2) {
      Plan p = best;
      p.mesh = MeshShape{t, k, 1, false, pipe};
      p.mapping = AxisMapping{};
      p.microbatches = mb;
      p.origins["microbatches"] = ErrorSite{"report", "", "microbatches"};
      p.remat = remat;
      if (t == 1)
        p.fsdp = false;
      try {
        p = finalize_plan(p, model, linears, hw, chips);
      } catch (const InputError& e) {
        pt.reason = e.problem();
        return pt;
      }
      if ((pipe > 1 ? execution::largest_stage_memory(model, hw, p)
                    : memory_per_chip(model, linears, params, p, hw.chip.hbm_bytes))
              .fits) {
        pt.plan = p;
        pt.reason.clear();
        return pt;
      }
    }
  }
  pt.reason = "no remat policy or microbatch count fits in memory";
  return pt;
}

}  // namespace

const char* to_string(TargetKind kind) {
  switch (kind) {
    case TargetKind::Steps:
      return "steps";
    case TargetKind::Tokens:
      return "tokens";
    case TargetKind::Images:
      return "images";
  }
  return "steps";
}

namespace {

// The report's global batch and target in steps (docs/report.md step 2).
void resolve_target(const ModelConfig& model, const CapacityOptions& options, CapacityReport& rep) {
  rep.options = options;
  rep.global_batch = options.global_batch > 0 ? options.global_batch : model.train_batch;
  if (rep.global_batch <= 0) {
    throw InputError({"--global-batch", "", "global-batch"},
                     "the model has no published training batch; give one", model.name,
                     "--global-batch N");
  }
  double target = options.target_value;
  if (target <= 0) {
    if (options.target_kind != TargetKind::Steps || model.train_steps <= 0) {
      throw InputError({"--steps", "", "steps"},
                       "no training target and the model has no published step count", model.name,
                       "--steps S, --tokens T or --images I");
    }
    target = static_cast<double>(model.train_steps);
  }
  rep.options.target_value = target;
  const double images_per_step = static_cast<double>(rep.global_batch);
  switch (options.target_kind) {
    case TargetKind::Steps:
      rep.steps = target;
      break;
    case TargetKind::Tokens:
      rep.steps = std::ceil(target / (images_per_step * static_cast<double>(model.tokens)));
      break;
    case TargetKind::Images:
      rep.steps = std::ceil(target / images_per_step);
      break;
  }
}

// The sweep of a report at `chips` chips.
SweepOptions report_sweep_options(const CapacityOptions& options, std::int64_t global_batch,
                                  std::int64_t chips) {
  SweepOptions so;
  so.chips = chips;
  so.top = std::max<std::int64_t>(2, options.top);
  so.threads = options.threads;
  so.space.global_batches = {global_batch};
  so.progress = options.progress;
  so.distribution = options.distribution;
  return so;
}

}  // namespace

CapacityReport build_capacity_report(const ModelConfig& model, const HardwareProfile& hardware,
                                     const CapacityOptions& options, const SweepResult* presweep) {
  CapacityReport rep;
  rep.model = &model;
  rep.hardware = &hardware;
  resolve_target(model, options, rep);
  const SweepOptions so = report_sweep_options(options, rep.global_batch, options.chips);
  rep.sweep = presweep != nullptr ? *presweep : run_sweep(model, hardware, so);
  if (rep.sweep.top.empty())
    return rep;
  rep.has_best = true;
  const auto& best = rep.sweep.top.front();
  rep.time_to_train_s = rep.steps * best.result.step_time_s;
  rep.chip_hours = static_cast<double>(options.chips) * rep.time_to_train_s / 3600.0;
  if (hardware.price_per_chip_hour_usd)
    rep.cost_usd = rep.chip_hours * *hardware.price_per_chip_hour_usd;

  // Largest batch per replica: memory grows with the microbatch, so bisect on it.
  const auto linears = layer_linears(model);
  const ParamCounts params = count_params(model);
  if (options.phase)
    options.phase("largest batch that fits", 0, 3);
  for (const auto remat : {Remat::None, Remat::Selective, Remat::Full}) {
    LargestBatch lb;
    lb.remat = remat;
    auto fits = [&](std::int64_t b, double* bytes) {
      Plan p = best.plan;
      p.remat = remat;
      p.microbatches = 1;
      p.global_batch = b * p.mesh.data;
      // With a pipeline: its microbatches kept (the schedule needs them), the largest stage.
      if (p.mesh.pipeline > 1) {
        p.microbatches = best.plan.microbatches;
        p.global_batch *= p.microbatches;
      }
      const auto m = p.mesh.pipeline > 1
                         ? execution::largest_stage_memory(model, hardware, p)
                         : memory_per_chip(model, linears, params, p, hardware.chip.hbm_bytes);
      if (bytes)
        *bytes = m.total_bytes;
      return m.fits;
    };
    std::int64_t lo = 0, hi = 1;
    while (hi <= (std::int64_t{1} << 24) && fits(hi, nullptr)) {
      lo = hi;
      hi *= 2;
    }
    while (hi - lo > 1) {
      const std::int64_t mid = lo + (hi - lo) / 2;
      (fits(mid, nullptr) ? lo : hi) = mid;
    }
    // With a pipeline: images per replica per microbatch, the schedule's microbatches kept.
    const std::int64_t mbs = best.plan.mesh.pipeline > 1 ? best.plan.microbatches : 1;
    lb.images_per_replica = lo * mbs;
    lb.global_batch = lo * mbs * best.plan.mesh.data;
    if (lo > 0)
      fits(lo, &lb.per_chip_bytes);
    rep.largest_batch.push_back(lb);
  }

  // Scaling: powers of two from about N/8 up to 4N (within the profile), plus N itself.
  std::int64_t top_chips =
      options.max_scaling_chips > 0 ? options.max_scaling_chips : 4 * options.chips;
  const std::int64_t max_chips = profile_max_chips(hardware);
  if (max_chips > 0)
    top_chips = std::min(top_chips, max_chips);
  std::vector<std::int64_t> counts;
  // From N/8 (each point below N costs about as much to simulate as N itself, since more
  // microbatches are needed to fit) up to the top.
  std::int64_t first = best.plan.mesh.model();
  while (first * 16 <= options.chips)
    first *= 2;
  for (std::int64_t c = first; c <= top_chips; c *= 2)
    counts.push_back(c);
  if (std::find(counts.begin(), counts.end(), options.chips) == counts.end())
    counts.push_back(options.chips);
  std::sort(counts.begin(), counts.end());
  for (const auto c : counts)
    rep.scaling.push_back(scaled_plan(model, hardware, best.plan, c));
  const auto points = static_cast<std::int64_t>(rep.scaling.size());
  if (options.phase)
    options.phase("scaling curve", 0, points);

  // Simulate the points in parallel (threads, or ranks: sim/sweep/distribution.hpp); each result
  // goes to its own slot.
  std::vector<std::size_t> to_simulate;
  for (std::size_t i = 0; i < rep.scaling.size(); ++i) {
    auto& pt = rep.scaling[i];
    if (!pt.reason.empty())
      continue;
    if (pt.chips == options.chips && pt.plan.remat == best.plan.remat &&
        pt.plan.microbatches == best.plan.microbatches) {
      pt.result = best.result;  // the same plan: reuse its simulation
      pt.plan = best.plan;
      pt.simulated = true;
    } else {
      to_simulate.push_back(i);
    }
  }
  WorkItems items;
  items.count = to_simulate.size();
  items.threads = options.threads;
  items.stop_on_failure = false;  // a point that cannot be simulated says why; the others go on
  items.simulate = [&](std::size_t j) {
    auto r = execution::simulate_step(model, hardware, rep.scaling[to_simulate[j]].plan);
    r.trace.clear();
    return r;
  };
  for (const auto i : to_simulate)
    items.labels.push_back(plan_summary(rep.scaling[i].plan));
  if (options.phase) {
    // The points that need no simulation are done already.
    const auto ready = points - static_cast<std::int64_t>(to_simulate.size());
    if (ready > 0)
      options.phase("scaling curve", ready, points);
    items.progress = [&options, ready, points](const SweepProgress& p) {
      options.phase("scaling curve", ready + p.done, points);
    };
  }
  Evaluation evaluation = options.distribution != nullptr ? options.distribution->evaluate(items)
                                                          : evaluate_locally(items);
  for (std::size_t j = 0; j < to_simulate.size(); ++j) {
    auto& pt = rep.scaling[to_simulate[j]];
    auto& item = evaluation.items[j];
    if (item.state == ItemOutcome::State::Failed || item.state == ItemOutcome::State::Refused) {
      try {
        std::rethrow_exception(item.error);
      } catch (const InputError& e) {
        pt.reason = e.what();  // e.g. beyond the event limit: a point without a simulation
        continue;
      }
    }
    if (item.state != ItemOutcome::State::Done)
      throw std::logic_error("capacity report: a scaling point was not simulated");
    pt.result = std::move(item.result);
    pt.simulated = true;
  }

  const ScalingPoint* ref = nullptr;
  const ScalingPoint* prev = nullptr;
  for (auto& pt : rep.scaling) {
    if (!pt.simulated) {
      if (prev != nullptr && rep.stops_scaling_at == 0) {
        rep.stops_scaling_at = pt.chips;
        rep.stops_scaling_reason = pt.reason;
      }
      continue;
    }
    for (const double u : pt.result.link_utilization)
      pt.max_link_utilization = std::max(pt.max_link_utilization, u);
    pt.links_saturated = pt.max_link_utilization >= kSaturated;
    if (ref == nullptr)
      ref = &pt;
    pt.efficiency = pt.result.tokens_per_s_per_chip / ref->result.tokens_per_s_per_chip;
    if (prev != nullptr) {
      pt.doubling_efficiency = (pt.result.tokens_per_s / prev->result.tokens_per_s) /
                               (static_cast<double>(pt.chips) / static_cast<double>(prev->chips));
      if (rep.stops_scaling_at == 0 && pt.doubling_efficiency < kScalingThreshold) {
        rep.stops_scaling_at = pt.chips;
        char buf[400];
        const auto& r = pt.result;
        std::snprintf(buf, sizeof buf,
                      "from %lld to %lld chips throughput grows %.2fx for %.2fx the chips: %lld "
                      "images per replica per microbatch, step %.4g s of which compute %.4g s, "
                      "exposed model-axis %.4g s, exposed data-axis %.4g s (bottleneck: %s%s)",
                      static_cast<long long>(prev->chips), static_cast<long long>(pt.chips),
                      r.tokens_per_s / prev->result.tokens_per_s,
                      static_cast<double>(pt.chips) / static_cast<double>(prev->chips),
                      static_cast<long long>(r.microbatch_images), r.step_time_s,
                      r.slowest.compute_s, r.slowest.exposed_model_s, r.slowest.exposed_data_s,
                      r.bottleneck.c_str(), pt.links_saturated ? ", links saturated" : "");
        rep.stops_scaling_reason = buf;
      }
    } else {
      pt.doubling_efficiency = 1.0;
    }
    prev = &pt;
  }
  return rep;
}

std::vector<std::int64_t> capacity_candidates(const HardwareProfile& hardware) {
  const std::int64_t max_chips = profile_max_chips(hardware);
  std::set<std::int64_t> counts;
  for (std::int64_t c = 1; c <= max_chips; c *= 2)
    counts.insert(c);
  if (hardware.kind == InterconnectKind::Torus) {
    // Slices of whole wrap-around units: every side a multiple of wraparound_multiple, within
    // the largest slice (sorted sides, as torus_slice_shape fits them).
    const TorusInterconnect& t = hardware.torus;
    const std::int64_t w = std::max(1, t.wraparound_multiple);
    std::vector<int> max_shape = t.max_shape;
    std::sort(max_shape.begin(), max_shape.end());
    auto walk = [&](auto&& self, std::size_t d, std::int64_t lo, std::int64_t product) -> void {
      if (d == max_shape.size()) {
        if (product <= max_chips)
          counts.insert(product);
        return;
      }
      for (std::int64_t n = lo; n <= max_shape[d]; n += w)
        self(self, d + 1, n, product * n);
    };
    if (!max_shape.empty())
      walk(walk, 0, w, 1);
  }
  return {counts.begin(), counts.end()};
}

CapacityReport answer_capacity_question(const ModelConfig& model, const HardwareProfile& hardware,
                                        const CapacityOptions& options, const CapacityGoal& goal) {
  CapacityReport shape;  // the batch and steps only
  resolve_target(model, options, shape);
  if (goal.max_cost_usd && !hardware.price_per_chip_hour_usd) {
    throw InputError({"--budget", "", "budget"},
                     "the hardware profile " + hardware.name + " has no price per chip-hour",
                     "no price", "--price USD (per chip-hour) with --budget");
  }
  CapacitySearch search;
  search.goal = goal;
  search.candidates = capacity_candidates(hardware);
  if (options.max_search_chips > 0) {
    std::erase_if(search.candidates, [&](std::int64_t c) { return c > options.max_search_chips; });
  }
  if (search.candidates.empty()) {
    throw InputError({"--max-chips", "", "max-chips"}, "leaves no chip count to search",
                     std::to_string(options.max_search_chips), "1 or more");
  }
  const auto& cand = search.candidates;
  const std::size_t m = cand.size();
  std::map<std::int64_t, SweepResult> sweeps;
  std::map<std::size_t, SearchPoint> seen;  // by candidate index
  auto eval = [&](std::size_t i) -> const SearchPoint& {
    auto it = seen.find(i);
    if (it != seen.end())
      return it->second;
    SearchPoint pt;
    pt.chips = cand[i];
    // A count whose sweep is refused for its work names the search's bound (the user gave no
    // --chips here).
    SweepOptions so = report_sweep_options(options, shape.global_batch, pt.chips);
    so.chips_site = {"--max-chips", "", "max-chips"};
    so.fewer_chips = "--max-chips below " + std::to_string(pt.chips);
    SweepResult sr = run_sweep(model, hardware, so);
    if (!sr.top.empty()) {
      pt.has_plan = true;
      pt.step_time_s = sr.top.front().result.step_time_s;
      const double seconds = shape.steps * pt.step_time_s;
      pt.days = seconds / 86400.0;
      if (hardware.price_per_chip_hour_usd) {
        pt.cost_usd =
            static_cast<double>(pt.chips) * seconds / 3600.0 * *hardware.price_per_chip_hour_usd;
      }
      pt.meets = (!goal.max_days || pt.days <= *goal.max_days) &&
                 (!goal.max_cost_usd || *pt.cost_usd <= *goal.max_cost_usd);
    }
    sweeps.emplace(pt.chips, std::move(sr));
    return seen.emplace(i, pt).first->second;
  };
  // The first index in [lo, hi] where `pred` holds, assuming it is false then true over the
  // range (bisection); hi + 1 when it holds nowhere that was looked at.
  auto first_true = [&](std::size_t lo, std::size_t hi, auto pred) {
    if (!pred(eval(hi)))
      return hi + 1;
    while (lo < hi) {
      const std::size_t mid = lo + (hi - lo) / 2;
      if (pred(eval(mid)))
        hi = mid;
      else
        lo = mid + 1;
    }
    return lo;
  };
  std::size_t answer = m;  // none
  if (goal.max_days) {
    // Time to train falls as chips grow: bisection for the smallest count within the days, then
    // its two smaller neighbours are checked (time is not always monotone in chips: a count whose
    // batch splits badly, or that needs more microbatches, can be slower than a smaller one).
    const auto within_days = [&](const SearchPoint& p) {
      return p.has_plan && p.days <= *goal.max_days;
    };
    std::size_t i = first_true(0, m - 1, within_days);
    for (bool moved = i < m; moved;) {
      moved = false;
      for (std::size_t back = 1; back <= 2 && back <= i; ++back) {
        if (within_days(eval(i - back))) {
          i -= back;
          moved = true;
          break;
        }
      }
    }
    answer = i;
    search.method =
        "bisection on the time to train over the candidate counts, then the two "
        "smaller neighbours of the answer checked";
  } else {
    // Budget only: the smallest count where a plan fits (memory per chip falls as chips grow).
    answer = first_true(0, m - 1, [](const SearchPoint& p) { return p.has_plan; });
    for (bool moved = answer < m; moved;) {
      moved = false;
      for (std::size_t back = 1; back <= 2 && back <= answer; ++back) {
        if (eval(answer - back).has_plan) {
          answer -= back;
          moved = true;
          break;
        }
      }
    }
    search.method =
        "bisection on fitting in memory over the candidate counts, then the two "
        "smaller neighbours checked";
  }
  if (goal.max_cost_usd && answer < m) {
    // Cost grows with chips where scaling is below linear: walk up from the smallest count that
    // meets the days (or fits), and stop after two counts in a row that miss the budget.
    int misses = 0;
    std::size_t i = answer;
    answer = m;
    for (; i < m && misses < 2; ++i) {
      const SearchPoint& p = eval(i);
      if (p.meets) {
        answer = i;
        break;
      }
      if (p.has_plan)
        ++misses;
    }
    search.method +=
        "; then upward to the first count within the budget (two misses in a row "
        "end it)";
  }
  for (const auto& [i, p] : seen) {
    search.simulated.push_back(p);
    if (!p.has_plan)
      continue;
    if (search.fastest_chips == 0 || p.days < search.fastest_days) {
      search.fastest_chips = p.chips;
      search.fastest_days = p.days;
    }
    if (p.cost_usd && (!search.cheapest_cost_usd || *p.cost_usd < *search.cheapest_cost_usd)) {
      search.cheapest_chips = p.chips;
      search.cheapest_cost_usd = p.cost_usd;
    }
  }
  std::int64_t at = 0;
  if (answer < m) {
    search.answer_chips = cand[answer];
    at = cand[answer];
  } else {
    at = goal.max_days ? search.fastest_chips : search.cheapest_chips;
  }
  CapacityOptions o = options;
  if (at == 0) {
    // Nothing fits anywhere: the report at the largest count says so.
    at = cand.back();
    if (sweeps.count(at) == 0)
      eval(m - 1);
  }
  o.chips = at;
  CapacityReport rep = build_capacity_report(model, hardware, o, &sweeps.at(at));
  rep.search = std::move(search);
  return rep;
}

}  // namespace meshsim::sweep
