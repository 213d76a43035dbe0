// Parameter counts and FLOP per token against published figures and closed forms.
#include <catch2/catch.hpp>
#include <cmath>
#include <cstdint>
#include <string>

#include "models/model.hpp"

using meshsim::count_params;
using meshsim::flop_per_token;
using meshsim::load_model;

TEST_CASE("params: ViT-22B transformer weights are exactly 48 x 452,984,832", "[models]") {
  // Dehghani et al. 2023, arXiv 2302.05442, Table 1, as stated in DESIGN §1.
  const auto m = load_model("vit-22b");
  const auto p = count_params(m);
  CHECK(p.transformer == 21'743'271'936);
  CHECK(p.transformer == 48LL * 452'984'832);
  // Closed form of the parallel block: fused D -> 3D + F and fused D + F -> D.
  const std::int64_t d = 6144, f = 24576;
  CHECK(452'984'832 == d * (3 * d + f) + (d + f) * d);
  CHECK(p.total == p.transformer + p.biases_and_norms + p.embedding + p.head);
  // LayerNorm scale only (no bias), QK-norm scales over head_dim 128, MLP biases F + D.
  CHECK(p.biases_and_norms == 48 * (d + 2 * 128 + f + d));
  // Patch projection 14 x 14 x 3 -> D with bias, 256 position embeddings, no class token.
  CHECK(p.embedding == 14 * 14 * 3 * d + d + 256 * d);
  CHECK(p.head == d);  // final norm scale, no classifier
}

TEST_CASE("params: every zoo model is within 1% of its published figure", "[models]") {
  // The published totals, copied from the papers (not from the JSON files), and the convention
  // each figure follows (see docs/models.md).
  struct Published {
    const char* name;
    std::int64_t params;
    const char* source;
  };
  const Published table[] = {
      {"vit-b16", 86'000'000, "Dosovitskiy et al. 2021 Table 1 (86M, with a 1000-class head)"},
      {"vit-l16", 307'000'000, "Dosovitskiy et al. 2021 Table 1 (307M, with a 1000-class head)"},
      {"vit-h14", 632'000'000, "Dosovitskiy et al. 2021 Table 1 (632M, with a 1000-class head)"},
      {"vit-g14", 1'011'000'000, "Zhai et al. 2022 arXiv 2106.04560 Table 2 (1011M, no head)"},
      {"vit-bigg14", 1'843'000'000, "Zhai et al. 2022 arXiv 2106.04560 Table 2 (1843M, no head)"},
      {"vit-e14", 3'900'000'000, "Chen et al. 2022 PaLI arXiv 2209.06794 (3.9B, with MAP head)"},
      {"vit-22b", 21'743'271'936, "Dehghani et al. 2023 arXiv 2302.05442 Table 1 (21.7B)"},
  };
  for (const auto& row : table) {
    INFO(row.name << " against " << row.source);
    const auto m = load_model(row.name);
    CHECK(m.published_params == row.params);
    const double total = static_cast<double>(count_params(m).total);
    CHECK(std::abs(total / static_cast<double>(row.params) - 1.0) < 0.01);
  }
}

TEST_CASE("params: ViT-B/16 and ViT-L/16 match the widely used reference counts", "[models]") {
  // timm's vit_base_patch16_224 / vit_large_patch16_224 (1000-class head) report 86,567,656 and
  // 304,326,632 parameters: an independent count of the same architectures.
  CHECK(count_params(load_model("vit-b16")).total == 86'567'656);
  CHECK(count_params(load_model("vit-l16")).total == 304'326'632);
  // Classic block: 4 D^2 (QKV + output) + 2 D F (MLP) weights per layer.
  const auto b = load_model("vit-b16");
  CHECK(count_params(b).transformer == 12 * (4 * 768 * 768 + 2 * 768 * 3072));
}

TEST_CASE("params: flop_per_token follows DESIGN §1", "[models]") {
  const auto m = load_model("vit-22b");
  const auto f = flop_per_token(m);
  const double params = 21'743'271'936.0;
  // forward = 2 x params + 4 x tokens x D per layer
  CHECK(f.forward == 2.0 * params + 4.0 * 256 * 6144 * 48);
  CHECK(2.0 * params == Approx(43.49e9).epsilon(1e-4));  // DESIGN §1: 43.49 GFLOP
  CHECK(f.train == 3.0 * f.forward);
  // A classic model: ViT-B/16 with its class token (197 tokens).
  const auto b = load_model("vit-b16");
  CHECK(flop_per_token(b).forward ==
        2.0 * static_cast<double>(count_params(b).transformer) + 4.0 * 197 * 768 * 12);
}

TEST_CASE("params: layer_linears of both block kinds", "[models]") {
  const auto big = meshsim::layer_linears(load_model("vit-22b"));
  REQUIRE(big.size() == 2);
  // DESIGN §2: the fused input projection is 6144 -> 43008, the fused output 30720 -> 6144.
  CHECK(big[0].name == "fused_in_proj");
  CHECK(big[0].in_features == 6144);
  CHECK(big[0].out_features == 43008);
  CHECK(big[0].bias);  // the MLP part keeps its bias
  CHECK(big[1].name == "fused_out_proj");
  CHECK(big[1].in_features == 30720);
  CHECK(big[1].out_features == 6144);
  const auto base = meshsim::layer_linears(load_model("vit-b16"));
  REQUIRE(base.size() == 4);
  CHECK(base[0].name == "qkv");
  CHECK(base[0].out_features == 3 * 768);
  CHECK(base[1].name == "attn_out");
  CHECK(base[2].name == "mlp_in");
  CHECK(base[2].out_features == 3072);
  CHECK(base[3].name == "mlp_out");
  CHECK(base[3].in_features == 3072);
}
