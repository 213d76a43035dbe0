#pragma once
// Plan sweep (DESIGN §5, docs/sweep.md): enumerate every plan of a chip count, reject those that
// cannot apply or do not fit in memory (counted by reason), prune those whose proven lower bound on
// the step time cannot reach the top K, simulate the rest (in parallel, results placed by index so
// the output does not depend on the thread count) and rank them by throughput.
#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "common/error.hpp"
#include "hardware_profiles/hardware.hpp"
#include "models/model.hpp"
#include "sim/execution/step.hpp"
#include "sim/plan/memory.hpp"
#include "sim/plan/plan.hpp"
#include "sim/sweep/step_bound.hpp"

namespace meshsim::sweep {

class Distribution;  // sim/sweep/distribution.hpp

// The plan space (docs/sweep.md "The space"). Empty lists take the documented defaults.
struct SweepSpace {
  std::vector<std::int64_t> global_batches;  // default: {model.train_batch}
  std::vector<Sharding> shardings;           // default: {Auto}
  std::vector<OptimizerKind> optimizers;     // default: {Adam}
  std::vector<Remat> remats;                 // default: {None, Selective, Full}
  std::int64_t max_microbatches = 64;        // microbatches 1, 2, 4, ... up to this
  // Pipeline sizes p (default: for decoders 1 and the powers of two up to the model's depth that
  // divide the chips, for encoders 1) and, for p > 1, the schedules (default 1f1b, gpipe,
  // interleaved) with interleaved's virtual stages (default {2}).
  std::vector<std::int64_t> pipelines;
  std::vector<PipelineSchedule> schedules;
  std::vector<std::int64_t> virtual_stages;
  // Two model axes: every k1 x k2 = k with k1 >= k2 >= 2 beside each t x k (docs/sweep.md).
  bool two_model_axes = true;
  // Megatron's layout with sequence parallelism (replicated activations, sequence parallel on)
  // beside the sharded layout, on one-model-axis meshes with k > 1 and auto sharding.
  bool sequence_parallel = true;
};

struct SweepProgress {
  std::int64_t done = 0;   // candidates decided (simulated or pruned)
  std::int64_t total = 0;  // candidates that fit in memory
  std::int64_t simulated = 0;
  // Simulations still to run, estimated from the simulated work so far (pruning included): the
  // undecided candidates whose bound reaches the predicted final K-th best throughput, plus those
  // simulating on other threads. For an ETA (docs/sweep.md "Progress"); 0 at the end.
  std::int64_t remaining_simulations = 0;
  double elapsed_s = 0;
};

struct SweepOptions {
  std::int64_t chips = 0;
  std::int64_t top = 5;  // K: the ranking is exact for the first K plans
  int threads = 1;
  SweepSpace space;
  // Wall-clock budget in seconds (0: none). Past it no new simulation starts; the sweep ends
  // with the plans simulated so far, marked partial (docs/sweep.md "Work bound").
  double max_seconds = 0;
  // Called (serialized, from any thread) after each candidate; may be empty.
  std::function<void(const SweepProgress&)> progress;
  // Where the simulations run: null, this process's threads; else e.g. the ranks of an MPI job
  // (sim/sweep/distribution.hpp; the result is the same).
  Distribution* distribution = nullptr;
  // Who chose the chip count, for a refusal of the sweep's work (sim/limits.hpp): `sweep
  // --chips` by default; a capacity search names its own bound and how to lower it.
  ErrorSite chips_site{"--chips", "", "chips"};
  std::string fewer_chips = "fewer chips";
};

// Why a plan was not simulated: reason key (docs/sweep.md "Rejections") and the message.
struct Rejection {
  std::string reason;  // "memory", "model_axis_does_not_divide", "batch_not_divisible", ...
  std::string detail;  // one line, e.g. "needs 41.2 GB per chip, 34.4 GB available"
  std::string mesh;
  std::string plan_text;  // short description of the plan's choices
};

struct RankedPlan {
  Plan plan;
  StepBound bound;
  execution::StepResult result;  // trace empty
};

struct SweepResult {
  std::int64_t chips = 0;
  std::int64_t considered = 0;                   // every enumerated plan
  std::int64_t fitting = 0;                      // passed validation and fit in memory (candidates)
  std::map<std::string, std::int64_t> rejected;  // reason -> count
  std::vector<Rejection> rejected_examples;      // up to 3 per reason, in enumeration order
  std::int64_t pruned = 0;                       // candidates whose bound could not reach the top K
  std::int64_t simulated = 0;                    // candidates whose simulation counted
  std::int64_t speculative = 0;  // simulated by a worker, then pruned (depends on timing; not shown
                                 // in JSON)
  std::vector<RankedPlan> top;   // best first, at most K
  double estimated_events = 0;   // estimated events of the expected simulations (not in JSON)
  std::int64_t expected_simulations = 0;  // candidates pruning may not remove (not in JSON)
  bool partial = false;         // stopped by max_seconds: the ranking covers the simulated plans
  std::int64_t unfinished = 0;  // candidates neither simulated nor pruned when it stopped
  double wall_s = 0;            // not in JSON (depends on the machine)
  // When no plan is ranked, the caller may fill these (sim/sweep/no_plan.hpp): the nearest chip
  // counts below and above where a plan of the space fits; 0 when none was found or not searched.
  std::int64_t nearest_chips_below = 0;
  std::int64_t nearest_chips_above = 0;
};

// Every plan of the space for `chips`, finalized where possible, in enumeration order. Plans that
// finalize_plan rejects come back with `reason` set (docs/sweep.md "Rejections").
struct Enumerated {
  Plan plan;           // finalized when reason is empty
  std::string reason;  // empty: valid
  std::string detail;
};
std::vector<Enumerated> enumerate_plans(const ModelConfig& model, const HardwareProfile& hardware,
                                        std::int64_t chips, const SweepSpace& space);

// Short description of a plan's choices: "256x4 auto async fsdp=off remat=none adam mb=1 b=65536".
std::string plan_summary(const Plan& plan);

SweepResult run_sweep(const ModelConfig& model, const HardwareProfile& hardware,
                      const SweepOptions& options);

// Ranking order: higher tokens/s first; ties by enumeration index (stable).
struct WhyLost {
  double step_time_delta_s = 0;
  double compute_delta_s = 0;
  double exposed_model_axis_delta_s = 0;
  double exposed_data_axis_delta_s = 0;
  double headroom_delta_bytes = 0;  // runner-up minus best
  std::string dominant;  // "compute", "model-axis communication", "data-axis communication", "tie"
  std::string summary;   // one sentence
};
WhyLost why_lost(const execution::StepResult& best, const execution::StepResult& runner_up);

}  // namespace meshsim::sweep
