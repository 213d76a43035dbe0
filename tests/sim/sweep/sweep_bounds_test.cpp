// Bounds on a sweep's work (issue 17 items 7 and 10, docs/limits.md "Sweep work").
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>
#include <string>

#include "common/error.hpp"
#include "sim/execution/step.hpp"
#include "sim/limits.hpp"
#include "sim/sweep/sweep.hpp"
#include "tests/cli_runner.hpp"

using namespace meshsim;

namespace {

sweep::SweepOptions small_sweep() {
  sweep::SweepOptions o;
  o.chips = 64;
  o.top = 2;
  o.threads = 1;
  o.space.global_batches = {4096};
  o.space.remats = {Remat::None, Remat::Full};
  o.space.max_microbatches = 4;
  return o;
}

}  // namespace

TEST_CASE("sweep: the estimate of a step's events is close to the events simulated",
          "[sweep][limits]") {
  const auto m = load_model("vit-b16");
  const auto hw = load_hardware("tpu-v4");
  const auto result = sweep::run_sweep(m, hw, small_sweep());
  REQUIRE(result.estimated_events > 0);
  for (const auto& ranked : result.top) {
    const double estimate = execution::estimate_step_events(m, hw, ranked.plan);
    // An estimate (docs/limits.md "Training steps"): within a factor 2 of the events run.
    const auto events = static_cast<double>(ranked.result.events);
    CHECK(estimate >= 0.5 * events);
    CHECK(estimate <= 2.0 * events);
    CHECK(estimate <= result.estimated_events);
  }
}

TEST_CASE("sweep: --max-seconds stops cleanly with the plans simulated so far, marked partial",
          "[sweep][limits]") {
  const auto m = load_model("vit-b16");
  const auto hw = load_hardware("tpu-v4");
  const auto full = sweep::run_sweep(m, hw, small_sweep());
  CHECK_FALSE(full.partial);
  CHECK(full.unfinished == 0);
  // A budget long past: the same result as none at all.
  auto generous = small_sweep();
  generous.max_seconds = 3600;
  const auto same = sweep::run_sweep(m, hw, generous);
  CHECK_FALSE(same.partial);
  REQUIRE(same.top.size() == full.top.size());
  for (std::size_t i = 0; i < full.top.size(); ++i)
    CHECK(same.top[i].result.step_time_s == full.top[i].result.step_time_s);
  // A budget already spent: nothing new starts; every candidate is unfinished, nothing is lost.
  auto spent = small_sweep();
  spent.max_seconds = 1e-12;
  const auto partial = sweep::run_sweep(m, hw, spent);
  CHECK(partial.partial);
  CHECK(partial.top.empty());
  CHECK(partial.unfinished + partial.pruned + partial.simulated == partial.fitting);
  CHECK(partial.unfinished == partial.fitting);
  CHECK(partial.considered == full.considered);
}

TEST_CASE("sweep: the partial marker reaches the JSON, and the flag is a count",
          "[sweep][limits][cli]") {
  const std::string args =
      "sweep --model vit-b16 --hardware tpu-v4 --chips 64 --batch 4096 --remats none "
      "--max-microbatches 2 --json";
  const auto plain = meshsim::testing::run_meshsim(args);
  REQUIRE(plain.exit_code == 0);
  const auto j = nlohmann::json::parse(plain.out);
  CHECK_FALSE(j.contains("partial"));  // outputs without the flag are unchanged
  const auto budget = meshsim::testing::run_meshsim(args + " --max-seconds 3600");
  REQUIRE(budget.exit_code == 0);
  CHECK(budget.out == plain.out);
  const auto bad = meshsim::testing::run_meshsim(args + " --max-seconds 0.5");
  CHECK(bad.exit_code == 2);
  CHECK(bad.err.find("--max-seconds") != std::string::npos);
}

TEST_CASE("sweep: a batch range doubles to its end and stops, however large",
          "[sweep][limits][cli]") {
  // It used to double past 2^63 forever (issue 17 item 7); now both ends are bounded.
  const auto r = meshsim::testing::run_meshsim(
      "sweep --model vit-b16 --chips 8 --batch 1:9223372036854775807");
  CHECK(r.exit_code == 2);
  CHECK(r.out.empty());
  CHECK(r.err.find("--batch") != std::string::npos);
  CHECK(r.err.find("1099511627776") != std::string::npos);
}
