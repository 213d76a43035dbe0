#include "sim/validate/error_summary.hpp"

#include <algorithm>
#include <cmath>

namespace meshsim {

RelErrorSummary summarize_rel_errors(const std::vector<double>& rel_errors) {
  RelErrorSummary s;
  s.count = static_cast<std::int64_t>(rel_errors.size());
  if (rel_errors.empty())
    return s;
  std::vector<double> abs_errors;
  for (std::size_t i = 0; i < rel_errors.size(); ++i) {
    const double a = std::abs(rel_errors[i]);
    abs_errors.push_back(a);
    if (a > s.worst_abs) {
      s.worst_abs = a;
      s.worst_index = i;
    }
  }
  std::sort(abs_errors.begin(), abs_errors.end());
  const std::size_t n = abs_errors.size();
  s.median_abs = n % 2 == 1 ? abs_errors[n / 2] : (abs_errors[n / 2 - 1] + abs_errors[n / 2]) / 2;
  const std::size_t rank = (9 * n + 9) / 10;  // ceil(0.9 n) in integers, >= 1
  s.p90_abs = abs_errors[rank - 1];
  return s;
}

nlohmann::json rel_error_summary_json(const RelErrorSummary& s) {
  return {{"count", s.count},
          {"median_abs_rel_error", s.median_abs},
          {"p90_abs_rel_error", s.p90_abs},
          {"worst_abs_rel_error", s.worst_abs}};
}

}  // namespace meshsim
