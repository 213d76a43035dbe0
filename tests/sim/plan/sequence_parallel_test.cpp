// Sequence parallelism (issue 14 item 5, docs/plans.md "Sequence parallelism"): with replicated
// activations, each all-reduce becomes a reduce-scatter and an all-gather along the tokens (the
// same bytes), and the norm and residual tensors are stored 1/k (Korthikanti et al. 2022).
#include <catch2/catch.hpp>
#include <string>

#include "models/model.hpp"
#include "sim/plan/memory.hpp"
#include "sim/plan/plan.hpp"
#include "sim/plan/sharding.hpp"
#include "tests/sim/plan/fixtures.hpp"

using namespace meshsim;

namespace {

Plan megatron(const ModelConfig& m, const HardwareProfile& hw, const std::string& mesh, bool seq,
              const std::string& wgi = "keep", const std::string& remat = "none") {
  PlanFlags f;
  f.mesh = mesh;
  f.activation_layout = "replicated";
  f.sequence_parallel = seq ? "on" : "off";
  f.weight_grad_input = wgi;
  f.remat = remat;
  f.fsdp = "off";
  f.batch = "1024";
  return finalize_plan(apply_plan_flags(Plan{}, f), m, hw, 0);
}

double moved(const std::vector<LinearMove>& moves) {
  double bytes = 0;
  for (const auto& m : moves)
    bytes += m.bytes_per_token;
  return bytes;
}

}  // namespace

TEST_CASE("sequence parallel: each all-reduce's bytes, as a reduce-scatter plus an all-gather",
          "[plan][sequence_parallel]") {
  const auto m = load_model("gpt3-175b");
  const auto hw = load_hardware("a100-sxm-80gb");
  for (std::int64_t k : {2, 4, 8}) {
    INFO("k = " << k);
    const std::string mesh = std::to_string(16 / k * 8) + "x" + std::to_string(k);
    const auto ar = resolve_sharding(m, megatron(m, hw, mesh, false));
    const auto sp = resolve_sharding(m, megatron(m, hw, mesh, true));
    REQUIRE(ar.size() == sp.size());
    const double share = static_cast<double>(k - 1) / static_cast<double>(k);
    for (std::size_t i = 0; i < sp.size(); ++i) {
      INFO(sp[i].name);
      const bool input_side = reads_boundary_activations(sp[i].name);
      // Closed form: 2 bytes x 2 (reduce-scatter + all-gather) x features x (k-1)/k per token.
      const double features =
          static_cast<double>(input_side ? sp[i].in_features : sp[i].out_features);
      const double all_reduce = 2.0 * 2.0 * features * share;
      CHECK(moved(ar[i].forward) + moved(ar[i].backward_input) == Approx(all_reduce));
      CHECK(sp[i].forward_bytes_per_token + sp[i].backward_bytes_per_token == Approx(all_reduce));
      REQUIRE(sp[i].forward.size() == 1);
      REQUIRE(sp[i].backward_input.size() == 1);
      CHECK(sp[i].forward[0].bytes_per_token == Approx(all_reduce / 2));
      CHECK(sp[i].forward[0].kind == (input_side ? MoveKind::AllGather : MoveKind::ReduceScatter));
      CHECK(sp[i].backward_input[0].kind ==
            (input_side ? MoveKind::ReduceScatter : MoveKind::AllGather));
      CHECK(sp[i].communicates ==
            std::string(input_side ? "all-gather input" : "reduce-scatter output") + " (tokens)");
      // The weight blocks are Megatron's, unchanged by the token split.
      CHECK(sp[i].weight_rows == ar[i].weight_rows);
      CHECK(sp[i].weight_cols == ar[i].weight_cols);
    }
  }
}

TEST_CASE("sequence parallel: the split tensors are stored 1/k, the others unchanged",
          "[plan][sequence_parallel]") {
  // A sequential block (GPT-3 175B) and a parallel one (ViT-22B); the norm outputs are stored
  // split only when the weight gradient re-gathers them (Korthikanti et al. 2022 §4.2.2).
  for (const char* name : {"gpt3-175b", "vit-22b"}) {
    const auto m = load_model(name);
    const auto hw = load_hardware("a100-sxm-80gb");
    for (const char* wgi : {"keep", "regather"}) {
      INFO(name << " " << wgi);
      const auto linears = layer_linears(m);
      const auto whole = layer_activations(m, linears, megatron(m, hw, "128x8", false, wgi));
      const auto split = layer_activations(m, linears, megatron(m, hw, "128x8", true, wgi));
      REQUIRE(whole.size() == split.size());
      int split_count = 0;
      for (std::size_t i = 0; i < whole.size(); ++i) {
        INFO(whole[i].name);
        CHECK(whole[i].name == split[i].name);
        const bool boundary = whole[i].source == ActivationSource::LayerInput ||
                              whole[i].source == ActivationSource::Residual;
        const bool norm_split =
            whole[i].source == ActivationSource::NormOutput && std::string(wgi) == "regather";
        if (boundary || norm_split) {
          CHECK(split[i].sequence_split);
          CHECK(split[i].elements_per_token == Approx(whole[i].elements_per_token / 8));
          ++split_count;
        } else {
          CHECK_FALSE(split[i].sequence_split);
          CHECK(split[i].elements_per_token == Approx(whole[i].elements_per_token));
        }
      }
      // Layer input (+ the sequential block's mid residual), and the norm outputs (one per
      // residual segment) when re-gathered.
      const int segments = m.block == BlockKind::Sequential ? 2 : 1;
      CHECK(split_count == segments * (std::string(wgi) == "regather" ? 2 : 1));
    }
  }
}

TEST_CASE("sequence parallel: the memory saving is the split tensors' (k-1)/k, by hand",
          "[plan][sequence_parallel]") {
  // GPT-3 175B on 128x8, remat none, regather: per layer and token the replicated layout keeps
  // the layer input, the mid residual and the two norm outputs at D each; split, D/8 each.
  const auto m = load_model("gpt3-175b");
  const auto hw = load_hardware("a100-sxm-80gb");
  const auto whole = memory_per_chip(m, hw, megatron(m, hw, "128x8", false, "regather"));
  const auto split = memory_per_chip(m, hw, megatron(m, hw, "128x8", true, "regather"));
  const double tokens = static_cast<double>(split.microbatch_tokens);
  const double d = static_cast<double>(m.width);
  const double per_layer = 2.0 * tokens * 4.0 * d * 7.0 / 8.0;
  // The LM head's final-norm input: D -> D/8 as well.
  const double head = 2.0 * tokens * d * 7.0 / 8.0;
  CHECK(whole.kept_bytes_per_layer - split.kept_bytes_per_layer == Approx(per_layer));
  CHECK(split.sequence_parallel_saving_bytes ==
        Approx(static_cast<double>(m.depth) * per_layer + head));
  CHECK(split.sequence_parallel_saving_bytes ==
        Approx(whole.activations_bytes - split.activations_bytes));
  CHECK(whole.sequence_parallel_saving_bytes == 0);
  // Nothing else changes: weights, optimizer state and gradients are the replicated layout's.
  CHECK(split.weights_bytes == whole.weights_bytes);
  CHECK(split.optimizer_state_bytes == whole.optimizer_state_bytes);
}

TEST_CASE("sequence parallel: equivalent to the sharded layout in bytes and memory",
          "[plan][sequence_parallel]") {
  // docs/plans.md: the token split moves the same bytes and stores the same elements as the
  // sharded layout's feature split.
  const auto m = load_model("gpt3-175b");
  const auto hw = load_hardware("a100-sxm-80gb");
  PlanFlags f;
  f.mesh = "128x8";
  f.fsdp = "off";
  f.batch = "1024";
  f.remat = "none";
  // auto picks row for attn_out (a tie, D -> D); Megatron's pattern has it column.
  f.sharding = "auto,attn_out=column";
  const Plan sharded = finalize_plan(apply_plan_flags(Plan{}, f), m, hw, 0);
  const Plan seq = megatron(m, hw, "128x8", true);
  const auto a = resolve_sharding(m, sharded);
  const auto b = resolve_sharding(m, seq);
  for (std::size_t i = 0; i < a.size(); ++i) {
    CHECK(a[i].forward_bytes_per_token + a[i].backward_bytes_per_token ==
          Approx(b[i].forward_bytes_per_token + b[i].backward_bytes_per_token));
  }
  CHECK(memory_per_chip(m, hw, seq).activations_bytes ==
        Approx(memory_per_chip(m, hw, sharded).activations_bytes));
}

TEST_CASE("sequence parallel: refused without replicated activations or when k splits no token",
          "[plan][sequence_parallel]") {
  const auto m = load_model("gpt3-175b");
  const auto hw = load_hardware("a100-sxm-80gb");
  PlanFlags f;
  f.mesh = "128x8";
  f.sequence_parallel = "on";
  try {
    finalize_plan(apply_plan_flags(Plan{}, f), m, hw, 0);
    FAIL("accepted with sharded activations");
  } catch (const InputError& e) {
    CHECK(e.site().file == "--sequence-parallel");
    CHECK(std::string(e.what()).find("replicated") != std::string::npos);
  }
  f.sequence_parallel = "maybe";
  CHECK_THROWS_AS(apply_plan_flags(Plan{}, f), InputError);
  // ViT-B/16 has 197 tokens (196 patches and a class token): a model axis of 4 divides its heads,
  // D and F but not the tokens; ViT-22B's 256 tokens split 4 ways.
  const auto vit = load_model("vit-b16");
  PlanFlags g;
  g.activation_layout = "replicated";
  g.sequence_parallel = "on";
  g.mesh = "64x4";
  g.batch = "256";
  try {
    finalize_plan(apply_plan_flags(Plan{}, g), vit, hw, 0);
    FAIL("accepted a model axis that does not divide the tokens");
  } catch (const InputError& e) {
    CHECK(e.site().file == "--sequence-parallel");
    CHECK(std::string(e.what()).find("197 tokens") != std::string::npos);
  }
  const auto vit22b = load_model("vit-22b");
  CHECK(finalize_plan(apply_plan_flags(Plan{}, g), vit22b, hw, 0).sequence_parallel);
}

TEST_CASE("sequence parallel: a plan file's field", "[plan][sequence_parallel]") {
  const Plan p = parse_plan_json(
      R"({"schema": "meshsim.plan/v1", "activation_layout": "replicated",
          "sequence_parallel": true})",
      "sp.json");
  CHECK(p.sequence_parallel);
  CHECK(p.site("sequence_parallel").field == "sequence_parallel");
  CHECK_THROWS_AS(
      parse_plan_json(R"({"schema": "meshsim.plan/v1", "sequence_parallel": "yes"})", "sp.json"),
      InputError);
}
