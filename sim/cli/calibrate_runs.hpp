#pragma once
// `meshsim calibrate --runs FILE.csv --hardware NAME [-o OUT.json] [--leave-one-out] [--json]`
// (issue 13, docs/fidelity.md "Calibrating your own stack"): fits the stack parameters on measured
// runs, prints each with its bounds and the rows that constrain it, and writes the derived
// profile "<name>-calibrated".
#include <string>

namespace meshsim::cli {

struct CalibrateRunsOptions {
  std::string runs, hardware, output;
  std::string fit;  // comma-separated parameter names; empty: all
  bool leave_one_out = false;
  bool json = false;
};

void run_calibrate_runs(const CalibrateRunsOptions& options);

}  // namespace meshsim::cli
