#pragma once
// Measured training runs (issue 13, docs/fidelity.md "Measured runs"): a CSV with the columns of
// cuda_validation/published/end_to_end_calibration.csv, plus optional columns named after `run`'s
// other plan flags (without their dashes), each row one plan that somebody ran and timed. Each row
// is predicted by simulating its step and compared with its measured images/s.
#include <cstdint>
#include <string>
#include <vector>

#include "hardware_profiles/hardware.hpp"
#include "models/model.hpp"
#include "sim/plan/plan.hpp"

namespace meshsim {

struct MeasuredRun {
  std::string id;
  std::string model;     // zoo name or file
  std::string hardware;  // zoo name or file
  std::int64_t chips = 0;
  PlanFlags flags;  // mesh, batch, microbatches, fsdp, remat and any optional flag column
  double measured_images_per_s = 0;
  std::string source;
  int line = 0;  // in the file, for messages
};

struct MeasuredRunSet {
  std::string file;
  std::vector<MeasuredRun> runs;
};

// The required columns, in the published file's order, and the optional plan-flag columns.
const std::vector<std::string>& measured_run_columns();
const std::vector<std::string>& measured_run_optional_columns();

// Strict: unknown or missing columns, duplicate ids, bad numbers are InputErrors naming the file,
// the line and the column. Plan cells are checked when the row is predicted.
MeasuredRunSet load_measured_runs(const std::string& path);

struct RunComparison {
  std::string id;
  double measured_images_per_s = 0, predicted_images_per_s = 0;
  double rel_error = 0;  // (predicted - measured) / measured
  double step_time_s = 0;
  std::string hardware;  // the profile used
};

// Simulates every row (with `hardware_override` instead of the row's hardware when not empty).
// A row whose plan is invalid throws InputError naming the file, its line and the column.
std::vector<RunComparison> predict_measured_runs(const MeasuredRunSet& set,
                                                 const std::string& hardware_override);

// A row ready to simulate on one profile: its model and finalized plan. The stack parameters of
// the profile do not enter the plan, so a fit re-simulates prepared rows with other stacks.
struct PreparedRun {
  const MeasuredRun* run = nullptr;
  ModelConfig model;
  Plan plan;
};

// Every row of `set` on `hardware` (all rows, whatever their hardware column). Errors as for
// predict_measured_runs.
std::vector<PreparedRun> prepare_measured_runs(const MeasuredRunSet& set,
                                               const HardwareProfile& hardware);

// The simulated step of one prepared row on `hardware` (the profile it was prepared for, with any
// stack).
RunComparison predict_prepared_run(const PreparedRun& row, const HardwareProfile& hardware);

}  // namespace meshsim
