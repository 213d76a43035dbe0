#pragma once
// check_same asserts that two simulated steps (a reduced run and the full one) agree field by
// field; simulate_every_chip and run_three_ways give the runs to compare.
#include <algorithm>
#include <catch2/catch.hpp>
#include <cmath>
#include <cstddef>
#include <string>

#include "sim/execution/step.hpp"
#include "sim/plan/plan.hpp"

namespace meshsim::testing {

// A finalized plan of `mesh` and global `batch`, every other choice the default.
inline Plan plan_of(const ModelConfig& model, const HardwareProfile& hw, const std::string& mesh,
                    const std::string& batch) {
  PlanFlags f;
  f.mesh = mesh;
  f.batch = batch;
  return finalize_plan(apply_plan_flags(Plan{}, f), model, hw, 0);
}

// Times are integer picoseconds in the engine, so they must match exactly; totals summed over
// chips (replica 0's times the replica count) may differ in the last bits of a double.
inline void check_same(const execution::StepResult& fast, const execution::StepResult& full) {
  auto near = [](double a, double b) {
    return std::abs(a - b) <= 1e-12 * std::max(1.0, std::abs(b));
  };
  CHECK(fast.step_time_s == full.step_time_s);
  CHECK(fast.compute_only_s == full.compute_only_s);
  CHECK(fast.lower_bound_s == full.lower_bound_s);
  CHECK(fast.model_axis.exposed_s == full.model_axis.exposed_s);
  CHECK(fast.data_axis.exposed_s == full.data_axis.exposed_s);
  CHECK(near(fast.model_axis.bytes_sent_per_chip, full.model_axis.bytes_sent_per_chip));
  CHECK(near(fast.data_axis.bytes_sent_per_chip, full.data_axis.bytes_sent_per_chip));
  CHECK(near(fast.executed_flop, full.executed_flop));
  CHECK(near(fast.hfu, full.hfu));
  CHECK(fast.mfu == full.mfu);
  CHECK(fast.transfers == full.transfers);
  for (std::size_t i = 0; i < full.bytes_per_link_class.size(); ++i) {
    CHECK(near(fast.bytes_per_link_class[i], full.bytes_per_link_class[i]));
    CHECK(near(fast.link_utilization[i], full.link_utilization[i]));
  }
  CHECK(fast.slowest.chip == full.slowest.chip);
  CHECK(fast.slowest.compute_s == full.slowest.compute_s);
  CHECK(fast.slowest.exposed_model_s == full.slowest.exposed_model_s);
  CHECK(fast.slowest.exposed_data_s == full.slowest.exposed_data_s);
  CHECK(fast.bottleneck == full.bottleneck);
  REQUIRE(fast.linears.size() == full.linears.size());
  for (std::size_t i = 0; i < full.linears.size(); ++i) {
    CHECK(fast.linears[i].forward_exposed_s == full.linears[i].forward_exposed_s);
    CHECK(fast.linears[i].backward_exposed_s == full.linears[i].backward_exposed_s);
    CHECK(fast.linears[i].forward_comm_s == full.linears[i].forward_comm_s);
    CHECK(fast.linears[i].backward_comm_s == full.linears[i].backward_comm_s);
    CHECK(fast.linears[i].bytes_per_layer == full.linears[i].bytes_per_layer);
  }
}

// The step with every chip simulated (`meshsim run --all-chips`): what a reduced run must equal.
inline execution::StepResult simulate_every_chip(const ModelConfig& model,
                                                 const HardwareProfile& hw, const Plan& plan,
                                                 const execution::TraceOptions& trace = {}) {
  execution::StepOptions all;
  all.replica_symmetry = false;
  return execution::simulate_step(model, hw, plan, trace, all);
}

// One plan simulated three ways: with every reduction that applies, with every chip, and with
// `without` (one reduction switched off).
struct ThreeWays {
  execution::StepResult fast, full, without;
};
inline ThreeWays run_three_ways(const ModelConfig& model, const HardwareProfile& hw,
                                const Plan& plan, const execution::StepOptions& without,
                                const execution::TraceOptions& trace = {}) {
  return {execution::simulate_step(model, hw, plan, trace),
          simulate_every_chip(model, hw, plan, trace),
          execution::simulate_step(model, hw, plan, trace, without)};
}

}  // namespace meshsim::testing
