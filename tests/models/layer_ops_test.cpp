// Per-layer ops against closed forms: FLOP of the forward and backward matmuls, the model axis
// split, and the bytes each op moves.
#include <catch2/catch.hpp>
#include <cstdint>
#include <string>
#include <vector>

#include "common/error.hpp"
#include "models/model.hpp"

using meshsim::layer_ops;
using meshsim::LayerShape;
using meshsim::load_model;
using meshsim::Op;
using meshsim::OpKind;
using meshsim::Pass;

namespace {

double as_double(std::int64_t x) {
  return static_cast<double>(x);
}

bool is_matmul(const Op& op) {
  return op.kind == OpKind::Matmul || op.kind == OpKind::BatchedMatmul;
}

double matmul_flop(const std::vector<Op>& ops, bool forward) {
  double total = 0;
  for (const auto& op : ops) {
    if (is_matmul(op) && (op.pass == Pass::Forward) == forward)
      total += op.flop;
  }
  return total;
}

LayerShape shape(std::int64_t b, std::int64_t k, int bytes = 2) {
  LayerShape s;
  s.batch_images = b;
  s.model_axis = k;
  s.bytes_per_element = bytes;
  return s;
}

const Op& find(const std::vector<Op>& ops, const std::string& name, Pass pass) {
  for (const auto& op : ops) {
    if (op.name == name && op.pass == pass)
      return op;
  }
  FAIL("no op " << name);
  return ops.front();
}

}  // namespace

TEST_CASE("layer_ops: forward matmul FLOP = 2 b T (layer params) + attention 4 b T^2 A",
          "[models]") {
  for (const auto& name : meshsim::zoo_model_names()) {
    const auto m = load_model(name);
    const double per_layer =
        static_cast<double>(meshsim::count_params(m).transformer) / static_cast<double>(m.depth);
    for (std::int64_t b : {1, 3}) {
      INFO(name << " batch " << b);
      const auto ops = layer_ops(m, shape(b, 1));
      const double t = as_double(m.tokens), a = as_double(meshsim::attention_width(m)),
                   bd = as_double(b);
      const double expected = 2.0 * bd * t * per_layer + 4.0 * bd * t * t * a;
      CHECK(matmul_flop(ops, true) == Approx(expected).epsilon(1e-12));
      // The same figure from DESIGN §1's per-token formula, for one layer (a decoder's per-token
      // figure also counts its LM head, vocab x D, outside the layers).
      const double head = m.kind == meshsim::ModelKind::Decoder
                              ? 2.0 * as_double(m.vocab) * as_double(m.width)
                              : 0.0;
      CHECK(matmul_flop(ops, true) * static_cast<double>(m.depth) ==
            Approx((meshsim::flop_per_token(m).forward - head) * bd * t).epsilon(1e-12));
      // Backward: an input-gradient and a weight-gradient matmul per forward matmul.
      CHECK(matmul_flop(ops, false) == Approx(2.0 * expected).epsilon(1e-12));
    }
  }
}

TEST_CASE("layer_ops: every matmul's FLOP is 2 batch m n k, and backward mirrors forward",
          "[models]") {
  const auto m = load_model("vit-22b");
  const auto ops = layer_ops(m, shape(2, 4));
  int forward_matmuls = 0, backward_matmuls = 0, forward_other = 0, backward_other = 0;
  for (const auto& op : ops) {
    INFO(op.name << " " << meshsim::to_string(op.pass));
    if (is_matmul(op)) {
      CHECK(op.flop ==
            2.0 * as_double(op.batch) * as_double(op.m) * as_double(op.n) * as_double(op.k));
      (op.pass == Pass::Forward ? forward_matmuls : backward_matmuls)++;
    } else {
      CHECK(op.k == 0);
      CHECK(op.pass != Pass::BackwardWeight);
      (op.pass == Pass::Forward ? forward_other : backward_other)++;
    }
  }
  CHECK(forward_matmuls == 4);  // fused_in, scores, values, fused_out
  CHECK(backward_matmuls == 2 * forward_matmuls);
  CHECK(backward_other == forward_other);
  // dX = dY W^T and dW = X^T dY have the forward's three dimensions, permuted.
  const auto& f = find(ops, "fused_in_proj", Pass::Forward);
  const auto& bi = find(ops, "fused_in_proj", Pass::BackwardInput);
  const auto& bw = find(ops, "fused_in_proj", Pass::BackwardWeight);
  CHECK((bi.m == f.m && bi.k == f.n && bi.n == f.k));
  CHECK((bw.m == f.k && bw.k == f.m && bw.n == f.n));
  CHECK(bi.linear == "fused_in_proj");
}

TEST_CASE("layer_ops: at model axis k every linear and attention matmul does 1/k of the work",
          "[models]") {
  for (const char* name : {"vit-22b", "vit-b16"}) {
    const auto m = load_model(name);
    const auto whole = layer_ops(m, shape(2, 1));
    for (std::int64_t k : {2, 4}) {
      INFO(name << " k=" << k);
      const auto split = layer_ops(m, shape(2, k));
      REQUIRE(split.size() == whole.size());
      for (std::size_t i = 0; i < whole.size(); ++i) {
        CHECK(split[i].name == whole[i].name);
        if (is_matmul(whole[i]))
          CHECK(split[i].flop * static_cast<double>(k) == whole[i].flop);
      }
    }
  }
  // ViT-22B at k = 16: 48 heads / 16 = 3 per chip.
  const auto m = load_model("vit-22b");
  const auto ops = layer_ops(m, shape(1, 16));
  CHECK(find(ops, "attn_scores", Pass::Forward).batch == 3);
  CHECK(find(ops, "fused_in_proj", Pass::Forward).n == 43008 / 16);
  CHECK(find(ops, "fused_out_proj", Pass::Forward).k == 30720 / 16);
}

TEST_CASE("layer_ops: activations at the layer boundary hold D/k features per chip", "[models]") {
  const auto m = load_model("vit-22b");
  for (std::int64_t k : {1, 2, 8}) {
    const auto ops = layer_ops(m, shape(1, k));
    for (const char* name : {"ln", "residual"}) {
      for (Pass pass : {Pass::Forward, Pass::BackwardInput}) {
        const auto& op = find(ops, name, pass);
        CHECK(op.n == 6144 / k);
        CHECK(op.m == 256);
      }
    }
    CHECK(find(ops, "gelu", Pass::Forward).n == 24576 / k);
  }
}

TEST_CASE("layer_ops: bytes follow the operands at bytes_per_element", "[models]") {
  for (const char* name : {"vit-22b", "vit-b16"}) {
    const auto m = load_model(name);
    const auto bf16 = layer_ops(m, shape(2, 2, 2));
    const auto fp32 = layer_ops(m, shape(2, 2, 4));
    REQUIRE(bf16.size() == fp32.size());
    for (std::size_t i = 0; i < bf16.size(); ++i) {
      const auto& op = bf16[i];
      INFO(name << " " << op.name << " " << meshsim::to_string(op.pass));
      // Activation and parameter bytes scale with the element size; the fp32 row statistics of
      // norms and softmax do not (their closed forms: layer_ops_traffic_test.cpp); FLOP do not.
      const bool has_fp32_stats = op.kind == OpKind::Norm || op.kind == OpKind::Softmax;
      if (has_fp32_stats) {
        CHECK(fp32[i].bytes_read < 2.0 * op.bytes_read);
        CHECK(fp32[i].bytes_written < 2.0 * op.bytes_written);
      } else {
        CHECK(fp32[i].bytes_read == 2.0 * op.bytes_read);
        CHECK(fp32[i].bytes_written == 2.0 * op.bytes_written);
      }
      CHECK(fp32[i].flop == op.flop);
      if (is_matmul(op)) {
        // Both operands read, the product written; an epilogue bias adds at most one row.
        const double operands = 2.0 * as_double(op.batch * (op.m * op.k + op.k * op.n));
        const double product = 2.0 * as_double(op.batch * op.m * op.n);
        CHECK(op.bytes_read >= operands);
        CHECK(op.bytes_read <= operands + 2.0 * as_double(op.n));
        CHECK(op.bytes_written >= product);
        CHECK(op.bytes_written <= product + 2.0 * as_double(op.n));
      } else {
        const double tensor = 2.0 * as_double(op.m * op.n);
        CHECK(op.bytes_read >= tensor);
        CHECK(op.bytes_written >= tensor);
        // Two passes over at most two activation tensors (norm and softmax backward: x or y and
        // dy, twice), the op's parameters (scale and bias, twice) and fp32 row statistics (at
        // most six per row).
        CHECK(op.bytes_read <= 4.0 * tensor + 4.0 * 2.0 * as_double(op.n) + 24.0 * as_double(op.m));
      }
    }
  }
  // ViT-B/16 has a QKV bias: the qkv matmul reads it (3D elements) after X and W.
  const auto b = load_model("vit-b16");
  const auto base_ops = layer_ops(b, shape(1, 1));
  const auto& qkv = find(base_ops, "qkv", Pass::Forward);
  CHECK(qkv.bytes_read == 2.0 * (197.0 * 768 + 768.0 * 2304 + 2304));
  // ViT-22B has none.
  const auto big_ops = layer_ops(load_model("vit-22b"), shape(1, 1));
  const auto& in = find(big_ops, "fused_in_proj", Pass::Forward);
  CHECK(in.bytes_read == 2.0 * (256.0 * 6144 + 6144.0 * 43008));
  CHECK(in.bytes_written == 2.0 * 256.0 * 43008);
}

TEST_CASE("layer_ops: op order and shapes of both block kinds", "[models]") {
  const auto big = layer_ops(load_model("vit-22b"), shape(1, 4));
  std::vector<std::string> forward;
  for (const auto& op : big) {
    if (op.pass == Pass::Forward)
      forward.push_back(op.name);
  }
  CHECK(forward == std::vector<std::string>{"ln", "fused_in_proj", "qk_norm", "split_heads",
                                            "attn_scores", "softmax", "attn_values", "merge_heads",
                                            "gelu", "fused_out_proj", "residual"});
  // The example in models/model.hpp: 43008 / 4 = 10752 outputs per chip.
  CHECK(find(big, "fused_in_proj", Pass::Forward).shapes ==
        "[256x6144] x [6144x10752] -> [256x10752]");
  CHECK(find(big, "attn_scores", Pass::Forward).shapes ==
        "12 x [256x128] x [128x256] -> [256x256]");
  CHECK(big.back().name == "residual");  // the join of the two gradients closes the backward

  const auto base = layer_ops(load_model("vit-b16"), shape(1, 1));
  std::vector<std::string> names;
  for (const auto& op : base) {
    if (op.pass == Pass::Forward)
      names.push_back(op.name);
  }
  CHECK(names == std::vector<std::string>{"ln1", "qkv", "split_heads", "attn_scores", "softmax",
                                          "attn_values", "merge_heads", "attn_out", "residual1",
                                          "ln2", "mlp_in", "gelu", "mlp_out", "residual2"});
  // Backward of the sequential block: MLP segment first, attention segment last.
  std::vector<std::string> backward;
  for (const auto& op : base) {
    if (op.pass != Pass::Forward)
      backward.push_back(op.name);
  }
  CHECK(backward.front() == "mlp_out");
  CHECK(backward.back() == "residual1");
}

TEST_CASE("layer_ops: a model axis that does not divide heads, D or F is rejected", "[models]") {
  const auto m = load_model("vit-22b");
  CHECK_THROWS_WITH(layer_ops(m, shape(1, 5)),
                    Catch::Contains("model_axis") && Catch::Contains("heads"));
  CHECK_THROWS_AS(layer_ops(m, shape(1, 0)), meshsim::InputError);
  CHECK_THROWS_AS(layer_ops(m, shape(0, 1)), meshsim::InputError);
  CHECK_NOTHROW(layer_ops(m, shape(1, 48)));
}
