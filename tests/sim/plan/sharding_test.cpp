#include "sim/plan/sharding.hpp"

#include <catch2/catch.hpp>

#include "tests/sim/plan/fixtures.hpp"

using namespace meshsim;

namespace {
Plan plan_for(const std::string& mesh, const std::string& sharding = "",
              const std::string& wgi = "") {
  PlanFlags f;
  f.mesh = mesh;
  f.sharding = sharding;
  f.weight_grad_input = wgi;
  return apply_plan_flags(Plan{}, f);
}
}  // namespace

TEST_CASE(
    "sharding: auto gathers fused_in_proj's input and reduce-scatters fused_out_proj's output",
    "[plan]") {
  auto r = resolve_sharding(test::vit22b_linears(), plan_for("256x4"));
  REQUIRE(r.size() == 2);
  const auto& in = r[0];
  const auto& out = r[1];
  CHECK(in.name == "fused_in_proj");
  CHECK(in.requested == Sharding::Auto);
  CHECK(in.chosen == Sharding::Row);
  CHECK(in.communicates == "all-gather input");
  REQUIRE(in.forward.size() == 1);
  CHECK(in.forward[0].kind == MoveKind::AllGather);
  CHECK(in.forward[0].axis == MeshAxis::Model1);
  CHECK(in.forward[0].elements_per_token == Approx(6144.0 * 3 / 4));  // in x (k-1)/k
  CHECK(in.forward_bytes_per_token == Approx(2 * 6144.0 * 3 / 4));
  // Each chip holds a block of A's rows: (43008 / 4) x 6144.
  CHECK(in.weight_rows == 43008 / 4);
  CHECK(in.weight_cols == 6144);

  CHECK(out.name == "fused_out_proj");
  CHECK(out.chosen == Sharding::Column);
  CHECK(out.communicates == "reduce-scatter output");
  REQUIRE(out.forward.size() == 1);
  CHECK(out.forward[0].kind == MoveKind::ReduceScatter);
  CHECK(out.forward[0].elements_per_token == Approx(6144.0 * 3 / 4));  // out x (k-1)/k
  CHECK(out.weight_rows == 6144);
  CHECK(out.weight_cols == 30720 / 4);
}

TEST_CASE("sharding: the other choice moves more, and overrides are obeyed", "[plan]") {
  auto r = resolve_sharding(test::vit22b_linears(), plan_for("256x4", "column,fused_out_proj=row"));
  CHECK(r[0].chosen == Sharding::Column);
  CHECK(r[0].communicates == "reduce-scatter output");
  CHECK(r[0].forward_bytes_per_token == Approx(2 * 43008.0 * 3 / 4));
  CHECK(r[1].chosen == Sharding::Row);
  CHECK(r[1].communicates == "all-gather input");
  CHECK(r[1].forward_bytes_per_token == Approx(2 * 30720.0 * 3 / 4));
  auto best = resolve_sharding(test::vit22b_linears(), plan_for("256x4"));
  for (std::size_t i = 0; i < 2; ++i)
    CHECK(best[i].forward_bytes_per_token < r[i].forward_bytes_per_token);
}

TEST_CASE("sharding: a tie picks row", "[plan]") {
  auto r = resolve_sharding({{"square", 4096, 4096, false}}, plan_for("8x8"));
  CHECK(r[0].chosen == Sharding::Row);
}

TEST_CASE("sharding: backward mirrors forward, and the weight gradient re-gathers only when asked",
          "[plan]") {
  for (const char* wgi : {"keep", "regather"}) {
    INFO(wgi);
    bool regather = std::string(wgi) == "regather";
    auto r = resolve_sharding(test::vit22b_linears(), plan_for("256x4", "", wgi));
    const auto& in = r[0];
    REQUIRE(in.backward_input.size() == 1);
    CHECK(in.backward_input[0].kind == MoveKind::ReduceScatter);
    CHECK(in.backward_input[0].tensor == MovedTensor::InputGradient);
    CHECK(in.backward_input[0].elements_per_token == Approx(6144.0 * 3 / 4));
    CHECK(in.backward_weight.size() == (regather ? 1u : 0u));
    CHECK(in.saved_input_elements_per_token == (regather ? 6144 / 4 : 6144));
    CHECK(in.backward_bytes_per_token == Approx((regather ? 2 : 1) * 2 * 6144.0 * 3 / 4));
    const auto& out = r[1];
    REQUIRE(out.backward_input.size() == 1);
    CHECK(out.backward_input[0].kind == MoveKind::AllGather);
    CHECK(out.backward_input[0].tensor == MovedTensor::OutputGradient);
    CHECK(out.backward_input[0].elements_per_token == Approx(6144.0 * 3 / 4));
    CHECK(out.backward_weight.empty());  // a column block's weight gradient reads the local input
    CHECK(out.saved_input_elements_per_token == 30720 / 4);
  }
}

TEST_CASE("sharding: a model axis of 1 moves nothing", "[plan]") {
  for (const char* sharding : {"auto", "row", "column"}) {
    auto r = resolve_sharding(test::vit22b_linears(), plan_for("1024x1", sharding, "regather"));
    for (const auto& l : r) {
      INFO(l.name << " " << sharding);
      CHECK(l.forward.empty());
      CHECK(l.backward_input.empty());
      CHECK(l.backward_weight.empty());
      CHECK(l.forward_bytes_per_token == 0);
      CHECK(l.backward_bytes_per_token == 0);
      CHECK(l.communicates == "nothing");
      CHECK(l.weight_rows * l.weight_cols == l.in_features * l.out_features);
    }
  }
}

TEST_CASE("sharding: two model axes gather over one and reduce-scatter over the other", "[plan]") {
  auto r = resolve_sharding(test::vit22b_linears(), plan_for("16x8x4"));  // k1 = 8, k2 = 4
  for (const auto& l : r) {
    INFO(l.name);
    // The 32 chips of a model group hold disjoint blocks that tile A.
    CHECK(l.weight_rows * l.weight_cols * 32 == l.in_features * l.out_features);
    REQUIRE(l.forward.size() == 2);
    const double in = static_cast<double>(l.in_features), out = static_cast<double>(l.out_features);
    double row =
        in / 4 * 7 / 8 + out / 8 * 3 / 4;  // gather over model (8), scatter over model2 (4)
    double column = in / 8 * 3 / 4 + out / 4 * 7 / 8;  // gather over model2, scatter over model
    CHECK(l.forward_bytes_per_token == Approx(2 * std::min(row, column)));
    CHECK(l.communicates.find("(model") != std::string::npos);
  }
}
