#include "sim/validate/error_summary.hpp"

#include <catch2/catch.hpp>

using namespace meshsim;

TEST_CASE("error summary: median, nearest-rank p90 and worst of |error|", "[validate]") {
  // |errors| 0.01 .. 0.10 in a shuffled order with signs.
  const std::vector<double> e{-0.05, 0.01, 0.10, -0.02, 0.07, 0.03, -0.09, 0.04, 0.06, -0.08};
  const RelErrorSummary s = summarize_rel_errors(e);
  CHECK(s.count == 10);
  CHECK(s.median_abs == Approx(0.055));  // mean of 0.05 and 0.06
  CHECK(s.p90_abs == Approx(0.09));      // the 9th of 10
  CHECK(s.worst_abs == Approx(0.10));
  CHECK(s.worst_index == 2);
  const nlohmann::json j = rel_error_summary_json(s);
  CHECK(j["count"] == 10);
  CHECK(j["p90_abs_rel_error"].get<double>() == Approx(0.09));
  // Odd count: the middle one; one row: everything is that row.
  CHECK(summarize_rel_errors({0.3, -0.1, 0.2}).median_abs == Approx(0.2));
  const RelErrorSummary one = summarize_rel_errors({-0.4});
  CHECK(one.median_abs == Approx(0.4));
  CHECK(one.p90_abs == Approx(0.4));
  CHECK(summarize_rel_errors({}).count == 0);
}
