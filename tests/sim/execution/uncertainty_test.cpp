// Issue 13: the step-time band and the stack parameters inside the simulated step.
#include "sim/execution/uncertainty.hpp"

#include <catch2/catch.hpp>
#include <numeric>

#include "hardware_profiles/hardware.hpp"
#include "models/model.hpp"
#include "sim/execution/step.hpp"
#include "sim/plan/plan.hpp"

namespace {

using meshsim::FidelityComponent;
using meshsim::FidelityStatus;
using meshsim::HardwareProfile;

meshsim::execution::StepResult step(const HardwareProfile& hw, const char* model_name,
                                    const char* mesh, const char* batch, const char* fsdp = "") {
  const auto model = meshsim::load_model(model_name);
  meshsim::PlanFlags flags;
  flags.mesh = mesh;
  flags.batch = batch;
  flags.fsdp = fsdp;
  const auto plan =
      meshsim::finalize_plan(meshsim::apply_plan_flags(meshsim::Plan{}, flags), model, hw, 0);
  return meshsim::execution::simulate_step(model, hw, plan);
}

double busy_sum(const meshsim::execution::StepResult& r) {
  return std::accumulate(r.component_busy_s.begin(), r.component_busy_s.end(), 0.0);
}

}  // namespace

TEST_CASE("band: the compute stream's busy time is split among the components exactly",
          "[uncertainty]") {
  for (const char* hw_name : {"a100-sxm-80gb", "h100-sxm", "tpu-v4"}) {
    const auto hw = meshsim::load_hardware(hw_name);
    const auto r = step(hw, "vit-b16", "4x2", "256");
    INFO(hw_name);
    CHECK(busy_sum(r) == Approx(r.slowest.compute_s).epsilon(1e-6));
    CHECK(r.component_busy_s[static_cast<std::size_t>(FidelityComponent::Matmul)] > 0);
    CHECK(r.component_busy_s[static_cast<std::size_t>(FidelityComponent::MemoryOps)] > 0);
  }
}

TEST_CASE("band: closed form, one-sided assumed stack, never below the physical bound",
          "[uncertainty]") {
  auto hw = meshsim::load_hardware("h100-sxm");
  const auto r = step(hw, "vit-b16", "8x1", "512");
  for (auto& c : hw.fidelity.components)
    c = {FidelityStatus::Measured, 0.1};
  auto band = meshsim::execution::step_band(r, hw);
  const double shares =
      busy_sum(r) + r.slowest.exposed_model_s + r.slowest.exposed_data_s + r.step_time_s;
  CHECK(band.high_s - r.step_time_s == Approx(0.1 * shares));
  CHECK(band.low_s == Approx(std::max(r.step_time_s - 0.1 * shares, r.lower_bound_s)));
  CHECK(band.low_s >= r.lower_bound_s);
  // An assumed stack only adds time.
  hw.fidelity.of(FidelityComponent::Stack) = {FidelityStatus::Assumed, 0.35};
  band = meshsim::execution::step_band(r, hw);
  CHECK(band.components[4].low_s == 0);
  CHECK(band.components[4].high_s == Approx(0.35 * r.step_time_s));
  // No error anywhere: the band is the step.
  for (auto& c : hw.fidelity.components)
    c = {FidelityStatus::Measured, 0.0};
  band = meshsim::execution::step_band(r, hw);
  CHECK(band.low_s == r.step_time_s);
  CHECK(band.high_s == r.step_time_s);
  // Overlap is symmetric and a band overlaps itself.
  const auto a = meshsim::execution::step_band(r, meshsim::load_hardware("h100-sxm"));
  CHECK(meshsim::execution::bands_overlap(a, a));
  CHECK(meshsim::execution::bands_overlap(a, band) == meshsim::execution::bands_overlap(band, a));
}

TEST_CASE("stack: the launch gap adds linearly, the traffic factor scales memory-bound ops",
          "[uncertainty][stack]") {
  auto hw = meshsim::load_hardware("a100-sxm-80gb");
  const auto base = step(hw, "vit-b16", "1x1", "32");
  hw.cost.stack.launch_gap_s = 10e-6;
  const auto one = step(hw, "vit-b16", "1x1", "32");
  hw.cost.stack.launch_gap_s = 20e-6;
  const auto two = step(hw, "vit-b16", "1x1", "32");
  CHECK(one.step_time_s > base.step_time_s);
  // One chip, nothing to wait for: the step is its compute stream, linear in the gap.
  CHECK(two.step_time_s - one.step_time_s ==
        Approx(one.step_time_s - base.step_time_s).epsilon(1e-6));
  hw.cost.stack.launch_gap_s = 0;
  hw.cost.stack.memory_traffic_factor = 2;
  const auto doubled = step(hw, "vit-b16", "1x1", "32");
  const auto mem = static_cast<std::size_t>(FidelityComponent::MemoryOps);
  const auto mm = static_cast<std::size_t>(FidelityComponent::Matmul);
  CHECK(doubled.component_busy_s[mem] == Approx(2 * base.component_busy_s[mem]).epsilon(1e-9));
  CHECK(doubled.component_busy_s[mm] == base.component_busy_s[mm]);
}

TEST_CASE("stack: a slow input pipeline bounds the step; a deferred gradient reduction only adds",
          "[uncertainty][stack]") {
  auto hw = meshsim::load_hardware("a100-sxm-80gb");
  const auto base = step(hw, "vit-b16", "16x1", "256", "off");
  hw.cost.stack.input_time_per_image_s = 2e-3;
  const auto input = step(hw, "vit-b16", "16x1", "256", "off");
  CHECK(input.step_time_s == Approx(2e-3 * 256 / 16));
  CHECK(input.bottleneck == "input pipeline");
  hw.cost.stack.input_time_per_image_s = 0;
  hw.cost.stack.gradient_overlap = 0;
  const auto deferred = step(hw, "vit-b16", "16x1", "256", "off");
  CHECK(deferred.step_time_s > base.step_time_s);
  CHECK(deferred.data_axis.exposed_s > base.data_axis.exposed_s);
  // The same gradient bytes move, only later.
  CHECK(deferred.data_axis.bytes_sent_per_chip ==
        Approx(base.data_axis.bytes_sent_per_chip).epsilon(1e-6));
  hw.cost.stack.gradient_overlap = 0.5;
  const auto half = step(hw, "vit-b16", "16x1", "256", "off");
  CHECK(half.step_time_s >= base.step_time_s);
  CHECK(half.step_time_s <= deferred.step_time_s);
  CHECK(half.data_axis.bytes_sent_per_chip ==
        Approx(base.data_axis.bytes_sent_per_chip).epsilon(1e-3));
}
