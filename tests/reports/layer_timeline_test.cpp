// The timeline of one layer on one chip (sim/report/layer_timeline.hpp, issue 16 item 1): traced
// with replica symmetry kept, it is the timeline of a trace that simulates every chip; its
// compute slices add up to the step's per-linear and per-layer compute figures; tracing it
// changes nothing else in the step.
#include <catch2/catch.hpp>
#include <cmath>
#include <map>
#include <nlohmann/json.hpp>
#include <string>

#include "hardware_profiles/hardware.hpp"
#include "models/model.hpp"
#include "sim/execution/step.hpp"
#include "sim/plan/plan.hpp"
#include "sim/report/layer_timeline.hpp"
#include "tests/sim/execution/random_plan.hpp"

using namespace meshsim;
using nlohmann::json;

namespace {

bool near(double a, double b) {
  return std::abs(a - b) <= 1e-9 * std::max(1e-6, std::abs(b));
}

}  // namespace

TEST_CASE("layer timeline: with replica symmetry it is the timeline of a full trace",
          "[report][layer_timeline]") {
  testing::PlanDraws draws(20261201, {"tpu-v4", "h100-sxm", "tpu-v5e"}, 2, 3);
  int symmetric = 0;
  for (int draw = 0; draw < 16; ++draw) {
    const auto p = draws.next();
    INFO(testing::PlanDraws::describe(p));
    const ModelConfig model = load_model(p.model);
    const HardwareProfile hw = load_hardware(p.hardware);
    const Plan plan = finalize_plan(apply_plan_flags(Plan{}, p.flags), model, hw, 0);
    const auto plain = execution::simulate_step(model, hw, plan);
    const auto fast = execution::simulate_step(model, hw, plan, report::layer_timeline_trace());
    execution::StepOptions every;
    every.replica_symmetry = false;
    const auto full =
        execution::simulate_step(model, hw, plan, report::layer_timeline_trace(), every);
    INFO("symmetry " << fast.symmetry);
    // Tracing one chip keeps the step as it is untraced: the same symmetry, chips and events.
    CHECK(fast.symmetry == plain.symmetry);
    CHECK(fast.simulated_chips == plain.simulated_chips);
    CHECK(fast.events == plain.events);
    CHECK(fast.step_time_s == plain.step_time_s);
    CHECK(full.symmetry.rfind("off", 0) == 0);
    symmetric += plain.symmetry.rfind("on", 0) == 0 ? 1 : 0;
    const json a = report::layer_timeline_json(fast);
    const json b = report::layer_timeline_json(full);
    REQUIRE(a.is_object());
    if (a != b) {
      // The first difference, readably.
      const json patch = json::diff(a, b);
      INFO(patch.dump().substr(0, 1500));
      CHECK(a == b);
    }
  }
  CHECK(symmetric >= 8);
}

TEST_CASE("layer timeline: its compute slices add up to the step's per-layer compute",
          "[report][layer_timeline]") {
  testing::PlanDraws draws(20261202, {"tpu-v4", "h100-sxm"}, 2, 3);
  for (int draw = 0; draw < 12; ++draw) {
    auto p = draws.next();
    INFO(testing::PlanDraws::describe(p));
    const ModelConfig model = load_model(p.model);
    const HardwareProfile hw = load_hardware(p.hardware);
    const Plan plan = finalize_plan(apply_plan_flags(Plan{}, p.flags), model, hw, 0);
    const auto r = execution::simulate_step(model, hw, plan, report::layer_timeline_trace());
    const json tl = report::layer_timeline_json(r);
    REQUIRE(tl.is_object());
    CHECK(tl.at("chip") == r.trace_chips.at(0).chip);
    CHECK(tl.at("microbatch").get<std::int64_t>() == plan.microbatches - 1);
    REQUIRE(tl.at("passes").size() == 2);
    // Seconds of compute per (pass group, op): forward = forward + recompute.
    std::map<std::pair<std::string, std::string>, double> busy;
    double layer_ops = 0;
    for (const auto& pass : tl.at("passes")) {
      double previous_end = -1e300;
      const double span = pass.at("span_s");
      for (const auto& e : pass.at("events")) {
        const double start = e.at("start_s"), duration = e.at("duration_s");
        CHECK(duration >= 0);
        CHECK(start + duration <= span * (1 + 1e-12) + 1e-15);
        // Absolute times lie inside the step.
        CHECK(pass.at("origin_s").get<double>() + start >= -1e-12);
        CHECK(pass.at("origin_s").get<double>() + start + duration <= r.step_time_s + 1e-12);
        if (e.at("track") != "compute" || e.at("category") == "wait")
          continue;
        // One compute stream: its slices never overlap, in time order.
        CHECK(start >= previous_end - 1e-12);
        previous_end = start + duration;
        std::string op = e.at("op");
        if (op == "layer ops") {
          layer_ops += duration;
          continue;
        }
        const auto acc = op.find(" accumulate");
        if (acc != std::string::npos)
          op.erase(acc);
        // The step counts the recompute (drawn with the backward pass) as forward work.
        const std::string group = e.at("pass") == "backward" ? "backward" : "forward";
        busy[{group, op}] += duration;
      }
    }
    // The step's per-linear figures are per layer and microbatch, the forward one with its
    // recompute.
    for (const auto& l : r.linears) {
      INFO(l.name);
      CHECK(near(busy[{"forward", l.name}], l.forward_compute_s));
      CHECK(near(busy[{"backward", l.name}], l.backward_compute_s));
    }
    CHECK(layer_ops > 0);
  }
}
