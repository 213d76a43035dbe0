#include "sim/sweep/capacity.hpp"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdio>
#include <mutex>
#include <thread>

#include "sim/plan/memory.hpp"

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
  const std::int64_t k = best.mesh.model();
  if (chips % k != 0) {
    pt.reason = "the model axis (" + std::to_string(k) + ") does not divide the chip count";
    return pt;
  }
  const std::int64_t t = chips / k;
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
      p.mesh = MeshShape{t, k, 1, false};
      p.mapping = AxisMapping{};
      p.microbatches = mb;
      p.remat = remat;
      if (t == 1)
        p.fsdp = false;
      try {
        p = finalize_plan(p, model, linears, hw, chips);
      } catch (const InputError& e) {
        pt.reason = e.problem();
        return pt;
      }
      if (memory_per_chip(model, linears, params, p, hw.chip.hbm_bytes).fits) {
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

CapacityReport build_capacity_report(const ModelConfig& model, const HardwareProfile& hardware,
                                     const CapacityOptions& options) {
  CapacityReport rep;
  rep.model = &model;
  rep.hardware = &hardware;
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

  SweepOptions so;
  so.chips = options.chips;
  so.top = std::max<std::int64_t>(2, options.top);
  so.threads = options.threads;
  so.space.global_batches = {rep.global_batch};
  so.progress = options.progress;
  rep.sweep = run_sweep(model, hardware, so);
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
      const auto m = memory_per_chip(model, linears, params, p, hardware.chip.hbm_bytes);
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
    lb.images_per_replica = lo;
    lb.global_batch = lo * best.plan.mesh.data;
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
  std::mutex phase_mutex;
  std::int64_t points_done = 0;
  const auto points = static_cast<std::int64_t>(rep.scaling.size());
  if (options.phase)
    options.phase("scaling curve", 0, points);
  auto point_done = [&] {
    if (!options.phase)
      return;
    std::lock_guard<std::mutex> lock(phase_mutex);
    options.phase("scaling curve", ++points_done, points);
  };

  // Simulate the points in parallel; each result goes to its own slot.
  std::atomic<std::size_t> next{0};
  auto worker = [&] {
    for (;;) {
      const std::size_t i = next.fetch_add(1);
      if (i >= rep.scaling.size())
        return;
      auto& pt = rep.scaling[i];
      if (!pt.reason.empty()) {
        point_done();
        continue;
      }
      if (pt.chips == options.chips && pt.plan.remat == best.plan.remat &&
          pt.plan.microbatches == best.plan.microbatches) {
        pt.result = best.result;  // the same plan: reuse its simulation
        pt.plan = best.plan;
      } else {
        try {
          pt.result = execution::simulate_step(model, hardware, pt.plan);
        } catch (const InputError& e) {
          pt.reason = e.what();  // e.g. beyond the event limit: a point without a simulation
          point_done();
          continue;
        }
        pt.result.trace.clear();
      }
      pt.simulated = true;
      point_done();
    }
  };
  std::vector<std::thread> pool;
  for (int i = 1; i < std::max(1, options.threads); ++i)
    pool.emplace_back(worker);
  worker();
  for (auto& th : pool)
    th.join();

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

}  // namespace meshsim::sweep
