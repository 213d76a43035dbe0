#include "sim/validate/matmul_validation.hpp"

namespace meshsim {

MatmulValidation validate_matmuls(const std::vector<GemmRow>& rows, const CostModel& cost,
                                  const ChipSpec& chip, MatmulDtype dtype) {
  MatmulValidation v;
  std::vector<double> errors;
  for (const GemmRow& row : rows) {
    MatmulComparison c;
    c.row = row;
    c.measured_s = gemm_measured_s(row, dtype);
    c.predicted_s = matmul_time_s(cost, chip, row.shape, dtype);
    c.rel_error = (c.predicted_s - c.measured_s) / c.measured_s;
    errors.push_back(c.rel_error);
    v.rows.push_back(c);
  }
  v.summary = summarize_rel_errors(errors);
  return v;
}

}  // namespace meshsim
