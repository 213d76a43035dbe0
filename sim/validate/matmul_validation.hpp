#pragma once
// `meshsim validate --matmuls`: every row of a measured matmul table (gemm_table.hpp) predicted by
// a profile's matmul model, with the relative errors and their summary.
#include <string>
#include <vector>

#include "hardware_profiles/hardware.hpp"
#include "sim/validate/error_summary.hpp"
#include "sim/validate/gemm_table.hpp"

namespace meshsim {

struct MatmulComparison {
  GemmRow row;
  double measured_s = 0, predicted_s = 0;
  double rel_error = 0;  // (predicted - measured) / measured
};

struct MatmulValidation {
  std::vector<MatmulComparison> rows;
  RelErrorSummary summary;
};

MatmulValidation validate_matmuls(const std::vector<GemmRow>& rows, const CostModel& cost,
                                  const ChipSpec& chip, MatmulDtype dtype);

}  // namespace meshsim
