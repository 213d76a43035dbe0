#include "sim/plan/memory.hpp"

#include <catch2/catch.hpp>

#include "tests/sim/plan/fixtures.hpp"

using namespace meshsim;

namespace {
Plan finalized(PlanFlags f, std::int64_t chips = 0) {
  return finalize_plan(apply_plan_flags(Plan{}, f), test::vit22b(), test::vit22b_linears(),
                       test::tpu_v4(), chips);
}
// Flags from (member, value) pairs.
PlanFlags flags_with(
    std::initializer_list<std::pair<std::string PlanFlags::*, const char*>> items) {
  PlanFlags f;
  for (const auto& [member, value] : items)
    f.*member = value;
  return f;
}
constexpr double kGiB = 1024.0 * 1024 * 1024;
}  // namespace

TEST_CASE("memory: ViT-22B 256x4 FSDP, full remat, Adam + fp32 master, fp32 grads, by hand",
          "[plan]") {
  PlanFlags f = flags_with({{&PlanFlags::mesh, "256x4"},
                            {&PlanFlags::fsdp, "on"},
                            {&PlanFlags::remat, "full"},
                            {&PlanFlags::optimizer, "adam"},
                            {&PlanFlags::gradient_dtype, "fp32"}});
  Plan plan = finalized(f);
  MemoryBreakdown m = memory_per_chip(test::vit22b(), test::vit22b_linears(), test::vit22b_params(),
                                      plan, test::tpu_v4().chip.hbm_bytes);

  // Parameters: 48 x 452,984,832 weights + 48 x 37,120 biases and norms + 5,191,680 embedding.
  const double params = 21743271936.0 + 1781760.0 + 5191680.0;
  const double shard = 4.0 * 256.0;                              // model axis x data axis (FSDP)
  CHECK(m.weights_bytes == Approx(2 * params / shard));          // bf16
  CHECK(m.master_weights_bytes == Approx(4 * params / shard));   // fp32 master
  CHECK(m.optimizer_state_bytes == Approx(8 * params / shard));  // Adam: 2 fp32 moments (ZeRO)
  CHECK(m.gradients_bytes == Approx(4 * params / shard));        // fp32 gradients
  // FSDP: two gathered layers (current + prefetched) of this chip's model shard, bf16; one fp32
  // layer gradient before its reduce-scatter.
  const double layer = (452984832.0 + 37120.0) / 4;
  CHECK(m.weight_gather_buffer_bytes == Approx(2 * 2 * layer));
  CHECK(m.gradient_buffer_bytes == Approx(4 * layer));
  // Activations: 65,536 / 256 = 256 images x 256 tokens per chip; full remat keeps each layer's
  // input (D/k) and rebuilds one layer: gathered LN output D, fused_in_proj output (3D+F)/k,
  // QK-norm 2D/k, softmax heads x tokens / k, fused_out_proj input (D+F)/k.
  const double tokens = 256.0 * 256.0;
  const double kept = 48 * 2 * (6144.0 / 4) * tokens;
  const double one_layer =
      2 * (6144.0 + 43008.0 / 4 + 2 * 6144.0 / 4 + 48.0 * 256 / 4 + 30720.0 / 4) * tokens;
  CHECK(m.microbatch_tokens == 65536);
  CHECK(m.activations_bytes == Approx(kept + one_layer));
  const double total =
      (2 + 4 + 8 + 4) * params / shard + 2 * 2 * layer + 4 * layer + kept + one_layer + kGiB;
  CHECK(m.total_bytes == Approx(total));
  CHECK(m.capacity_bytes == 32 * kGiB);
  CHECK(m.fits);
  CHECK(m.headroom_bytes == Approx(32 * kGiB - total));
  CHECK(m.overflow_bytes == 0);
}

TEST_CASE("memory: ViT-22B without FSDP on 32 GiB TPU v4 with model axis 1 does not fit",
          "[plan]") {
  PlanFlags f = flags_with(
      {{&PlanFlags::mesh, "1024x1"}, {&PlanFlags::remat, "full"}, {&PlanFlags::fsdp, "off"}});
  Plan plan = finalized(f);
  MemoryBreakdown m = memory_per_chip(test::vit22b(), test::vit22b_linears(), test::vit22b_params(),
                                      plan, test::tpu_v4().chip.hbm_bytes);
  CHECK(m.weights_bytes > 43e9);  // 21.7e9 parameters x 2 bytes
  CHECK(m.weights_bytes > m.capacity_bytes);
  CHECK_FALSE(m.fits);
  CHECK(m.headroom_bytes == 0);
  CHECK(m.overflow_bytes == Approx(m.total_bytes - m.capacity_bytes));
  CHECK(m.overflow_bytes > 0);
}

TEST_CASE("memory: orderings that follow from the formulas", "[plan]") {
  auto memory = [](PlanFlags f) {
    return memory_per_chip(test::vit22b(), test::vit22b_linears(), test::vit22b_params(),
                           finalized(f), test::tpu_v4().chip.hbm_bytes);
  };
  auto with = [&](auto set) {
    PlanFlags f;
    f.mesh = "256x4";
    f.fsdp = "on";
    set(f);
    return memory(f);
  };
  auto none = with([](PlanFlags& f) { f.remat = "none"; });
  auto selective = with([](PlanFlags& f) { f.remat = "selective"; });
  auto full = with([](PlanFlags& f) { f.remat = "full"; });
  CHECK(none.activations_bytes > selective.activations_bytes);
  CHECK(selective.activations_bytes > full.activations_bytes);
  CHECK(none.recompute_bytes_one_layer == 0);
  // Halving the microbatch by 2 microbatches halves the activations.
  auto two = with([](PlanFlags& f) {
    f.remat = "none";
    f.microbatches = "2";
  });
  CHECK(two.activations_bytes == Approx(none.activations_bytes / 2));

  auto adam = with([](PlanFlags& f) { f.optimizer = "adam"; });
  auto sgd = with([](PlanFlags& f) { f.optimizer = "sgd"; });
  auto adafactor = with([](PlanFlags& f) { f.optimizer = "adafactor"; });
  CHECK(adam.optimizer_state_bytes == Approx(2 * sgd.optimizer_state_bytes));
  CHECK(adafactor.optimizer_state_bytes <
        sgd.optimizer_state_bytes / 100);  // factored: ~(rows+cols)
  auto no_master = with([](PlanFlags& f) { f.master_weights = "off"; });
  CHECK(no_master.master_weights_bytes == 0);
  CHECK(adam.total_bytes - no_master.total_bytes == Approx(adam.master_weights_bytes));

  // Regathering the weight-gradient input saves memory only when activations are kept.
  auto keep = with([](PlanFlags& f) { f.remat = "none"; });
  auto regather = with([](PlanFlags& f) {
    f.remat = "none";
    f.weight_grad_input = "regather";
  });
  const double tokens = 256.0 * 256.0;
  CHECK(keep.activations_bytes - regather.activations_bytes ==
        Approx(48 * 2 * (6144.0 - 6144.0 / 4) * tokens));

  // FSDP divides the sharded state by the data axis.
  auto replicated = with([](PlanFlags& f) { f.fsdp = "off"; });
  CHECK(replicated.optimizer_state_bytes == Approx(256 * adam.optimizer_state_bytes));
  CHECK(replicated.weight_gather_buffer_bytes == 0);
}

TEST_CASE("memory: sequential block activations by hand (ViT-B/16-like, k = 4)", "[plan]") {
  ModelConfig m = test::vit22b();
  m.block = BlockKind::Sequential;
  m.width = 768;
  m.mlp_dim = 3072;
  m.heads = 12;
  m.head_dim = 64;
  m.depth = 12;
  m.tokens = 196;
  m.qk_norm = false;
  std::vector<Linear> linears{{"qkv", 768, 2304, true},
                              {"attn_out", 768, 768, true},
                              {"mlp_in", 768, 3072, true},
                              {"mlp_out", 3072, 768, true}};
  PlanFlags f = flags_with({{&PlanFlags::mesh, "8x4"},
                            {&PlanFlags::batch, "64"},
                            {&PlanFlags::remat, "none"},
                            {&PlanFlags::fsdp, "off"}});
  Plan plan = finalize_plan(apply_plan_flags(Plan{}, f), m, linears, test::tpu_v4(), 0);
  // auto: qkv row (gathers 768), attn_out tie -> row (gathers 768), mlp_in row, mlp_out column.
  // none keeps: x 192 + qkv input 768 + qkv output 576 + softmax 12*196/4 = 588 + attn_out input
  // 768
  // + residual 192 + mlp_in input 768 + mlp_in output 768 + mlp_out input 768 (local: 3072/4).
  const double none_elements = 192 + 768 + 576 + 588 + 768 + 192 + 768 + 768 + 768;
  const double tokens = 64.0 / 8 * 196;
  ParamCounts params;
  params.transformer = 12LL * (768 * 2304 + 768 * 768 + 2 * 768 * 3072);
  params.total = params.transformer;
  auto mem = memory_per_chip(m, linears, params, plan, 16e9);
  CHECK(mem.activations_bytes == Approx(12 * 2 * none_elements * tokens));
  // selective drops softmax, attn_out input and mlp_out input for all but one layer.
  plan.remat = Remat::Selective;
  auto sel = memory_per_chip(m, linears, params, plan, 16e9);
  const double dropped = 588 + 768 + 768;
  CHECK(sel.activations_bytes ==
        Approx(12 * 2 * (none_elements - dropped) * tokens + 2 * dropped * tokens));
}
