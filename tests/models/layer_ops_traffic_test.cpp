// The HBM traffic of every memory-bound op against its closed form (docs/models.md): two-pass
// norms and softmax with fp32 row statistics, the head split/merge relayouts, FlashAttention, and
// norms/residual on replicated activations.
#include <catch2/catch.hpp>
#include <cstdint>
#include <string>
#include <vector>

#include "models/model.hpp"

using meshsim::AttentionKernel;
using meshsim::layer_ops;
using meshsim::LayerShape;
using meshsim::load_model;
using meshsim::Op;
using meshsim::OpKind;
using meshsim::Pass;

namespace {

LayerShape shape(std::int64_t b, std::int64_t k,
                 AttentionKernel attention = AttentionKernel::Unfused, bool replicated = false) {
  LayerShape s;
  s.batch_images = b;
  s.model_axis = k;
  s.attention = attention;
  s.replicated_activations = replicated;
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

bool has(const std::vector<Op>& ops, const std::string& name) {
  for (const auto& op : ops) {
    if (op.name == name)
      return true;
  }
  return false;
}

double total_bytes(const std::vector<Op>& ops, const std::string& name) {
  double sum = 0;
  for (const auto& op : ops) {
    if (op.name == name)
      sum += op.bytes_read + op.bytes_written;
  }
  return sum;
}

}  // namespace

TEST_CASE("layer traffic: norms read x twice and keep fp32 statistics per row",
          "[models][traffic]") {
  // ViT-22B: RMS norm (one statistic per row), scale only. b = 2, k = 4: R = 512, D_k = 1536.
  const auto m = load_model("vit-22b");
  const auto ops = layer_ops(m, shape(2, 4));
  const double r = 512, dk = 1536;
  const auto& f = find(ops, "ln", Pass::Forward);
  CHECK(f.bytes_read == 2 * (2 * r * dk + dk) + 4 * r);  // x twice, scale; the 1/rms read back
  CHECK(f.bytes_written == 2 * r * dk + 4 * r);          // y; the 1/rms per row
  const auto& b = find(ops, "ln", Pass::BackwardInput);
  // x and dy in both passes, the scale twice; the statistic in both passes and the row sums.
  CHECK(b.bytes_read == 2 * (4 * r * dk + 2 * dk) + 4 * (3 * r));
  CHECK(b.bytes_written == 2 * (r * dk + dk) + 4 * r);  // dx, the scale gradient; row sums
  // QK-norm: rows of head_dim = 128 for queries and keys of the 12 heads on this chip.
  const double rows = 2 * r * 12;
  const auto& q = find(ops, "qk_norm", Pass::Forward);
  CHECK(q.bytes_read == 2 * (2 * rows * 128 + 2 * 128) + 4 * rows);
  CHECK(q.bytes_written == 2 * rows * 128 + 4 * rows);

  // ViT-B/16: LayerNorm with centering and bias keeps two statistics (mean, 1/std) per row.
  const auto base = layer_ops(load_model("vit-b16"), shape(1, 1));
  const double rb = 197, d = 768;
  const auto& ln1 = find(base, "ln1", Pass::Forward);
  CHECK(ln1.bytes_read == 2 * (2 * rb * d + 2 * d) + 4 * 2 * rb);
  CHECK(ln1.bytes_written == 2 * rb * d + 4 * 2 * rb);
  const auto& ln1b = find(base, "ln1", Pass::BackwardInput);
  CHECK(ln1b.bytes_read == 2 * (4 * rb * d + 2 * d) + 4 * (3 * 2 * rb));
  CHECK(ln1b.bytes_written == 2 * (rb * d + 2 * d) + 4 * 2 * rb);
}

TEST_CASE("layer traffic: softmax makes a statistics pass and a normalize pass",
          "[models][traffic]") {
  const auto m = load_model("vit-22b");
  const auto ops = layer_ops(m, shape(2, 4));
  const double rows = 2 * 12 * 256, t = 256;  // b x heads per chip x T rows of T scores
  const auto& f = find(ops, "softmax", Pass::Forward);
  CHECK(f.bytes_read == 2 * 2 * rows * t + 4 * 2 * rows);  // scores twice; max and sum read back
  CHECK(f.bytes_written == 2 * rows * t + 4 * 2 * rows);   // probabilities; max and sum
  const auto& b = find(ops, "softmax", Pass::BackwardInput);
  CHECK(b.bytes_read == 2 * 4 * rows * t + 4 * rows);  // y and dy twice; the row sum read back
  CHECK(b.bytes_written == 2 * rows * t + 4 * rows);   // dx; sum(dy y) per row
}

TEST_CASE("layer traffic: head split and merge copy Q, K, V and the attention output",
          "[models][traffic]") {
  // ViT-B/16 (no QK-norm): Q, K and V are copied head-major, [R x 3A]; the output back, [R x A].
  const auto base = layer_ops(load_model("vit-b16"), shape(2, 2));
  const double r = 2 * 197, a = 768 / 2;
  for (Pass pass : {Pass::Forward, Pass::BackwardInput}) {
    CHECK(find(base, "split_heads", pass).bytes_read == 2 * r * 3 * a);
    CHECK(find(base, "split_heads", pass).bytes_written == 2 * r * 3 * a);
    CHECK(find(base, "merge_heads", pass).bytes_read == 2 * r * a);
    CHECK(find(base, "merge_heads", pass).bytes_written == 2 * r * a);
  }
  // ViT-22B: QK-norm writes Q and K head-major, so only V is copied.
  const auto big = layer_ops(load_model("vit-22b"), shape(1, 4));
  CHECK(find(big, "split_heads", Pass::Forward).bytes_read == 2.0 * 256 * 1536);
}

TEST_CASE("layer traffic: FlashAttention does the unfused attention's FLOP in one kernel per pass",
          "[models][traffic][flash]") {
  for (const char* name : {"vit-22b", "vit-b16"}) {
    const auto m = load_model(name);
    INFO(name);
    const auto unfused = layer_ops(m, shape(2, 2));
    const auto flash = layer_ops(m, shape(2, 2, AttentionKernel::Flash));
    const auto& scores = find(unfused, "attn_scores", Pass::Forward);
    const auto& values = find(unfused, "attn_values", Pass::Forward);
    const auto& f = find(flash, "flash_attention", Pass::Forward);
    CHECK(f.kind == OpKind::FlashAttention);
    // Forward: S = Q K^T and O = P V.
    CHECK(f.flop == scores.flop + values.flop);
    // Backward: the four unfused backward matmuls plus the recomputed scores.
    double unfused_backward = 0;
    for (const auto& op : unfused) {
      if (op.pass != Pass::Forward && (op.name == "attn_scores" || op.name == "attn_values"))
        unfused_backward += op.flop;
    }
    const auto& b = find(flash, "flash_attention", Pass::BackwardInput);
    CHECK(b.flop == unfused_backward + scores.flop);
    // No scores, softmax or relayouts in HBM.
    for (const char* gone : {"attn_scores", "softmax", "attn_values", "split_heads", "merge_heads"})
      CHECK_FALSE(has(flash, gone));
    // Bytes: forward reads Q, K, V and writes O plus the fp32 log-sum-exp per row; backward reads
    // Q, K, V, O, dO, dO again, the log-sum-exp and the fp32 dQ accumulator and the row sums D,
    // writes dQ, dK, dV, D and the accumulator.
    const double x = static_cast<double>(scores.batch * scores.m * scores.k);  // b H_k T hd
    const double rows = static_cast<double>(scores.batch * scores.m);          // b H_k T
    CHECK(f.bytes_read == 2 * 3 * x);
    CHECK(f.bytes_written == 2 * x + 4 * rows);
    CHECK(b.bytes_read == 2 * 6 * x + 4 * (2 * rows + x));
    CHECK(b.bytes_written == 2 * 3 * x + 4 * (rows + x));
    // Far less traffic than the unfused attention's T x T scores.
    double unfused_bytes = 0;
    for (const char* op : {"attn_scores", "softmax", "attn_values", "split_heads", "merge_heads"})
      unfused_bytes += total_bytes(unfused, op);
    CHECK(total_bytes(flash, "flash_attention") < unfused_bytes);
  }
}

TEST_CASE("layer traffic: replicated activations run norms and residual on the full width",
          "[models][traffic][layout]") {
  for (const char* name : {"vit-22b", "vit-b16"}) {
    const auto m = load_model(name);
    for (std::int64_t k : {2, 4}) {
      INFO(name << " k=" << k);
      const auto sharded = layer_ops(m, shape(1, k));
      const auto replicated = layer_ops(m, shape(1, k, AttentionKernel::Unfused, true));
      REQUIRE(sharded.size() == replicated.size());
      const auto kd = static_cast<double>(k);
      for (std::size_t i = 0; i < sharded.size(); ++i) {
        const auto& s = sharded[i];
        const auto& r = replicated[i];
        INFO(s.name << " " << meshsim::to_string(s.pass));
        const bool boundary = s.name.rfind("ln", 0) == 0 || s.name.rfind("residual", 0) == 0;
        if (boundary) {
          CHECK(r.n == s.n * k);
          CHECK(r.flop == s.flop * kd);
          // Activations and parameters k times wider; the fp32 statistics per row unchanged
          // (norms: s per row written and read back forward; read 3s, written s backward).
          double stats_read = 0, stats_written = 0;
          if (s.kind == OpKind::Norm) {
            const double per_row = 4.0 * static_cast<double>(s.m) * (m.layernorm_centering ? 2 : 1);
            stats_read = (s.pass == Pass::Forward ? 1 : 3) * per_row;
            stats_written = per_row;
          }
          CHECK(r.bytes_read - stats_read ==
                Approx((s.bytes_read - stats_read) * kd).epsilon(1e-12));
          CHECK(r.bytes_written - stats_written ==
                Approx((s.bytes_written - stats_written) * kd).epsilon(1e-12));
        } else {
          CHECK(r.bytes_read == s.bytes_read);
          CHECK(r.bytes_written == s.bytes_written);
          CHECK(r.flop == s.flop);
        }
      }
    }
  }
}
