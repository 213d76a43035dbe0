// The plan choices of issue 12 (items 3, 5, 6): attention kernel, model-axis activation layout and
// FSDP gradient sync. Parsing (flags and plan files, strict), memory against closed forms, and the
// model-axis moves of replicated activations.
#include <catch2/catch.hpp>
#include <string>

#include "sim/plan/memory.hpp"
#include "sim/plan/sharding.hpp"
#include "tests/cli_runner.hpp"
#include "tests/sim/plan/fixtures.hpp"

using namespace meshsim;

namespace {

Plan finalized(PlanFlags f) {
  return finalize_plan(apply_plan_flags(Plan{}, f), test::vit22b(), test::vit22b_linears(),
                       test::tpu_v4(), 0);
}

MemoryBreakdown memory(PlanFlags f) {
  return memory_per_chip(test::vit22b(), test::vit22b_linears(), test::vit22b_params(),
                         finalized(f), test::tpu_v4().chip.hbm_bytes);
}

PlanFlags base(const char* mesh, const char* remat = "none", const char* mb = "1") {
  PlanFlags f;
  f.mesh = mesh;
  f.fsdp = "on";
  f.remat = remat;
  f.microbatches = mb;
  return f;
}

std::string error_of(const PlanFlags& f) {
  try {
    finalized(f);
  } catch (const InputError& e) {
    return e.what();
  }
  return "";
}

// This chip's model shard of one ViT-22B layer's parameters: weight matrices plus biases and norms
// (fixtures.hpp), over the model axis k.
double layer_params(double k) {
  return (452984832.0 + 24576 + 6144 + 6144 + 2 * 128) / k;
}

}  // namespace

TEST_CASE("plan choices: defaults, flags and their names", "[plan][choices]") {
  const Plan d = finalized(base("256x4"));
  CHECK(d.attention == AttentionKernel::Unfused);
  CHECK(d.activation_layout == ActivationLayout::Sharded);
  CHECK(d.grad_sync == GradSync::PerMicrobatch);
  PlanFlags f = base("256x4");
  f.attention = "flash";
  f.activation_layout = "replicated";
  f.grad_sync = "last";
  const Plan p = finalized(f);
  CHECK(p.attention == AttentionKernel::Flash);
  CHECK(p.activation_layout == ActivationLayout::Replicated);
  CHECK(p.grad_sync == GradSync::Last);
  CHECK(std::string(to_string(p.attention)) == "flash");
  CHECK(std::string(to_string(p.activation_layout)) == "replicated");
  CHECK(std::string(to_string(p.grad_sync)) == "last");

  struct Bad {
    PlanFlags flags;
    const char* flag;
    const char* allowed;
  };
  auto with = [](auto set) {
    PlanFlags g;
    set(g);
    return g;
  };
  for (const auto& c : std::vector<Bad>{
           {with([](PlanFlags& g) { g.attention = "fused"; }), "--attention", "unfused, flash"},
           {with([](PlanFlags& g) { g.activation_layout = "full"; }), "--activation-layout",
            "sharded, replicated"},
           {with([](PlanFlags& g) { g.grad_sync = "first"; }), "--grad-sync",
            "per-microbatch, last"}}) {
    INFO(c.flag);
    std::string message;
    try {
      apply_plan_flags(Plan{}, c.flags);
    } catch (const InputError& e) {
      message = e.what();
    }
    CHECK_THAT(message, Catch::Contains(c.flag) && Catch::Contains(c.allowed));
  }
}

TEST_CASE("plan choices: plan files accept the fields strictly", "[plan][choices]") {
  const Plan p = parse_plan_json(
      R"({"schema": "meshsim.plan/v1", "mesh": "256x4", "attention": "flash",
          "activation_layout": "replicated", "grad_sync": "last"})",
      "choices.json");
  CHECK(p.attention == AttentionKernel::Flash);
  CHECK(p.activation_layout == ActivationLayout::Replicated);
  CHECK(p.grad_sync == GradSync::Last);
  for (const char* field : {"attention", "activation_layout", "grad_sync"}) {
    INFO(field);
    const std::string text =
        std::string(R"({"schema": "meshsim.plan/v1", ")") + field + R"(": "sometimes"})";
    std::string message;
    try {
      parse_plan_json(text, "bad.json");
    } catch (const InputError& e) {
      message = e.what();
    }
    CHECK_THAT(message, Catch::Contains("bad.json") && Catch::Contains(field) &&
                            Catch::Contains("sometimes"));
  }
  // The CLI prints one line naming the field and exits 2.
  const std::string dir = testing::scratch_dir("plan-choices");
  const std::string path = testing::write_scratch_file(
      dir, "bad.json", R"({"schema": "meshsim.plan/v1", "grad_sync": "never"})");
  const auto r = testing::run_meshsim("run --model vit-b16 --hardware tpu-v4 --plan " + path);
  CHECK(r.exit_code == 2);
  CHECK_THAT(r.err, Catch::Contains("grad_sync") && Catch::Contains("per-microbatch, last"));
}

TEST_CASE("plan choices: grad sync memory against its closed form", "[plan][choices][grad_sync]") {
  // ViT-22B 128x8 FSDP, 8 microbatches, bf16 gradients: per-microbatch holds one layer's model
  // shard before its reduce-scatter; last holds all 48 layers' until the last microbatch.
  PlanFlags f = base("128x8", "none", "8");
  const auto per_mb = memory(f);
  f.grad_sync = "last";
  const auto last = memory(f);
  const double layer = layer_params(8);
  CHECK(per_mb.gradient_buffer_bytes == Approx(2 * layer));
  CHECK(last.gradient_buffer_bytes == Approx(48 * 2 * layer));
  CHECK(last.total_bytes - per_mb.total_bytes == Approx(47 * 2 * layer));
  CHECK(last.total_bytes - per_mb.total_bytes > 5e9);  // the 5 GB the old model left out
  // With fp32 gradients, twice that; with one microbatch, the two are the same step.
  f.gradient_dtype = "fp32";
  CHECK(memory(f).gradient_buffer_bytes == Approx(48 * 4 * layer));
  PlanFlags one = base("128x8", "none", "1");
  one.grad_sync = "last";
  CHECK(memory(one).gradient_buffer_bytes == Approx(2 * layer));
  // Without FSDP the unsharded gradient is the accumulator: no buffer either way.
  PlanFlags replicated = base("128x8", "full", "8");
  replicated.fsdp = "off";
  replicated.grad_sync = "last";
  CHECK(memory(replicated).gradient_buffer_bytes == 0);
}

TEST_CASE("plan choices: FlashAttention keeps no T x T scores", "[plan][choices][flash]") {
  for (const char* remat : {"none", "selective", "full"}) {
    INFO(remat);
    PlanFlags f = base("256x4", remat);
    const auto unfused = memory(f);
    f.attention = "flash";
    const auto flash = memory(f);
    // Per token on the chip: heads x tokens / k softmax outputs (bf16) replaced by one fp32
    // log-sum-exp per head (heads / k x 4 bytes). Kept for all 48 layers with remat none,
    // rebuilt for one layer otherwise.
    const double tokens = 256.0 * 256.0;
    const double per_layer = (2 * 48.0 * 256 / 4 - 4 * 48.0 / 4) * tokens;
    const double layers = std::string(remat) == "none" ? 48 : 1;
    CHECK(unfused.activations_bytes - flash.activations_bytes == Approx(layers * per_layer));
    bool has_softmax = false;
    for (const auto& a : flash.layer_activations)
      has_softmax = has_softmax || a.name == "softmax.output";
    CHECK_FALSE(has_softmax);
  }
}

TEST_CASE("plan choices: replicated activations hold full-width boundary tensors",
          "[plan][choices][layout]") {
  const double d = 6144;
  for (std::int64_t k : {2, 4, 8}) {
    const std::string mesh = std::to_string(1024 / k) + "x" + std::to_string(k);
    INFO(mesh);
    const double tokens = 65536.0 / static_cast<double>(1024 / k) * 256;  // per chip
    for (const char* remat : {"none", "full"}) {
      PlanFlags f = base(mesh.c_str(), remat);
      const auto sharded = memory(f);
      f.activation_layout = "replicated";
      const auto replicated = memory(f);
      // The layer input (kept by every remat policy) is D wide instead of D/k; the norm output is
      // the gathered input either way (keep), the rest is sharded the same way.
      const double kd = static_cast<double>(k);
      CHECK(replicated.activations_bytes - sharded.activations_bytes ==
            Approx(48 * 2 * (d - d / kd) * tokens));
      CHECK(replicated.total_bytes - sharded.total_bytes == Approx(48 * 2 * (d - d / kd) * tokens));
    }
  }
}

TEST_CASE("plan choices: replicated activations all-reduce as many bytes as sharded ones move",
          "[plan][choices][layout]") {
  for (std::int64_t k : {2, 4, 8}) {
    const std::string mesh = std::to_string(1024 / k) + "x" + std::to_string(k);
    INFO(mesh);
    PlanFlags f = base(mesh.c_str());
    const auto sharded = resolve_sharding(test::vit22b_linears(), finalized(f));
    f.activation_layout = "replicated";
    const auto replicated = resolve_sharding(test::vit22b_linears(), finalized(f));
    const double share = static_cast<double>(k - 1) / static_cast<double>(k);
    double sharded_total = 0, replicated_total = 0;
    for (std::size_t i = 0; i < sharded.size(); ++i) {
      sharded_total += sharded[i].forward_bytes_per_token + sharded[i].backward_bytes_per_token;
      replicated_total +=
          replicated[i].forward_bytes_per_token + replicated[i].backward_bytes_per_token;
    }
    // all-reduce = reduce-scatter + all-gather: per token, 4 moves of D (k-1)/k bf16 either way.
    CHECK(sharded_total == Approx(4 * 2 * 6144 * share));
    CHECK(replicated_total == Approx(sharded_total));
    // Megatron's pattern: the input projection moves nothing forward and all-reduces its input
    // gradient; the output projection all-reduces its output and moves nothing backward.
    const auto& in = replicated[0];
    const auto& out = replicated[1];
    CHECK(in.forward.empty());
    REQUIRE(in.backward_input.size() == 1);
    CHECK(in.backward_input[0].kind == MoveKind::AllReduce);
    CHECK(in.backward_input[0].elements_per_token == Approx(2 * 6144 * share));
    CHECK(in.saved_input_elements_per_token == 6144);
    REQUIRE(out.forward.size() == 1);
    CHECK(out.forward[0].kind == MoveKind::AllReduce);
    CHECK(out.backward_input.empty());
    CHECK(out.weight_cols == (6144 + 24576) / k);
  }
  // A sharding that contradicts the pattern is rejected, naming the field.
  PlanFlags f = base("256x4");
  f.activation_layout = "replicated";
  f.sharding = "auto,fused_in_proj=column";
  CHECK_THAT(error_of(f), Catch::Contains("activation_layout") && Catch::Contains("fused_in_proj"));
}
