#include "sim/plan/plan.hpp"

#include <catch2/catch.hpp>
#include <functional>

using namespace meshsim;

namespace {
std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const InputError& e) {
    return e.what();
  }
  return "(no error)";
}
}  // namespace

TEST_CASE("plan: mesh shapes parse as data x model (x model2)", "[plan]") {
  MeshShape two = parse_mesh("256x4", {"--mesh", "", ""});
  CHECK(two.data == 256);
  CHECK(two.model1 == 4);
  CHECK(two.model2 == 1);
  CHECK(two.model() == 4);
  CHECK(two.chips() == 1024);
  CHECK_FALSE(two.two_model_axes);
  CHECK(two.text() == "256x4");
  MeshShape three = parse_mesh("64x4x4", {"--mesh", "", ""});
  CHECK(three.two_model_axes);
  CHECK(three.model() == 16);
  CHECK(three.chips() == 1024);
  CHECK(three.text() == "64x4x4");
  for (const char* bad : {"256", "256x", "x4", "256x0", "1x2x3x4", "256x4 ", "-2x4", "axb"}) {
    INFO(bad);
    std::string message = error_of([&] { parse_mesh(bad, {"--mesh", "", ""}); });
    CHECK_THAT(message, Catch::Contains("--mesh"));
  }
}

TEST_CASE("plan: flags set every choice and an unknown value names its flag", "[plan]") {
  PlanFlags flags;
  flags.mesh = "128x8";
  flags.sharding = "column,fused_in_proj=row";
  flags.async = "off";
  flags.bidirectional = "off";
  flags.fsdp = "on";
  flags.remat = "selective";
  flags.optimizer = "adafactor";
  flags.master_weights = "off";
  flags.gradient_dtype = "fp32";
  flags.weight_grad_input = "regather";
  flags.microbatches = "4";
  flags.batch = "4096";
  Plan plan = apply_plan_flags(Plan{}, flags);
  CHECK(plan.mesh.chips() == 1024);
  CHECK(plan.sharding == Sharding::Column);
  CHECK(plan.sharding_for("fused_in_proj") == Sharding::Row);
  CHECK(plan.sharding_for("fused_out_proj") == Sharding::Column);
  CHECK_FALSE(plan.async_collective_matmul);
  CHECK_FALSE(plan.bidirectional);
  CHECK(plan.fsdp);
  CHECK(plan.remat == Remat::Selective);
  CHECK(plan.optimizer.kind == OptimizerKind::Adafactor);
  CHECK_FALSE(plan.optimizer.master_weights_fp32);
  CHECK(plan.gradient_dtype == GradientDtype::Fp32);
  CHECK(plan.weight_grad_input == WeightGradInput::Regather);
  CHECK(plan.microbatches == 4);
  CHECK(plan.global_batch == 4096);

  struct Case {
    PlanFlags flags;
    const char* flag;
    const char* allowed;
  };
  auto with = [](auto setter) {
    PlanFlags f;
    setter(f);
    return f;
  };
  std::vector<Case> cases{
      {with([](PlanFlags& f) { f.async = "maybe"; }), "--async", "on, off"},
      {with([](PlanFlags& f) { f.fsdp = "yes"; }), "--fsdp", "on, off"},
      {with([](PlanFlags& f) { f.remat = "partial"; }), "--remat", "none, full, selective"},
      {with([](PlanFlags& f) { f.optimizer = "lamb"; }), "--optimizer", "adam, adafactor, sgd"},
      {with([](PlanFlags& f) { f.sharding = "diagonal"; }), "--sharding", "auto, row, column"},
      {with([](PlanFlags& f) { f.sharding = "auto,row"; }), "--sharding", "LINEAR=CHOICE"},
      {with([](PlanFlags& f) { f.microbatches = "0"; }), "--microbatches", "1 to 1048576"},
      {with([](PlanFlags& f) { f.batch = "12q"; }), "--batch", "not a count"},
      {with([](PlanFlags& f) { f.batch = "010"; }), "--batch", "leading zero"},
      {with([](PlanFlags& f) { f.fsdp = "true"; }), "--fsdp", "did you mean 'on'?"},
      {with([](PlanFlags& f) { f.gradient_dtype = "fp16"; }), "--grad-dtype", "bf16, fp32"},
      {with([](PlanFlags& f) { f.weight_grad_input = "drop"; }), "--weight-grad-input",
       "keep, regather"},
  };
  for (const auto& c : cases) {
    INFO(c.flag);
    std::string message = error_of([&] { apply_plan_flags(Plan{}, c.flags); });
    CHECK_THAT(message, Catch::Contains(c.flag));
    CHECK_THAT(message, Catch::Contains(c.allowed));
  }
}

TEST_CASE("plan: flags override a file's choices and keep the rest", "[plan]") {
  Plan base;
  base.remat = Remat::Full;
  base.fsdp = true;
  PlanFlags flags;
  flags.fsdp = "off";
  Plan plan = apply_plan_flags(base, flags);
  CHECK_FALSE(plan.fsdp);
  CHECK(plan.remat == Remat::Full);
  CHECK(plan.site("fsdp").file == "--fsdp");
}
