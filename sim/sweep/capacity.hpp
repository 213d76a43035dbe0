#pragma once
// The capacity report (DESIGN §5, docs/report.md): for a model, hardware and chip count, which
// plans fit, the best plan, the time, chip-hours and cost to train a target, the largest per-chip
// batch that fits, and how throughput scales with the chip count.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "hardware_profiles/hardware.hpp"
#include "models/model.hpp"
#include "sim/execution/step.hpp"
#include "sim/plan/plan.hpp"
#include "sim/sweep/sweep.hpp"

namespace meshsim::sweep {

enum class TargetKind { Steps, Tokens, Images };
const char* to_string(TargetKind kind);  // "steps", "tokens", "images"

struct CapacityOptions {
  std::int64_t chips = 0;
  TargetKind target_kind = TargetKind::Steps;
  double target_value = 0;        // 0: the model's published train_steps
  std::int64_t global_batch = 0;  // 0: the model's train_batch
  int threads = 1;
  std::int64_t top = 3;                // plans listed (the ranking is exact for these)
  std::int64_t max_scaling_chips = 0;  // 0: 4 x chips, capped by the profile's largest system
  std::int64_t max_search_chips = 0;   // capacity questions: 0 = the profile's largest system
  std::function<void(const SweepProgress&)> progress;
  Distribution* distribution = nullptr;  // where the simulations run (SweepOptions)
  // Called (serialized) as each phase after the sweep starts (done 0) and as its steps finish:
  // "largest batch that fits" (3 remat policies), "scaling curve" (chip counts). May be empty.
  std::function<void(const std::string& phase, std::int64_t done, std::int64_t total)> phase;
};

// A capacity question (`report --days N`, `--budget USD`, docs/report.md "Capacity questions"):
// the smallest chip count whose best plan trains the target within the days and/or the budget.
struct CapacityGoal {
  std::optional<double> max_days;
  std::optional<double> max_cost_usd;
  bool active() const { return max_days.has_value() || max_cost_usd.has_value(); }
};

// One chip count the search simulated (a whole sweep at that count).
struct SearchPoint {
  std::int64_t chips = 0;
  bool has_plan = false;   // some plan fits in memory
  double step_time_s = 0;  // the best plan's
  double days = 0;         // steps x step time / 86400
  std::optional<double> cost_usd;
  bool meets = false;  // has a plan and meets every given limit
};

struct CapacitySearch {
  CapacityGoal goal;
  std::vector<std::int64_t> candidates;  // the chip counts searched over, ascending
  std::vector<SearchPoint> simulated;    // the counts swept, ascending
  std::int64_t answer_chips = 0;         // 0: no count meets the goal
  // When none meets: the best reachable days and cost among the counts simulated (0 chips: none).
  std::int64_t fastest_chips = 0, cheapest_chips = 0;
  double fastest_days = 0;
  std::optional<double> cheapest_cost_usd;
  std::string method;  // how the answer was found, one line
};

// Largest images per data-parallel replica (per microbatch, one microbatch) that fit in memory
// with the best plan's mesh and choices, under one remat policy.
struct LargestBatch {
  Remat remat = Remat::None;
  std::int64_t images_per_replica = 0;  // 0: not even one image fits
  std::int64_t global_batch = 0;        // images_per_replica x data axis
  double per_chip_bytes = 0;            // memory at that batch
};

struct ScalingPoint {
  std::int64_t chips = 0;
  bool simulated = false;
  std::string reason;  // why not simulated (cannot form the plan, or no remat/microbatches fit)
  Plan plan;
  execution::StepResult result;    // when simulated (trace empty)
  double efficiency = 0;           // per-chip throughput / that of the smallest simulated point
  double doubling_efficiency = 0;  // throughput ratio / chip ratio vs the previous simulated point
  double max_link_utilization = 0;
  bool links_saturated = false;  // some link busy >= 90% of the step
};

struct CapacityReport {
  const ModelConfig* model = nullptr;
  const HardwareProfile* hardware = nullptr;
  CapacityOptions options;
  std::int64_t global_batch = 0;
  double steps = 0;  // resolved target in steps (ceil for tokens/images)
  SweepResult sweep;
  bool has_best = false;
  double time_to_train_s = 0;  // steps x best step time
  double chip_hours = 0;
  std::optional<double> cost_usd;
  std::vector<LargestBatch> largest_batch;  // none, selective, full
  std::vector<ScalingPoint> scaling;
  std::int64_t stops_scaling_at = 0;  // first chip count where doubling gives < 80%; 0: none
  std::string stops_scaling_reason;
  std::optional<CapacitySearch> search;  // set when the report answers a capacity question
};

// `presweep`: the sweep at options.chips with the report's sweep options, when already done.
CapacityReport build_capacity_report(const ModelConfig& model, const HardwareProfile& hardware,
                                     const CapacityOptions& options,
                                     const SweepResult* presweep = nullptr);

// The chip counts a capacity question searches (docs/report.md): powers of two up to the
// profile's largest system, and on a torus every slice whose sides are all multiples of the
// wrap-around multiple (whole cubes on TPU v4/v5p), ascending.
std::vector<std::int64_t> capacity_candidates(const HardwareProfile& hardware);

// Answers a capacity question: finds the smallest candidate chip count that meets `goal`
// (options.chips is ignored) and builds the report there; when none meets it, the report is at
// the fastest count found (days) or the cheapest (budget only), and `search->answer_chips` is 0.
// Throws InputError when a budget is given and the profile has no price.
CapacityReport answer_capacity_question(const ModelConfig& model, const HardwareProfile& hardware,
                                        const CapacityOptions& options, const CapacityGoal& goal);

}  // namespace meshsim::sweep
