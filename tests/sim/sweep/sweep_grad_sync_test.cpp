// The sweep and the FSDP gradient sync (issue 12 item 6): both strategies are enumerated, each is
// charged the memory of the program it simulates, and no ranked plan overflows HBM.
#include <catch2/catch.hpp>
#include <cmath>
#include <string>

#include "sim/execution/pipeline_memory.hpp"
#include "sim/execution/step.hpp"
#include "sim/sweep/sweep.hpp"

using namespace meshsim;

TEST_CASE("sweep: both gradient syncs are tried and every ranked plan fits", "[sweep][grad_sync]") {
  // ViT-H/14 on 16 TPU v5e (16 GB): memory rejects many plans, among them accumulated gradients.
  const auto m = load_model("vit-h14");
  const auto hw = load_hardware("tpu-v5e");
  sweep::SweepOptions o;
  o.chips = 16;
  o.top = 5;
  o.threads = 2;
  o.space.global_batches = {4096};
  const auto result = sweep::run_sweep(m, hw, o);
  REQUIRE(!result.top.empty());
  for (const auto& rp : result.top) {
    INFO(sweep::plan_summary(rp.plan));
    CHECK(rp.result.memory.fits);
    CHECK(rp.result.memory.total_bytes <= hw.chip.hbm_bytes);
    // The plan's memory as the step charges it (the largest stage's with a pipeline).
    CHECK(execution::largest_stage_memory(m, hw, rp.plan).total_bytes ==
          rp.result.memory.total_bytes);
  }

  // Every FSDP plan with microbatches comes in both syncs, differing in memory by exactly the
  // other layers' accumulated gradients.
  const auto all = sweep::enumerate_plans(m, hw, 16, o.space);
  const auto params = count_params(m);
  int pairs = 0;
  for (std::size_t i = 0; i + 1 < all.size(); ++i) {
    const auto& a = all[i];
    const auto& b = all[i + 1];
    if (!a.reason.empty() || b.plan.grad_sync != GradSync::Last)
      continue;
    REQUIRE(a.plan.grad_sync == GradSync::PerMicrobatch);
    REQUIRE(a.plan.fsdp);
    REQUIRE(a.plan.microbatches > 1);
    ++pairs;
    const auto ma = memory_per_chip(m, hw, a.plan);
    const auto mb = memory_per_chip(m, hw, b.plan);
    const double layer = static_cast<double>(params.transformer + params.biases_and_norms) /
                         static_cast<double>(m.depth) / static_cast<double>(a.plan.mesh.model());
    CHECK(mb.total_bytes - ma.total_bytes ==
          Approx(static_cast<double>(m.depth - 1) * 2.0 * layer));
  }
  CHECK(pairs > 0);
  CHECK(result.rejected.count("memory") == 1);
}

TEST_CASE("sweep: ViT-22B 128x8 FSDP with 8 microbatches on TPU v4 is charged its gradients",
          "[sweep][grad_sync]") {
  const auto m = load_model("vit-22b");
  const auto hw = load_hardware("tpu-v4");
  PlanFlags f;
  f.mesh = std::string("128x8");
  f.fsdp = std::string("on");
  f.remat = std::string("none");
  f.microbatches = std::string("8");
  const Plan per_mb = finalize_plan(apply_plan_flags(Plan{}, f), m, hw, 0);
  f.grad_sync = std::string("last");
  const Plan last = finalize_plan(apply_plan_flags(Plan{}, f), m, hw, 0);
  const auto rp = execution::simulate_step(m, hw, per_mb);
  const auto rl = execution::simulate_step(m, hw, last);
  // Accumulating all 48 layers' model-shard gradients (bf16) adds 47 x 2 x 56.6M bytes: the plan
  // no longer fits in 32 GiB. Reduce-scattering every microbatch fits but moves 7 more rounds of
  // gradients over the data axis.
  const auto params = count_params(m);
  const double layer = static_cast<double>(params.transformer + params.biases_and_norms) / 48 / 8;
  CHECK(rl.memory.total_bytes - rp.memory.total_bytes == Approx(47 * 2 * layer));
  CHECK_FALSE(rl.memory.fits);
  CHECK(rp.memory.fits);
  // One reduce-scatter of every layer per chip: the bf16 gradient padded to 2t = 256 bytes.
  const double padded = std::ceil(std::round(2 * layer) / 256) * 256;
  const double round = 48 * padded * 127 / 128;
  CHECK(rp.data_axis.bytes_sent_per_chip - rl.data_axis.bytes_sent_per_chip ==
        Approx(7 * round).epsilon(1e-9));

  // In the sweep's space for 1024 chips, this "last" plan and others like it are rejected for
  // memory while their per-microbatch twins fit (no simulation needed: memory only).
  sweep::SweepSpace space;
  const auto all = sweep::enumerate_plans(m, hw, 1024, space);
  int only_per_microbatch_fits = 0;
  bool found = false;
  for (std::size_t i = 0; i + 1 < all.size(); ++i) {
    const auto& a = all[i];
    const auto& b = all[i + 1];
    if (!a.reason.empty() || b.plan.grad_sync != GradSync::Last)
      continue;
    const bool a_fits = memory_per_chip(m, hw, a.plan).fits;
    const bool b_fits = memory_per_chip(m, hw, b.plan).fits;
    CHECK((a_fits || !b_fits));  // accumulating never needs less memory
    if (a_fits && !b_fits)
      ++only_per_microbatch_fits;
    if (b.plan.mesh.text() == "128x8" && b.plan.microbatches == 8 && b.plan.remat == Remat::None &&
        b.plan.async_collective_matmul) {
      found = true;
      CHECK(a_fits);
      CHECK_FALSE(b_fits);
    }
  }
  CHECK(found);
  CHECK(only_per_microbatch_fits > 0);
}

TEST_CASE("sweep: the step lower bound holds for the new plan choices", "[sweep][grad_sync]") {
  const auto m = load_model("vit-b16");
  for (const char* hardware : {"tpu-v4", "h100-sxm"}) {
    const auto hw = load_hardware(hardware);
    for (const char* mesh : {"16x4", "32x2"}) {
      for (const char* async : {"on", "off"}) {
        for (const char* variant : {"flash", "replicated", "last", "fp32"}) {
          PlanFlags f;
          f.mesh = std::string(mesh);
          f.async = std::string(async);
          f.fsdp = std::string("on");
          f.remat = std::string(std::string(variant) == "flash" ? "selective" : "none");
          f.microbatches = std::string("4");
          f.batch = std::string("1024");
          if (std::string(variant) == "flash")
            f.attention = std::string("flash");
          if (std::string(variant) == "replicated")
            f.activation_layout = std::string("replicated");
          if (std::string(variant) == "last")
            f.grad_sync = std::string("last");
          if (std::string(variant) == "fp32")
            f.gradient_dtype = std::string("fp32");
          const Plan p = finalize_plan(apply_plan_flags(Plan{}, f), m, hw, 0);
          const auto r = execution::simulate_step(m, hw, p);
          const auto b = sweep::step_lower_bound(m, hw, p, r.memory);
          INFO(hardware << " " << sweep::plan_summary(p));
          CHECK(b.step_s <= r.step_time_s);
          if (std::string(async) == "off") {
            CHECK(b.compute_s == Approx(r.compute_only_s).epsilon(1e-6));
          } else {
            CHECK(b.compute_s <= r.compute_only_s * (1 + 1e-9));
          }
        }
      }
    }
  }
}
