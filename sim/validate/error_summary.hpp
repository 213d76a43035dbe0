#pragma once
// Summary of relative errors (predicted - measured) / measured over the rows of a validation table,
// shared by `meshsim validate --matmuls` and the other table modes.
#include <cstdint>
#include <nlohmann/json.hpp>
#include <vector>

namespace meshsim {

struct RelErrorSummary {
  std::int64_t count = 0;
  double median_abs = 0;  // median of |error| (the mean of the two middle ones for an even count)
  double p90_abs = 0;     // 90th percentile of |error|, nearest rank: sorted[ceil(0.9 count) - 1]
  double worst_abs = 0;
  std::size_t worst_index = 0;  // the row with the worst |error| (the first of ties)
};

RelErrorSummary summarize_rel_errors(const std::vector<double>& rel_errors);

// {"count", "median_abs_rel_error", "p90_abs_rel_error", "worst_abs_rel_error"}.
nlohmann::json rel_error_summary_json(const RelErrorSummary& summary);

}  // namespace meshsim
