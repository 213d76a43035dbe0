#pragma once
// Fits a software stack's parameters (hardware_profiles/stack.hpp) on measured training runs
// (issue 13, docs/fidelity.md "Calibrating your own stack"): bounded least squares on the log of
// predicted over measured images/s, every prediction a full simulated step. With fewer rows than
// parameters only as many parameters as rows are fitted: of every such subset, the one that
// leaves the smallest error and, among equals, moves least from the profile's values (each
// parameter scaled by its bounds); the others keep their values.
#include <array>
#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include "hardware_profiles/hardware.hpp"
#include "sim/validate/runs.hpp"

namespace meshsim {

struct StackParameterFit {
  bool fitted = false;    // false: kept at the profile's value
  double value = 0;       // in the parameter's unit (s, or a ratio)
  double std_error = -1;  // standard error from the residuals; < 0 when it cannot be told
  bool at_bound = false;  // the fit pushed it to one of its bounds
  std::vector<std::string> constrained_by;  // ids of the rows whose prediction it moves
  std::string why_kept;                     // when not fitted: why
};

// What one parameter alone makes of the rows (the others at the profile's values).
struct StackAlternative {
  double value = 0;
  double rms_log_error = 0;  // root mean square of log(predicted / measured)
};

struct StackFitResult {
  StackCost stack;  // the profile's stack with the fitted values
  std::array<StackParameterFit, kStackParameters> parameters{};
  std::array<StackAlternative, kStackParameters> alone{};  // only for the allowed parameters
  std::vector<RunComparison> before, after;  // every row with the profile's and the fitted stack
  int simulations = 0;                       // steps simulated by the fit
};

// The parameters a fit may move (calibrate --fit); all by default.
using StackParameterMask = std::array<bool, kStackParameters>;
inline constexpr StackParameterMask kAllStackParameters = {true, true, true, true};

// Fits on `rows` (prepared for `base`), leaving out row `exclude` when given; `alternatives`
// also fits each allowed parameter alone (StackFitResult::alone).
StackFitResult fit_stack(const std::vector<PreparedRun>& rows, const HardwareProfile& base,
                         std::optional<std::size_t> exclude = std::nullopt,
                         const StackParameterMask& allowed = kAllStackParameters,
                         bool alternatives = true);

// Leave-one-out: each row predicted by a fit on all the others (needs at least 2 rows).
std::vector<RunComparison> leave_one_out(const std::vector<PreparedRun>& rows,
                                         const HardwareProfile& base,
                                         const StackParameterMask& allowed = kAllStackParameters);

}  // namespace meshsim
