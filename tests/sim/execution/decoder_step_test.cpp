// A decoder's training step (issue 14 item 3): MFU and tokens/s per chip by the field's FLOP
// count, and the embedding / LM head / cross-entropy work it adds to the layers'.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>
#include <string>

#include "hardware_profiles/hardware.hpp"
#include "models/model.hpp"
#include "sim/execution/step.hpp"
#include "sim/plan/plan.hpp"

using meshsim::ModelConfig;
using meshsim::ModelKind;
using meshsim::Plan;
using meshsim::PlanFlags;
using meshsim::execution::simulate_step;

namespace {

// A small Llama-style decoder: GQA (16 heads, 4 K/V heads), SwiGLU, untied, or tied.
ModelConfig small_decoder(bool tied) {
  const nlohmann::json j = {{"schema", "meshsim.model/v1"},
                            {"kind", "decoder"},
                            {"block", "sequential"},
                            {"width", 1024},
                            {"depth", 4},
                            {"mlp_dim", 2816},
                            {"heads", 16},
                            {"kv_heads", 4},
                            {"mlp", "swiglu"},
                            {"position_embedding", "rotary"},
                            {"vocab", 32000},
                            {"tied_embeddings", tied},
                            {"seq_len", 1024},
                            {"qkv_bias", false},
                            {"out_proj_bias", false},
                            {"mlp_bias", false}};
  return meshsim::parse_model_json(j.dump(), "small-decoder.json");
}

Plan plan_for(const ModelConfig& m, const meshsim::HardwareProfile& hw, const std::string& mesh,
              const std::string& attention) {
  PlanFlags f;
  f.mesh = mesh;
  f.batch = "16";
  f.attention = attention;
  return meshsim::finalize_plan(meshsim::apply_plan_flags(Plan{}, f), m, hw, 0);
}

double ops_flop(const std::vector<meshsim::Op>& ops) {
  double sum = 0;
  for (const auto& op : ops)
    sum += op.flop;
  return sum;
}

}  // namespace

TEST_CASE("decoder step: MFU and tokens/s per chip by 6N + 12LHQT", "[execution][decoder]") {
  const auto hw = meshsim::load_hardware("h100-sxm");
  for (bool tied : {false, true}) {
    INFO("tied " << tied);
    const auto m = small_decoder(tied);
    const auto plan = plan_for(m, hw, "2x8", "flash");  // k = 8 > kv_heads 4: K/V replicated
    const auto r = simulate_step(m, hw, plan);
    const double tokens = 16.0 * 1024.0;
    CHECK(r.model_flop == meshsim::flop_per_token(m).train * tokens);
    CHECK(r.mfu == Approx(r.model_flop / (16.0 * hw.chip.peak_bf16_flop_per_s * r.step_time_s)));
    CHECK(r.tokens_per_s_per_chip == Approx(tokens / r.step_time_s / 16.0));
    // The LM head's three matmuls (2 R D V_k each, R = 8 sequences x 1024 tokens per chip) at
    // most at peak: its compute time is at least their FLOP over the peak.
    const double head_flop = 3.0 * 2.0 * 8.0 * 1024.0 * 1024.0 * (32000.0 / 8.0);
    CHECK(r.lm_head_compute_s >= head_flop / hw.chip.peak_bf16_flop_per_s);
    CHECK(r.lm_head_compute_s < r.step_time_s);
    CHECK(r.memory.lm_head_activation_bytes == 2.0 * 8.0 * 1024.0 * (1024.0 / 8 + 1024 + 4000));
  }
}

TEST_CASE("decoder step: the layers' work plus the embedding, LM head and loss",
          "[execution][decoder]") {
  // The same layers as an encoder (unfused attention computes every score either way): the
  // decoder executes exactly the encoder's FLOP plus its lm_head_ops on every chip.
  const auto hw = meshsim::load_hardware("h100-sxm");
  const auto dec = small_decoder(false);
  ModelConfig enc = dec;
  enc.kind = ModelKind::Encoder;
  enc.vocab = 0;
  const auto plan = plan_for(dec, hw, "2x4", "unfused");
  const auto rd = simulate_step(dec, hw, plan);
  const auto re = simulate_step(enc, hw, plan);
  const auto head = meshsim::lm_head_ops(dec, meshsim::LayerShape{8, 4});
  const double extra = ops_flop(head.embedding_forward) + ops_flop(head.head_forward) +
                       ops_flop(head.head_backward) + ops_flop(head.embedding_backward);
  CHECK(rd.executed_flop == Approx(re.executed_flop + 8.0 * extra).epsilon(1e-9));
  CHECK(rd.step_time_s > re.step_time_s);
  CHECK(re.lm_head_compute_s == 0);
}

TEST_CASE("decoder step: causal attention makes the layers' compute no more than the encoder's",
          "[execution][decoder]") {
  // The layers' compute on the slowest chip (without the LM head and the optimizer update, which
  // also covers the embedding tables): equal with unfused attention (the mask is applied in the
  // softmax), smaller with FlashAttention (the blocks above the diagonal are skipped).
  const auto hw = meshsim::load_hardware("h100-sxm");
  const auto dec = small_decoder(false);
  ModelConfig enc = dec;
  enc.kind = ModelKind::Encoder;
  enc.vocab = 0;
  for (const char* attention : {"unfused", "flash"}) {
    INFO(attention);
    const auto plan = plan_for(dec, hw, "2x4", attention);
    const auto rd = simulate_step(dec, hw, plan);
    const auto re = simulate_step(enc, hw, plan);
    const double layers_d = rd.slowest.compute_s - rd.slowest.optimizer_s - rd.lm_head_compute_s;
    const double layers_e = re.slowest.compute_s - re.slowest.optimizer_s;
    if (std::string(attention) == "flash") {
      CHECK(layers_d < layers_e);
    } else {
      CHECK(layers_d == Approx(layers_e).epsilon(1e-9));
    }
  }
}

TEST_CASE("decoder plans: K/V heads split or replicated over the model axis",
          "[execution][decoder]") {
  const auto hw = meshsim::load_hardware("h100-sxm");
  // PaLM: one K/V head, so a model axis of 6 replicates it on every chip (each holds 8 query heads
  // and the K/V head: 2048 + 2 x 256 + 2 x 12288 outputs of fused_in_proj), although 6 does not
  // divide the unreplicated 12288 + 512 + 147456 = 160256.
  const auto palm = meshsim::load_model("palm-540b");
  CHECK_NOTHROW(plan_for(palm, hw, "2x6", "unfused"));
  for (const auto& op : meshsim::layer_ops(palm, meshsim::LayerShape{1, 6})) {
    if (op.name == "fused_in_proj" && op.pass == meshsim::Pass::Forward)
      CHECK(op.n == 2048 + 2 * 256 + 2 * 12288);
  }
  // Llama 3 70B (8 K/V heads): 8 splits them, 16 replicates each on two chips.
  const auto llama = meshsim::load_model("llama3-70b");
  CHECK_NOTHROW(plan_for(llama, hw, "2x8", "flash"));
  CHECK_NOTHROW(plan_for(llama, hw, "1x16", "flash"));
}

TEST_CASE("decoder step: replica symmetry gives every chip's result", "[execution][decoder]") {
  // The embedding and LM head add model- and data-axis collectives; simulating replica 0 alone
  // must still give what simulating every chip gives (docs/execution.md "Replica symmetry").
  const auto hw = meshsim::load_hardware("tpu-v4");
  for (bool tied : {false, true}) {
    INFO("tied " << tied);
    const auto m = small_decoder(tied);
    PlanFlags f;
    f.mesh = "4x4";
    f.batch = std::to_string(16);  // (literals for these two trip a GCC 12 false -Wrestrict)
    f.microbatches = std::to_string(2);
    const auto plan = meshsim::finalize_plan(meshsim::apply_plan_flags(Plan{}, f), m, hw, 0);
    meshsim::execution::StepOptions all;
    all.replica_symmetry = false;
    const auto a = simulate_step(m, hw, plan);
    const auto b = simulate_step(m, hw, plan, {}, all);
    CHECK(a.step_time_s == b.step_time_s);
    CHECK(a.lm_head_compute_s == b.lm_head_compute_s);
    CHECK(a.data_axis.bytes_sent_per_chip == Approx(b.data_axis.bytes_sent_per_chip));
  }
}
