#include "sim/execution/step.hpp"

#include <catch2/catch.hpp>
#include <cmath>
#include <string>

#include "hardware_profiles/hardware.hpp"
#include "models/model.hpp"
#include "sim/plan/plan.hpp"

using meshsim::HardwareProfile;
using meshsim::ModelConfig;
using meshsim::Plan;
using meshsim::PlanFlags;
using meshsim::execution::simulate_step;
using meshsim::execution::StepResult;

namespace {

// ViT-L/16 on 64 TPU v4 chips (a 4x4x4 cube): small enough to simulate in milliseconds.
struct Setup {
  ModelConfig model = meshsim::load_model("vit-l16");
  HardwareProfile hw = meshsim::load_hardware("tpu-v4");
  Plan plan(PlanFlags flags) const {
    if (flags.batch.empty())
      flags.batch = "1024";
    return meshsim::finalize_plan(meshsim::apply_plan_flags(Plan{}, flags), model, hw, 0);
  }
  StepResult run(PlanFlags flags) const { return simulate_step(model, hw, plan(flags)); }
};

PlanFlags mesh(const std::string& m) {
  PlanFlags f;
  f.mesh = m;
  return f;
}

}  // namespace

TEST_CASE("step: a model axis of 1 moves nothing on the model axis", "[execution]") {
  Setup s;
  auto r = s.run(mesh("64x1"));
  CHECK(r.model_axis.bytes_sent_per_chip == 0);
  CHECK(r.model_axis.exposed_s == 0);
  for (const auto& l : r.linears) {
    CHECK(l.communicates == "nothing");
    CHECK(l.bytes_per_layer == 0);
  }
  CHECK(r.data_axis.bytes_sent_per_chip > 0);  // gradients are still all-reduced
}

TEST_CASE("step: model-axis bytes match DESIGN §2's per-token formulas", "[execution]") {
  Setup s;
  PlanFlags f = mesh("16x4");
  f.remat = "none";
  auto r = s.run(f);
  // Per token: ViT-L is sequential: qkv and mlp_in gather their input (D x (k-1)/k),
  // attn_out and mlp_out reduce-scatter their output (D x (k-1)/k); forward and the mirrored
  // input-gradient pass each move it once: 4 linears x 2 passes x D x 3/4 x 2 bytes per token.
  const double tokens_per_chip = 1024.0 / 16 * static_cast<double>(s.model.tokens);
  const double expected = 4 * 2 * static_cast<double>(s.model.width) * 0.75 * 2 * tokens_per_chip *
                          static_cast<double>(s.model.depth);
  CHECK(r.model_axis.bytes_sent_per_chip == Approx(expected).epsilon(1e-6));
}

TEST_CASE("step: async collective matmul is never slower than sync", "[execution]") {
  Setup s;
  for (const char* m : {"16x4", "8x8", "4x16"}) {
    for (const char* batch : {"64", "1024"}) {
      INFO(m << " batch " << batch);
      PlanFlags f = mesh(m);
      f.batch = batch;
      f.async = "on";
      const auto async_r = s.run(f);
      f.async = "off";
      const auto sync_r = s.run(f);
      CHECK(async_r.step_time_s <= sync_r.step_time_s * (1 + 1e-9));
      // Large batch: a chunk's matmul outlasts its transfer, so overlap strictly helps.
      if (std::string(batch) == "1024") {
        CHECK(async_r.step_time_s < sync_r.step_time_s);
        CHECK(async_r.model_axis.exposed_s < sync_r.model_axis.exposed_s);
      }
    }
  }
}

TEST_CASE("step: with 1000x faster links the step tends to the compute-only time", "[execution]") {
  Setup s;
  s.hw.torus.link_bandwidth_bytes_per_s *= 1000;
  s.hw.torus.link_latency_s /= 1000;
  s.hw.collectives.call_overhead_s /= 1000;  // the per-collective-call software cost too
  PlanFlags f = mesh("16x4");
  f.async = "off";  // even without overlap
  auto r = s.run(f);
  CHECK(r.step_time_s >= r.compute_only_s);
  CHECK(r.step_time_s == Approx(r.compute_only_s).epsilon(0.01));
}

TEST_CASE("step: with 1000x faster compute the step tends to the communication bound",
          "[execution]") {
  Setup s;
  s.hw.chip.peak_bf16_flop_per_s *= 1000;
  s.hw.chip.hbm_bandwidth_bytes_per_s *= 1000;
  s.hw.cost.kernel_overhead_s /= 1000;
  for (const char* bidi : {"on", "off"}) {
    PlanFlags f = mesh("16x4");
    f.bidirectional = bidi;
    auto r = s.run(f);
    INFO("bidirectional " << bidi << ": step " << r.step_time_s << " s, comm bound "
                          << r.comm_lower_bound_s << " s, compute " << r.compute_only_s);
    CHECK(r.compute_only_s < 0.01 * r.step_time_s);
    CHECK(r.step_time_s >= r.comm_lower_bound_s);
    // The bound assumes both directions of every link of the axis; a one-way ring uses half.
    CHECK(r.step_time_s <= (std::string(bidi) == "on" ? 1.25 : 2.5) * r.comm_lower_bound_s);
  }
}

TEST_CASE("step: simulated time never beats the physical lower bound", "[execution]") {
  Setup s;
  for (const char* m : {"64x1", "32x2", "16x4", "8x8", "4x16"}) {
    for (const char* remat : {"none", "full"}) {
      PlanFlags f = mesh(m);
      f.remat = remat;
      auto r = s.run(f);
      INFO(m << " remat " << remat);
      CHECK(r.step_time_s >= r.lower_bound_s);
      CHECK(r.step_time_s >= r.compute_only_s);
      CHECK(r.mfu > 0);
      CHECK(r.mfu <= r.hfu);
      CHECK(r.hfu <= 1.0);
    }
  }
}

TEST_CASE("step: MFU recomputed from DESIGN §1's FLOP count", "[execution]") {
  Setup s;
  auto r = s.run(mesh("16x4"));
  const auto params = meshsim::count_params(s.model);
  // Train FLOP per token = 3 x (2 x encoder weights + 4 x tokens x D per layer), DESIGN §1.
  const auto tokens = static_cast<double>(s.model.tokens);
  const double per_token =
      3.0 * (2.0 * static_cast<double>(params.transformer) +
             4.0 * tokens * static_cast<double>(s.model.width * s.model.depth));
  const double model_flop = per_token * 1024.0 * tokens;
  const double mfu = model_flop / (64 * s.hw.chip.peak_bf16_flop_per_s * r.step_time_s);
  CHECK(r.mfu == Approx(mfu).epsilon(1e-9));
  CHECK(r.tokens_per_s_per_chip == Approx(1024.0 * tokens / r.step_time_s / 64));
}

TEST_CASE("step: full rematerialization executes one more forward pass", "[execution]") {
  Setup s;
  PlanFlags f = mesh("16x4");
  f.remat = "none";
  auto none = s.run(f);
  f.remat = "full";
  auto full = s.run(f);
  CHECK(none.executed_flop == Approx(none.model_flop).epsilon(0.01));
  // Forward = 1/3 of the training FLOP.
  CHECK(full.executed_flop == Approx(none.executed_flop * 4.0 / 3.0).epsilon(0.01));
  CHECK(full.step_time_s > none.step_time_s);
}

TEST_CASE("step: the same plan twice gives identical results", "[execution]") {
  Setup s;
  PlanFlags f = mesh("8x8");
  f.fsdp = "on";
  auto a = s.run(f);
  auto b = s.run(f);
  CHECK(a.step_time_s == b.step_time_s);
  CHECK(a.events == b.events);
  CHECK(a.transfers == b.transfers);
  CHECK(a.data_axis.exposed_s == b.data_axis.exposed_s);
}

TEST_CASE("step: the GPU cluster keeps the model axis on NVLink", "[execution]") {
  ModelConfig model = meshsim::load_model("vit-l16");
  HardwareProfile hw = meshsim::load_hardware("h100-sxm");
  PlanFlags f = mesh("4x8");
  f.batch = "256";
  auto plan = meshsim::finalize_plan(meshsim::apply_plan_flags(Plan{}, f), model, hw, 0);
  auto r = simulate_step(model, hw, plan);
  // nvlink = class 1, nic = 2: the model axis (8 GPUs of a node) never leaves the node; the data
  // axis crosses nodes.
  CHECK(r.bytes_per_link_class[1] > 0);
  CHECK(r.bytes_per_link_class[2] > 0);
  CHECK(r.model_axis.bytes_sent_per_chip > 0);
  CHECK(r.step_time_s >= r.lower_bound_s);
}
