// Decoder language models (issue 14 items 1-3): the zoo's parameter counts against the published
// figures, FLOP per token in the field's closed form, GQA/MQA and SwiGLU parameter closed forms,
// the causal attention's cost, and the LM head's ops.
#include <catch2/catch.hpp>
#include <cmath>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "common/error.hpp"
#include "hardware_profiles/cost_model.hpp"
#include "hardware_profiles/hardware.hpp"
#include "models/model.hpp"
#include "tests/input_errors.hpp"

using meshsim::count_params;
using meshsim::flop_per_token;
using meshsim::LayerShape;
using meshsim::load_model;
using meshsim::ModelConfig;
using meshsim::ModelKind;
using meshsim::Op;
using meshsim::OpKind;
using meshsim::Pass;

namespace {

double as_double(std::int64_t v) {
  return static_cast<double>(v);
}

// A small GPT-style decoder written out field by field (not from the zoo).
nlohmann::json base_decoder() {
  return {{"schema", "meshsim.model/v1"},
          {"kind", "decoder"},
          {"block", "sequential"},
          {"width", 1024},
          {"depth", 4},
          {"mlp_dim", 4096},
          {"heads", 16},
          {"vocab", 32000},
          {"seq_len", 512}};
}

ModelConfig parse(const nlohmann::json& j) {
  return meshsim::parse_model_json(j.dump(), "decoder.json");
}

double total(const std::vector<Op>& ops, bool flop) {
  double sum = 0;
  for (const auto& op : ops)
    sum += flop ? op.flop : op.bytes_read + op.bytes_written;
  return sum;
}

}  // namespace

TEST_CASE("decoder params: the zoo LMs match their published counts", "[models][decoder]") {
  // Figures as published, rounded as published; the tolerance is half a unit of the last digit
  // given (the count must round to the published figure), plus the norm scales and biases, which
  // the papers do not say whether they count (PaLM: 118 x 18432 norm scales, 2.2M, would move
  // 540.3543B to 540.3565B). Copied from the sources, not from the JSON files.
  struct Published {
    const char* name;
    double params;
    double half_unit;
    const char* source;
  };
  const Published table[] = {
      {"gpt3-175b", 174.6e9, 0.05e9,
       "Brown et al. 2020 Table 2.1 architecture; 174.6B as issue 14 states it (the paper rounds "
       "to 175.0B, 0.23% above: see the 1% check below)"},
      {"llama3-8b", 8.03e9, 0.005e9, "meta-llama/Meta-Llama-3-8B model card: 8.03B"},
      {"llama3-70b", 70.6e9, 0.05e9, "meta-llama/Meta-Llama-3-70B model card: 70.6B"},
      {"llama3-405b", 405.9e9, 0.05e9, "meta-llama/Llama-3.1-405B model card: 405.9B"},
      {"palm-540b", 540.35e9, 0.005e9, "Chowdhery et al. 2022 Table 1: 540.35B"},
  };
  for (const auto& row : table) {
    INFO(row.name << " against " << row.source);
    const auto m = load_model(row.name);
    CHECK(m.kind == ModelKind::Decoder);
    const auto p = count_params(m);
    const double counted = as_double(p.total);
    const double norms = as_double(p.biases_and_norms) + as_double(m.width);  // + final norm
    CHECK(std::abs(counted - row.params) <= row.half_unit + norms);
    // The file's own published figure (and its source) within 1%, as for the ViTs.
    REQUIRE(m.published_params > 0);
    CHECK_FALSE(m.published_params_source.empty());
    CHECK(std::abs(counted / as_double(m.published_params) - 1.0) < 0.01);
    CHECK(m.source.find("arXiv") != std::string::npos);
  }
}

TEST_CASE("decoder params: closed forms of the Llama 3 and PaLM layers", "[models][decoder]") {
  // Llama 3 8B: Q (D x D), K and V (D x 8 x 128 each), output (D x D), SwiGLU's three D x F
  // matrices; untied embedding and LM head; RMSNorm scales only.
  const auto l = load_model("llama3-8b");
  const std::int64_t d = 4096, f = 14336, kv = 8 * 128, v = 128256;
  const auto p = count_params(l);
  CHECK(p.transformer == 32 * (d * (d + 2 * kv) + d * d + 3 * d * f));
  CHECK(p.biases_and_norms == 32 * 2 * d);
  CHECK(p.embedding == v * d);      // rotary positions: no parameters
  CHECK(p.head == d + v * d);       // final norm and the untied LM head
  CHECK(p.total == 8'030'261'248);  // the sum of the above
  // PaLM: parallel block, multi-query (one K/V head of 256), SwiGLU, tied embeddings.
  const auto palm = load_model("palm-540b");
  const std::int64_t pd = 18432, a = 48 * 256, pf = 73728, hd = 256;
  const auto pp = count_params(palm);
  CHECK(pp.transformer == 118 * (pd * (a + 2 * hd + 2 * pf) + (a + pf) * pd));
  CHECK(pp.embedding == 256000 * pd);
  CHECK(pp.head == pd);  // the final norm; the LM head is the embedding matrix
}

TEST_CASE("decoder params: lm-22b has ViT-22B's linear shapes", "[models][decoder]") {
  const auto lm = load_model("lm-22b");
  const auto vit = load_model("vit-22b");
  CHECK(count_params(lm).transformer == count_params(vit).transformer);
  CHECK(count_params(lm).transformer == 48LL * 452'984'832);
  const auto a = meshsim::layer_linears(lm), b = meshsim::layer_linears(vit);
  REQUIRE(a.size() == b.size());
  for (std::size_t i = 0; i < a.size(); ++i) {
    CHECK(a[i].in_features == b[i].in_features);
    CHECK(a[i].out_features == b[i].out_features);
  }
}

TEST_CASE("decoder FLOP per token: 6N + 12 L H Q T, and the causal 6N + 6 L H Q T",
          "[models][decoder]") {
  for (const char* name :
       {"gpt3-175b", "llama3-8b", "llama3-70b", "llama3-405b", "palm-540b", "lm-22b"}) {
    INFO(name);
    const auto m = load_model(name);
    const auto f = flop_per_token(m);
    // N: the layers' weight matrices and the LM head (vocab x D), tied or not.
    const double n = as_double(count_params(m).transformer) + as_double(m.vocab * m.width);
    const double lhqt =
        as_double(m.depth) * as_double(m.heads) * as_double(m.head_dim) * as_double(m.tokens);
    CHECK(f.matmul_params == n);
    CHECK(f.train == Approx(6.0 * n + 12.0 * lhqt).epsilon(1e-15));
    CHECK(f.train_causal == Approx(6.0 * n + 6.0 * lhqt).epsilon(1e-15));
    CHECK(f.train == 3.0 * f.forward);
  }
  // GPT-3: 6N = 6 x (173.95B + 0.62B) = 1.047 TFLOP, attention 12 x 96 x 12288 x 2048 = 29.0
  // GFLOP per token (Narayanan et al. 2021, eq. 3: 72 B s l h^2 (1 + s/6h + V/12lh) / (B s)).
  const auto g = load_model("gpt3-175b");
  const double h = 12288, s = 2048, l = 96, v = 50257;
  CHECK(flop_per_token(g).train == Approx(72.0 * l * h * h * (1 + s / (6 * h) + v / (12 * l * h))));
  // Encoders are unchanged: the causal figure equals the full one.
  const auto vit = load_model("vit-22b");
  CHECK(flop_per_token(vit).train_causal == flop_per_token(vit).train);
}

TEST_CASE("decoder params: GQA and MQA shrink K and V by the closed form", "[models][decoder]") {
  // K and V: 2 x D x kv_heads x head_dim per layer, with biases 2 x kv_heads x head_dim.
  const auto mha = parse(base_decoder());
  const std::int64_t d = 1024, hd = 64, layers = 4;
  for (std::int64_t kv : {8, 4, 1}) {
    INFO("kv_heads " << kv);
    auto j = base_decoder();
    j["kv_heads"] = kv;
    const auto gqa = parse(j);
    CHECK(count_params(mha).transformer - count_params(gqa).transformer ==
          layers * 2 * d * (16 - kv) * hd);
    CHECK(count_params(mha).biases_and_norms - count_params(gqa).biases_and_norms ==
          layers * 2 * (16 - kv) * hd);
    CHECK(meshsim::kv_width(gqa) == kv * hd);
  }
  // SwiGLU's third (gate) matrix adds D x F per layer, and F biases.
  auto j = base_decoder();
  j["mlp"] = "swiglu";
  const auto swiglu = parse(j);
  CHECK(count_params(swiglu).transformer - count_params(mha).transformer == layers * d * 4096);
  CHECK(count_params(swiglu).biases_and_norms - count_params(mha).biases_and_norms ==
        layers * 4096);
  // Tied embeddings drop the LM head matrix; learned positions add seq_len x D.
  j = base_decoder();
  j["tied_embeddings"] = true;
  CHECK(count_params(mha).head - count_params(parse(j)).head == 32000 * d);
  CHECK(count_params(mha).embedding == 32000 * d + 512 * d);
  j["position_embedding"] = "rotary";
  CHECK(count_params(parse(j)).embedding == 32000 * d);
}

TEST_CASE("decoder layer ops: GQA K/V split or replicated over the model axis",
          "[models][decoder]") {
  const auto m = load_model("llama3-70b");  // 64 heads, 8 K/V heads of 128
  auto qkv_out = [&](std::int64_t k) {
    for (const auto& op : meshsim::layer_ops(m, LayerShape{1, k}))
      if (op.name == "qkv" && op.pass == Pass::Forward)
        return op.n;
    return std::int64_t{-1};
  };
  CHECK(qkv_out(1) == 8192 + 2 * 1024);
  CHECK(qkv_out(8) == 1024 + 2 * 128);  // one K/V head per chip
  CHECK(qkv_out(4) == 2048 + 2 * 256);
  CHECK(qkv_out(16) == 512 + 2 * 128);  // each K/V head replicated on two chips
  // A model axis that neither divides nor is a multiple of kv_heads is refused.
  auto j = base_decoder();
  j["heads"] = 48;
  j["width"] = 6144;
  j["mlp_dim"] = 24576;
  j["kv_heads"] = 8;
  const auto odd = parse(j);
  const auto msg = meshsim::testing::error_of([&] { meshsim::layer_ops(odd, LayerShape{1, 6}); });
  CHECK(meshsim::testing::contains(msg, "kv_heads"));
  CHECK(meshsim::testing::error_of([&] {
          meshsim::layer_ops(odd, LayerShape{1, 8});
        }) == "<no error>");
}

TEST_CASE("decoder layer ops: causal attention costs no more than the encoder's",
          "[models][decoder]") {
  // The same shapes as an encoder (tokens = seq_len, no vocabulary inside the layer).
  const auto dec = load_model("lm-22b");
  ModelConfig enc = dec;
  enc.kind = ModelKind::Encoder;
  const auto hw = meshsim::load_hardware("h100-sxm");
  for (auto kernel : {meshsim::AttentionKernel::Unfused, meshsim::AttentionKernel::Flash}) {
    for (std::int64_t k : {1, 8}) {
      INFO(meshsim::to_string(kernel) << " model axis " << k);
      const LayerShape shape{2, k, 2, kernel};
      const auto d_ops = meshsim::layer_ops(dec, shape), e_ops = meshsim::layer_ops(enc, shape);
      REQUIRE(d_ops.size() == e_ops.size());
      double d_time = 0, e_time = 0;
      for (std::size_t i = 0; i < d_ops.size(); ++i) {
        CHECK(d_ops[i].flop <= e_ops[i].flop);
        d_time += meshsim::op_time_s(hw.cost, hw.chip, d_ops[i]);
        e_time += meshsim::op_time_s(hw.cost, hw.chip, e_ops[i]);
      }
      CHECK(d_time <= e_time);
      if (kernel == meshsim::AttentionKernel::Flash) {
        // The fused kernel skips the blocks above the diagonal: (T + 1) / 2T of the products.
        const double t = as_double(dec.tokens);
        for (std::size_t i = 0; i < d_ops.size(); ++i) {
          if (d_ops[i].kind == OpKind::FlashAttention)
            CHECK(d_ops[i].flop == Approx(e_ops[i].flop * (t + 1) / (2 * t)).epsilon(1e-12));
        }
        CHECK(d_time < e_time);
      } else {
        CHECK(total(d_ops, true) == total(e_ops, true));  // masked in the softmax: same work
      }
    }
  }
}

TEST_CASE("decoder LM head ops: vocab-parallel head and loss, closed forms", "[models][decoder]") {
  const auto m = load_model("gpt3-175b");  // vocab 50257: padded to a multiple of k
  const std::int64_t b = 2, k = 8, r = b * 2048, d = 12288;
  const std::int64_t v_k = (50257 + k - 1) / k;
  CHECK(meshsim::vocab_per_chip(m, k) == v_k);
  const auto ops = meshsim::lm_head_ops(m, LayerShape{b, k});
  auto find = [&](const std::vector<Op>& list, const std::string& name, Pass pass) {
    for (const auto& op : list)
      if (op.name == name && op.pass == pass)
        return op;
    FAIL("no op " << name);
    return Op{};
  };
  const Op head = find(ops.head_forward, "lm_head", Pass::Forward);
  CHECK(head.flop == 2.0 * as_double(r) * as_double(d) * as_double(v_k));
  CHECK(head.flop * as_double(k) >= 2.0 * as_double(r) * as_double(d) * 50257.0);
  CHECK(find(ops.head_backward, "lm_head", Pass::BackwardInput).flop == head.flop);
  CHECK(find(ops.head_backward, "lm_head", Pass::BackwardWeight).flop == head.flop);
  // Cross-entropy: memory-bound over the chip's logits; reads them twice (max, then sum of
  // exponentials), writes three fp32 per row; the backward reads them once and writes dlogits.
  const Op ce = find(ops.head_forward, "cross_entropy", Pass::Forward);
  CHECK(ce.kind == OpKind::Softmax);
  CHECK(ce.bytes_read == 2.0 * 2.0 * as_double(r) * as_double(v_k) + 4.0 * as_double(r));
  CHECK(ce.bytes_written == 4.0 * 3.0 * as_double(r));
  const Op ce_b = find(ops.head_backward, "cross_entropy", Pass::BackwardInput);
  CHECK(ce_b.bytes_written == 2.0 * as_double(r) * as_double(v_k));
  CHECK_FALSE(ops.embedding_forward.empty());
  CHECK_FALSE(ops.embedding_backward.empty());
  // Encoders have none.
  const auto none = meshsim::lm_head_ops(load_model("vit-22b"), LayerShape{1, 1});
  CHECK(none.head_forward.empty());
  CHECK(none.embedding_forward.empty());
}

TEST_CASE("decoder model files: bad fields are refused with one line", "[models][decoder]") {
  using meshsim::testing::contains;
  using meshsim::testing::error_of;
  auto j = base_decoder();
  j["patch"] = 16;
  CHECK(contains(error_of([&] { parse(j); }), "not a field of a decoder"));
  j = base_decoder();
  j.erase("vocab");
  CHECK(contains(error_of([&] { parse(j); }), "vocab"));
  j = base_decoder();
  j["kv_heads"] = 5;
  CHECK(contains(error_of([&] { parse(j); }), "does not divide heads"));
  j = base_decoder();
  j["mlp"] = "swish";
  CHECK(contains(error_of([&] { parse(j); }), "mlp"));
  j = base_decoder();
  j["kind"] = "encoder";
  CHECK(contains(error_of([&] { parse(j); }), "not a field of an encoder"));
}
