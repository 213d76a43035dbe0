#pragma once
// Turns a simulated step into the run report (schema meshsim.run/v1, docs/run-json.md), a human
// table, and a Chrome trace-event file (loads in Perfetto). Text in, text out: writing files is the
// CLI's job (atomically, common/atomic_file.hpp).
#include <string>
#include <vector>

#include <nlohmann/json.hpp>
#include "hardware_profiles/hardware.hpp"
#include "models/model.hpp"

#include "sim/execution/step.hpp"
#include "sim/execution/uncertainty.hpp"
#include "sim/plan/plan.hpp"

namespace meshsim::report {

struct RunInputs {
  const ModelConfig* model = nullptr;
  const HardwareProfile* hardware = nullptr;
  const Plan* plan = nullptr;
};

// The run as one JSON object (pretty-printed, deterministic key order).
std::string run_json(const RunInputs& inputs, const execution::StepResult& result);
// Several runs side by side (schema meshsim.compare/v1): one object per plan plus the winner.
std::string compare_json(const std::vector<RunInputs>& inputs,
                         const std::vector<execution::StepResult>& results);

// Human-readable report of one run.
std::string run_text(const RunInputs& inputs, const execution::StepResult& result);
// One row per metric, one column per plan, the winner (highest throughput among plans that fit)
// marked with '*'.
std::string compare_text(const std::vector<RunInputs>& inputs,
                         const std::vector<execution::StepResult>& results);
// Index of the winning plan: the highest tokens/s among those that fit (else among all).
std::size_t compare_winner(const std::vector<execution::StepResult>& results);

// A plan or profile choice whose value is not the same in every column of a comparison.
struct Difference {
  std::string label;                // "mesh", "hardware", "remat", ...
  std::vector<std::string> values;  // one per column
};
std::vector<Difference> compare_differences(const std::vector<RunInputs>& inputs,
                                            const std::vector<execution::StepResult>& results);

// The winner with the model's uncertainty: plans of the winner's memory verdict whose step-time
// band overlaps the winner's are a tie (sim/execution/uncertainty.hpp).
struct CompareVerdict {
  std::size_t winner = 0;
  bool any_fits = false;
  std::vector<std::size_t> tied;  // indices tied with the winner
  const char* verdict() const {
    return !any_fits ? "no plan fits" : tied.empty() ? "winner" : "tie within model error";
  }
};
CompareVerdict compare_verdict(const std::vector<RunInputs>& inputs,
                               const std::vector<execution::StepResult>& results);

// The step-time band as JSON (relative half-width and each component's status, error and share)
// and as text ("3.81 s .. 4.73 s (-5% +18%)").
nlohmann::json band_json(const execution::StepBand& band);
std::string band_text(const execution::StepBand& band);
// "matmul published-fit +-4%, attention ..., stack assumed +35%".
std::string statuses_text(const execution::StepBand& band);

// Chrome trace-event JSON: one process per traced chip with its compute stream, model-axis sends
// and data-axis collectives as threads, and one "links" process with a thread per link class.
std::string trace_json(const RunInputs& inputs, const execution::StepResult& result);

}  // namespace meshsim::report
