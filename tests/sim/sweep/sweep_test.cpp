// Sweep: the lower bound holds against the simulator, the best plan beats hand-made plans, memory
// rejections really overflow, and the output does not depend on the thread count.
#include "sim/sweep/sweep.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "sim/execution/placement.hpp"
#include "sim/execution/step.hpp"
#include "tests/cli_runner.hpp"

using namespace meshsim;

namespace {

Plan make_plan(const ModelConfig& m, const HardwareProfile& hw, const std::string& mesh,
               const std::string& async, const std::string& fsdp, const std::string& remat,
               const std::string& mb, const std::string& batch) {
  PlanFlags f;
  f.mesh = mesh;
  f.async = async;
  f.fsdp = fsdp;
  f.remat = remat;
  f.microbatches = mb;
  f.batch = batch;
  return finalize_plan(apply_plan_flags(Plan{}, f), m, hw, 0);
}

}  // namespace

TEST_CASE("step lower bound never exceeds the simulated step", "[sweep]") {
  const auto m = load_model("vit-b16");
  const auto hw = load_hardware("tpu-v4");
  const std::vector<Plan> plans = {
      make_plan(m, hw, "16x4", "on", "off", "none", "1", "1024"),
      make_plan(m, hw, "16x4", "off", "off", "full", "2", "1024"),
      make_plan(m, hw, "32x2", "on", "on", "selective", "1", "1024"),
      make_plan(m, hw, "64x1", "on", "on", "none", "4", "1024"),
      make_plan(m, hw, "8x4", "off", "on", "none", "1", "256"),
  };
  for (const auto& p : plans) {
    const auto r = execution::simulate_step(m, hw, p);
    const auto b = sweep::step_lower_bound(m, hw, p, r.memory);
    INFO(sweep::plan_summary(p));
    CHECK(b.step_s <= r.step_time_s);
    // The compute part reproduces the simulator's compute stream (same ops, same cost model);
    // with async on the step may chunk a linear into a collective matmul (more kernels and the
    // fp32 accumulator adds), which the bound counts as one matmul (docs/sweep.md "Pruning").
    if (p.async_collective_matmul && p.mesh.model() > 1) {
      CHECK(b.compute_s <= r.compute_only_s * (1 + 1e-9));
    } else {
      CHECK(b.compute_s == Approx(r.compute_only_s).epsilon(1e-6));
    }
  }
}

TEST_CASE("the sweep's best plan is never worse than plans run by hand", "[sweep]") {
  const auto m = load_model("vit-b16");
  const auto hw = load_hardware("tpu-v4");
  sweep::SweepOptions o;
  o.chips = 64;
  o.top = 2;
  o.threads = 2;
  o.space.global_batches = {4096};
  const auto result = sweep::run_sweep(m, hw, o);
  REQUIRE(!result.top.empty());
  const double best = result.top.front().result.tokens_per_s;
  for (std::size_t i = 1; i < result.top.size(); ++i)
    CHECK(result.top[i].result.tokens_per_s <= best);
  const std::vector<Plan> hand = {
      make_plan(m, hw, "64x1", "on", "off", "none", "1", "4096"),
      make_plan(m, hw, "16x4", "on", "off", "none", "1", "4096"),
      make_plan(m, hw, "16x4", "off", "on", "selective", "2", "4096"),
      make_plan(m, hw, "32x2", "on", "on", "full", "1", "4096"),
  };
  for (const auto& p : hand) {
    const auto r = execution::simulate_step(m, hw, p);
    INFO(sweep::plan_summary(p));
    if (r.memory.fits)
      CHECK(best >= r.tokens_per_s);
  }
  CHECK(result.considered ==
        result.fitting + result.rejected.at("model_axis_does_not_divide") +
            (result.rejected.count("memory") ? result.rejected.at("memory") : 0) +
            (result.rejected.count("batch_not_divisible")
                 ? result.rejected.at("batch_not_divisible")
                 : 0));
  CHECK(result.fitting == result.pruned + result.simulated);
}

TEST_CASE("plans rejected for memory really exceed the chip's memory", "[sweep]") {
  const auto m = load_model("vit-l16");
  const auto hw = load_hardware("tpu-v4");
  sweep::SweepSpace space;
  space.global_batches = {4096};
  const auto all = sweep::enumerate_plans(m, hw, 16, space);
  int checked = 0;
  for (const auto& e : all) {
    if (!e.reason.empty())
      continue;
    const auto mem = memory_per_chip(m, hw, e.plan);
    if (mem.fits)
      continue;
    CHECK(mem.total_bytes > hw.chip.hbm_bytes);
    if (checked++ < 1) {
      // ... and `meshsim run` of the same plan says so.
      const auto r = testing::run_meshsim(
          "run --model vit-l16 --hardware tpu-v4 --json --batch 4096 --mesh " + e.plan.mesh.text() +
          " --async " + (e.plan.async_collective_matmul ? "on" : "off") + " --fsdp " +
          (e.plan.fsdp ? "on" : "off") + " --remat " + to_string(e.plan.remat) +
          " --microbatches " + std::to_string(e.plan.microbatches));
      REQUIRE(r.exit_code == 0);
      const auto j = nlohmann::json::parse(r.out);
      CHECK(j["memory"]["fits"] == false);
      CHECK(r.err.find("does not fit") != std::string::npos);
    }
  }
  CHECK(checked > 0);
}

TEST_CASE("sweep output is identical for -j 1 and -j 2", "[sweep][cli]") {
  const std::string args =
      "sweep --model vit-b16 --hardware tpu-v4 --chips 64 --batch 4096 --top 3 --json";
  const auto a = testing::run_meshsim(args + " -j 1");
  const auto b = testing::run_meshsim(args + " -j 2");
  REQUIRE(a.exit_code == 0);
  REQUIRE(b.exit_code == 0);
  CHECK(a.out == b.out);
  // Progress goes to stderr even when it is not a terminal (issue 16 item 6), never to stdout.
  CHECK(a.err.find("sweep: enumerating") != std::string::npos);
  CHECK(a.out.find("sweep: ") == std::string::npos);
  const auto j = nlohmann::json::parse(a.out);
  CHECK(j["schema"] == "meshsim.sweep/v1");
  REQUIRE(j["plans"].size() == 3);
  for (std::size_t i = 0; i < j["plans"].size(); ++i) {
    const auto& p = j["plans"][i];
    CHECK(p["memory"]["fits"] == true);
    for (const char* key : {"mesh", "sharding", "async", "fsdp", "remat", "step_time_s", "mfu"})
      CHECK(p.contains(key));
    if (i > 0)
      CHECK(p["tokens_per_s"].get<double>() <= j["plans"][i - 1]["tokens_per_s"].get<double>());
  }
  CHECK(j["rejected"].is_object());
  CHECK(j["runner_up_lost"]["dominant"].is_string());
}

TEST_CASE("sweep rejects bad input with exit code 2", "[sweep][cli]") {
  CHECK(testing::run_meshsim("sweep --model vit-b16 --chips 0 --batch 64").exit_code == 2);
  CHECK(testing::run_meshsim("sweep --model vit-b16 --chips 64 --batch 1:x").exit_code == 2);
  CHECK(testing::run_meshsim("sweep --model vit-b16 --chips 64 --batch 64 --optimizers adamw")
            .exit_code == 2);
  CHECK(testing::run_meshsim("sweep --model vit-22b --hardware tpu-v4 --chips 8192").exit_code ==
        2);
}

TEST_CASE("sweep: two model axes and sequence parallelism are candidates, their bounds hold",
          "[sweep][two_axes][sequence_parallel]") {
  // ViT-22B (256 tokens) on 64 TPU v4: every k = k1 x k2 with k1 >= k2 >= 2 is enumerated
  // (synchronous only), and Megatron's layout with sequence parallelism beside the sharded one.
  const auto m = load_model("vit-22b");
  const auto hw = load_hardware("tpu-v4");
  sweep::SweepSpace space;
  space.global_batches = {256};
  space.remats = {Remat::Full};
  space.max_microbatches = 1;
  const auto all = sweep::enumerate_plans(m, hw, 64, space);
  int two_axes = 0, seq = 0;
  for (const auto& e : all) {
    if (!e.reason.empty())
      continue;
    const auto& p = e.plan;
    if (p.mesh.two_model_axes) {
      ++two_axes;
      CHECK(p.mesh.model1 >= p.mesh.model2);
      CHECK(p.mesh.model2 >= 2);
      CHECK_FALSE(p.async_collective_matmul);
      CHECK_FALSE(p.sequence_parallel);
    }
    if (p.sequence_parallel) {
      ++seq;
      CHECK(p.activation_layout == ActivationLayout::Replicated);
      CHECK(p.sharding == Sharding::Auto);
      CHECK(p.mesh.model() > 1);
      CHECK(m.tokens % p.mesh.model() == 0);
    }
  }
  CHECK(two_axes > 0);
  CHECK(seq > 0);
  sweep::SweepSpace off = space;
  off.two_model_axes = false;
  off.sequence_parallel = false;
  for (const auto& e : sweep::enumerate_plans(m, hw, 64, off)) {
    CHECK_FALSE(e.plan.mesh.two_model_axes);
    CHECK_FALSE(e.plan.sequence_parallel);
  }
  // The pruning bound stays below the simulated step for both kinds of plan; for synchronous
  // plans its compute part is the simulator's compute stream.
  PlanFlags f;
  f.batch = "256";
  f.remat = "none";
  for (const char* mesh : {"4x4x4", "8x4x2", "16x2x2"}) {
    f.mesh = mesh;
    f.async = "off";
    const Plan p = finalize_plan(apply_plan_flags(Plan{}, f), m, hw, 0);
    const auto r = execution::simulate_step(m, hw, p);
    const auto b = sweep::step_lower_bound(m, hw, p, r.memory);
    INFO(sweep::plan_summary(p));
    CHECK(b.step_s <= r.step_time_s);
    CHECK(b.compute_s == Approx(r.compute_only_s).epsilon(1e-6));
  }
  f.activation_layout = "replicated";
  f.sequence_parallel = "on";
  for (const char* async : {"on", "off"}) {
    f.mesh = "16x4";
    f.async = async;
    const Plan p = finalize_plan(apply_plan_flags(Plan{}, f), m, hw, 0);
    const auto r = execution::simulate_step(m, hw, p);
    const auto b = sweep::step_lower_bound(m, hw, p, r.memory);
    INFO(sweep::plan_summary(p));
    CHECK(b.step_s <= r.step_time_s);
    CHECK(b.compute_s <= r.compute_only_s * (1 + 1e-9));
  }
}

TEST_CASE("why_lost: names the dominant part once and each part's difference once", "[sweep]") {
  execution::StepResult best, second;
  best.step_time_s = 10;
  best.slowest.compute_s = 8;
  best.slowest.exposed_model_s = 1;
  best.slowest.exposed_data_s = 1;
  second = best;
  second.step_time_s = 10.5;
  second.slowest.exposed_data_s = 1.5;
  const auto w = sweep::why_lost(best, second);
  CHECK(w.dominant == "data-axis communication");
  CHECK(w.step_time_delta_s == Approx(0.5));
  INFO(w.summary);
  CHECK(w.summary.find("mostly data-axis communication") != std::string::npos);
  for (const char* part : {"compute ", "exposed model-axis ", "exposed data-axis "}) {
    const auto first = w.summary.find(part);
    REQUIRE(first != std::string::npos);
    CHECK(w.summary.find(part, first + 1) == std::string::npos);
  }
  // As fast: a tie by enumeration order.
  CHECK(sweep::why_lost(best, best).dominant == "tie");
}

TEST_CASE("step lower bound: model axes across NVLink nodes pay their blocks over the NICs",
          "[sweep]") {
  // On 32 H100 (8 per node): model2 of 2 across two nodes (every block over a NIC), model2 of 4
  // with 2 members per node, a model axis of 16 over two nodes, and a decoder; sync and async,
  // FSDP on and off. The bound stays below the simulated step, and where a group has one member
  // per node the NIC term raises it (a profile with 100x the NIC bandwidth bounds lower).
  const auto hw = load_hardware("h100-sxm");
  auto fast_nics = hw;
  fast_nics.gpu.nic_bandwidth_bytes_per_s *= 100;
  struct Case {
    std::string model, mesh, async, fsdp;
    bool one_per_node;
  };
  const std::vector<Case> cases = {
      {"vit-l16", "2x8x2", "off", "off", true}, {"vit-l16", "2x8x2", "on", "on", true},
      {"vit-l16", "2x4x4", "off", "on", false}, {"vit-l16", "2x16", "off", "off", false},
      {"vit-l16", "2x16", "on", "on", false},   {"llama3-8b", "2x8x2", "off", "on", true},
  };
  for (const auto& c : cases) {
    const auto m = load_model(c.model);
    const auto p =
        make_plan(m, hw, c.mesh, c.async, c.fsdp, "none", "1", c.model == "llama3-8b" ? "4" : "64");
    const auto r = execution::simulate_step(m, hw, p);
    const auto b = sweep::step_lower_bound(m, hw, p, r.memory);
    INFO(c.model << " " << sweep::plan_summary(p) << ": bound " << b.step_s << " s, simulated "
                 << r.step_time_s << " s");
    CHECK(b.step_s <= r.step_time_s);
    if (c.one_per_node)
      CHECK(b.step_s > sweep::step_lower_bound(m, fast_nics, p, r.memory).step_s);
    // With the machine: the NIC time of collective-matmul ring steps between nodes (async, one
    // model axis across nodes), still below the simulated step.
    const auto machine = execution::build_topology(hw, p);
    const auto with = sweep::step_lower_bound(m, hw, p, r.memory, &machine);
    INFO("with the machine: bound " << with.step_s << " s, NIC " << with.nic_s << " s");
    CHECK(with.step_s <= r.step_time_s);
    CHECK(with.step_s >= b.step_s);
    if (c.async == "off" || p.mesh.model2 > 1)
      CHECK(with.nic_s == 0);  // no ring steps: collectives only
  }
  // Where the step chunks the linears (enough tokens per microbatch), the boundary chips of a
  // model axis of 16 over two nodes send k - 1 half-blocks per move over their NIC: the ring
  // term binds, and stays below the simulated step.
  for (const auto& [name, batch] :
       std::vector<std::pair<std::string, std::string>>{{"vit-l16", "512"}, {"llama3-8b", "16"}}) {
    const auto m = load_model(name);
    const auto p = make_plan(m, hw, "2x16", "on", "on", "none", "1", batch);
    const auto r = execution::simulate_step(m, hw, p);
    const auto machine = execution::build_topology(hw, p);
    const auto b = sweep::step_lower_bound(m, hw, p, r.memory, &machine);
    INFO(name << " 2x16: bound " << b.step_s << " s (NIC " << b.nic_s << " s), simulated "
              << r.step_time_s << " s");
    CHECK(b.nic_s > 0);
    CHECK(b.step_s == Approx(b.nic_s).epsilon(1e-6));  // the bound is the NIC term
    CHECK(b.step_s <= r.step_time_s);
  }
}
