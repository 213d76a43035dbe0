// The step's memory-bound work and plan choices of issue 12 (items 3, 5, 6): the optimizer update's
// bytes, the fp32 accumulator of reduce-scatter collective matmuls, the gradient reductions of
// both grad syncs, FlashAttention and replicated activations, against closed forms.
#include <algorithm>
#include <catch2/catch.hpp>
#include <cmath>
#include <string>

#include "hardware_profiles/attention_cost.hpp"
#include "hardware_profiles/cost_model.hpp"
#include "hardware_profiles/hardware.hpp"
#include "models/model.hpp"
#include "sim/execution/accumulation_ops.hpp"
#include "sim/execution/matmul_chunk.hpp"
#include "sim/execution/optimizer_update.hpp"
#include "sim/execution/step.hpp"
#include "sim/plan/plan.hpp"

using namespace meshsim;
using execution::simulate_step;

namespace {

Plan plan_of(const ModelConfig& m, const HardwareProfile& hw, PlanFlags f) {
  return finalize_plan(apply_plan_flags(Plan{}, f), m, hw, 0);
}

PlanFlags flags(const std::string& mesh, const std::string& batch, const std::string& mb = "1") {
  PlanFlags f;
  f.mesh = mesh;
  f.batch = batch;
  f.microbatches = mb;
  f.remat = std::string("none");
  return f;
}

}  // namespace

TEST_CASE("optimizer update: every byte of each optimizer", "[execution][optimizer]") {
  const auto m = load_model("vit-22b");
  const auto hw = load_hardware("tpu-v4");
  for (const char* grad : {"bf16", "fp32"}) {
    for (const char* master : {"on", "off"}) {
      for (const char* opt : {"adam", "sgd", "adafactor"}) {
        INFO(opt << " master " << master << " grad " << grad);
        PlanFlags f = flags("256x4", "65536");
        f.optimizer = opt;
        f.master_weights = master;
        f.gradient_dtype = grad;
        const Plan plan = plan_of(m, hw, f);
        const auto mem = memory_per_chip(m, hw, plan);
        const auto op = execution::optimizer_update_op(mem, plan);
        const double p = mem.params_per_chip;
        const double g = std::string(grad) == "fp32" ? 4 : 2;
        const double w_read = std::string(master) == "on" ? 4 * p : 2 * p;
        const double w_written = (std::string(master) == "on" ? 4 * p : 0) + 2 * p;
        CHECK(mem.gradients_bytes == Approx(g * p));
        if (std::string(opt) == "adam") {  // master, m, v, gradient -> master, m, v, weights
          CHECK(op.bytes_read == Approx(w_read + 8 * p + g * p));
          CHECK(op.bytes_written == Approx(w_written + 8 * p));
        } else if (std::string(opt) == "sgd") {  // master, momentum, gradient
          CHECK(op.bytes_read == Approx(w_read + 4 * p + g * p));
          CHECK(op.bytes_written == Approx(w_written + 4 * p));
        } else {  // two passes over the gradient and the factored moments S
          const double s = mem.optimizer_state_bytes;
          CHECK(op.bytes_read == Approx(2 * g * p + 2 * s + w_read));
          CHECK(op.bytes_written == Approx(s + w_written));
        }
        // The step charges exactly this op (to the picosecond it rounds to).
        if (std::string(opt) == "adam" && std::string(grad) == "bf16") {
          const auto small = load_model("vit-b16");
          PlanFlags sf = flags("16x1", "256");
          sf.master_weights = master;
          const Plan sp = plan_of(small, hw, sf);
          const auto r = simulate_step(small, hw, sp);
          const auto sop = execution::optimizer_update_op(r.memory, sp);
          CHECK(r.slowest.optimizer_s == Approx(op_time_s(hw.cost, hw.chip, sop)).margin(1e-12));
        }
      }
    }
  }
}

TEST_CASE("step: a reduce-scatter collective matmul adds every chunk into an fp32 accumulator",
          "[execution][accumulate]") {
  // ViT-22B 256x4 on TPU v4: the fused output projection reduce-scatters its output as a
  // collective matmul; per layer its forward is 4 chunks plus 3 fp32 adds of a D/k block.
  const auto m = load_model("vit-22b");
  const auto hw = load_hardware("tpu-v4");
  const Plan plan = plan_of(m, hw, flags("256x4", "65536"));
  const auto r = simulate_step(m, hw, plan);
  Op out;
  for (const auto& op : layer_ops(m, LayerShape{256, 4, 2})) {
    if (op.name == "fused_out_proj" && op.pass == Pass::Forward)
      out = op;
  }
  // A chunk is the matmul with its output features cut by k (sim/execution/matmul_chunk.hpp).
  const Op chunk = matmul_chunk(out, 4, ChunkedMove::ReduceScatter);
  CHECK(chunk.flop == Approx(out.flop / 4));
  const double block = 2.0 * 6144 / 4 * 256 * 256;  // bf16 D/k features of 256 x 256 tokens
  const auto add = execution::collective_matmul_accumulate_op("fused_out_proj", block);
  CHECK(add.bytes_read == 4.0 * block / 2);
  CHECK(add.bytes_written == 4.0 * block / 2);
  const double expected =
      4 * op_time_s(hw.cost, hw.chip, chunk) + 3 * op_time_s(hw.cost, hw.chip, add);
  REQUIRE(r.linears.size() == 2);
  CHECK(r.linears[1].name == "fused_out_proj");
  CHECK(r.linears[1].forward_compute_s == Approx(expected).epsilon(1e-6));
}

TEST_CASE("step: grad sync per-microbatch reduce-scatters every microbatch's gradients",
          "[execution][grad_sync]") {
  const auto m = load_model("vit-b16");
  const auto hw = load_hardware("tpu-v4");
  const std::int64_t t = 8, k = 2, mbs = 4;
  PlanFlags f = flags("8x2", "64", "4");
  f.fsdp = "on";
  const auto per_mb = simulate_step(m, hw, plan_of(m, hw, f));
  f.grad_sync = "last";
  const auto last = simulate_step(m, hw, plan_of(m, hw, f));
  // One layer's bf16 gradient shard, padded to 2t bytes, of which a ring reduce-scatter sends
  // (t-1)/t per chip; per-microbatch does it (mb - 1) more times for every layer.
  const auto params = count_params(m);
  const double layer = static_cast<double>(params.transformer + params.biases_and_norms) /
                       static_cast<double>(m.depth) / static_cast<double>(k) * 2.0;
  const double padded = std::ceil(std::round(layer) / (2.0 * t)) * 2.0 * t;
  const double extra = static_cast<double>((mbs - 1) * m.depth) * padded *
                       static_cast<double>(t - 1) / static_cast<double>(t);
  CHECK(per_mb.data_axis.bytes_sent_per_chip - last.data_axis.bytes_sent_per_chip ==
        Approx(extra).epsilon(1e-9));
  CHECK(per_mb.model_axis.bytes_sent_per_chip == last.model_axis.bytes_sent_per_chip);
  // Memory: the accumulated gradients of all layers with last.
  CHECK(last.memory.gradient_buffer_bytes ==
        Approx(static_cast<double>(m.depth) * per_mb.memory.gradient_buffer_bytes));
  // One microbatch: the two are the same step.
  PlanFlags one = flags("8x2", "64");
  one.fsdp = "on";
  const auto a = simulate_step(m, hw, plan_of(m, hw, one));
  one.grad_sync = "last";
  const auto b = simulate_step(m, hw, plan_of(m, hw, one));
  CHECK(a.step_time_s == b.step_time_s);
  CHECK(a.memory.total_bytes == b.memory.total_bytes);
}

TEST_CASE("step: gradient casts and accumulation, closed forms", "[execution][grad_sync]") {
  PlanFlags f;
  f.mesh = "8x2";
  f.microbatches = "4";
  f.batch = "64";
  f.gradient_dtype = "fp32";
  const auto m = load_model("vit-b16");
  const auto hw = load_hardware("tpu-v4");
  const Plan plan = plan_of(m, hw, f);
  const double p = 1e6;
  const auto ops = execution::gradient_ops(plan, p, 8);
  CHECK(ops.reduce_each);  // FSDP (default), per-microbatch (default), 4 microbatches
  CHECK(ops.cast.bytes_read == 2 * p);
  CHECK(ops.cast.bytes_written == 4 * p);
  CHECK(ops.local_add.bytes_read == 2 * p + 4 * p);
  CHECK(ops.local_add.bytes_written == 4 * p);
  CHECK(ops.shard_add.bytes_read == 2 * 4 * p / 8);
  CHECK(ops.shard_add.bytes_written == 4 * p / 8);
  CHECK(execution::gradient_ops_after(ops, plan, 0).size() == 1);  // cast
  CHECK(execution::gradient_ops_after(ops, plan, 1).size() == 2);  // cast, shard add
  Plan last = plan;
  last.grad_sync = GradSync::Last;
  const auto lops = execution::gradient_ops(last, p, 8);
  CHECK_FALSE(lops.reduce_each);
  CHECK(execution::gradient_ops_after(lops, last, 0).front().name == "gradient cast");
  CHECK(execution::gradient_ops_after(lops, last, 3).front().name == "gradient accumulate");
  // bf16 gradients need no cast.
  Plan bf16 = plan;
  bf16.gradient_dtype = GradientDtype::Bf16;
  CHECK(execution::gradient_ops_after(execution::gradient_ops(bf16, p, 8), bf16, 0).empty());
}

TEST_CASE("step: FlashAttention is timed at its sourced fraction of peak, never below the bound",
          "[execution][flash]") {
  const auto m = load_model("vit-22b");
  for (const char* name : {"h100-sxm", "tpu-v4"}) {
    INFO(name);
    const auto hw = load_hardware(name);
    for (const auto& op : layer_ops(m, LayerShape{4, 8, 2, AttentionKernel::Flash, false})) {
      if (op.kind != OpKind::FlashAttention)
        continue;
      const double eff = flash_attention_efficiency(hw.cost, op.pass);
      const double t = op_time_s(hw.cost, hw.chip, op);
      CHECK(t >= op_lower_bound_s(hw.chip, op));
      // The roofline at that fraction: at T = 256 and head dim 128 (about T/2 FLOP per byte)
      // the fused kernel is memory-bound on H100 and compute-bound on TPU v4.
      const double compute = op.flop / (hw.chip.peak_bf16_flop_per_s * eff);
      const double memory = (op.bytes_read + op.bytes_written) /
                            (hw.chip.hbm_bandwidth_bytes_per_s * hw.cost.memory_efficiency);
      CHECK(t == Approx(std::max(compute, memory) + hw.cost.kernel_overhead_s).epsilon(1e-12));
    }
    // H100: FlashAttention-3's 661 of 989 TFLOP/s forward (kernels_and_links.csv fa3_fwd_h100).
    if (std::string(name) == "h100-sxm")
      CHECK(flash_attention_efficiency(hw.cost, Pass::Forward) ==
            Approx(661.0 / 989).epsilon(1e-3));
  }
  // The whole step with flash runs, keeps above its lower bound and the model FLOP are unchanged.
  const auto small = load_model("vit-b16");
  const auto hw = load_hardware("h100-sxm");
  PlanFlags f = flags("8x2", "256");
  const auto unfused = simulate_step(small, hw, plan_of(small, hw, f));
  f.attention = "flash";
  const auto flash = simulate_step(small, hw, plan_of(small, hw, f));
  CHECK(flash.step_time_s >= flash.lower_bound_s);
  CHECK(flash.model_flop == unfused.model_flop);
  CHECK(flash.memory.activations_bytes < unfused.memory.activations_bytes);
}

TEST_CASE("step: replicated activations move the same model-axis bytes as sharded ones",
          "[execution][layout]") {
  const auto m = load_model("vit-b16");
  const auto hw = load_hardware("tpu-v4");
  for (const char* async : {"on", "off"}) {
    for (const char* mesh : {"4x4", "8x2"}) {
      INFO(mesh << " async " << async);
      PlanFlags f = flags(mesh, "64");
      f.async = async;
      const auto sharded = simulate_step(m, hw, plan_of(m, hw, f));
      f.activation_layout = "replicated";
      const auto replicated = simulate_step(m, hw, plan_of(m, hw, f));
      // all-reduce = reduce-scatter + all-gather (within the rounding of blocks to whole bytes).
      CHECK(replicated.model_axis.bytes_sent_per_chip ==
            Approx(sharded.model_axis.bytes_sent_per_chip).epsilon(1e-6));
      CHECK(replicated.step_time_s >= replicated.lower_bound_s);
      // Norms and residual on k times the features: more time on the other (memory-bound) ops.
      CHECK(replicated.other_compute_per_layer_s > sharded.other_compute_per_layer_s);
    }
  }
}
