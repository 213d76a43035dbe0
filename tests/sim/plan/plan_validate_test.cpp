#include <catch2/catch.hpp>
#include <functional>

#include "sim/plan/plan.hpp"
#include "tests/sim/plan/fixtures.hpp"

using namespace meshsim;

namespace {

Plan flags_plan(const std::string& mesh, const std::string& batch = "",
                const std::string& microbatches = "") {
  PlanFlags f;
  f.mesh = mesh;
  f.batch = batch;
  f.microbatches = microbatches;
  return apply_plan_flags(Plan{}, f);
}

std::string rejection(const Plan& plan, const ModelConfig& model,
                      const std::vector<Linear>& linears, const HardwareProfile& hw,
                      std::int64_t chips) {
  try {
    finalize_plan(plan, model, linears, hw, chips);
  } catch (const InputError& e) {
    return e.what();
  }
  return "(accepted)";
}

// An encoder whose model axis of 16 divides heads and D but not F = 4100.
ModelConfig odd_mlp() {
  ModelConfig m = test::vit22b();
  m.name = "odd";
  m.display_name = "odd";
  m.width = 1024;
  m.heads = 16;
  m.head_dim = 64;
  m.mlp_dim = 4100;
  return m;
}

}  // namespace

TEST_CASE("plan validation: defaults are filled from model and hardware", "[plan]") {
  Plan plan = finalize_plan(flags_plan("256x4"), test::vit22b(), test::vit22b_linears(),
                            test::tpu_v4(), 1024);
  CHECK(plan.global_batch == 65536);  // ViT-22B's published batch
  // Default torus mapping: a slice whose z dimension is exactly the model axis.
  REQUIRE(plan.mapping.model1.size() == 1);
  const TorusFactor model = plan.mapping.model1[0];
  CHECK(model.size == 4);
  CHECK(plan.mapping.torus_shape[static_cast<std::size_t>(model.dim)] == 4);
  std::int64_t product = 1;
  for (auto s : plan.mapping.torus_shape) {
    product *= s;
    CHECK(s <= 16);
    CHECK(s % 4 == 0);  // full cubes: wrap-around on every dimension
  }
  CHECK(product == 1024);
  std::int64_t data = 1;
  for (const auto& f : plan.mapping.data)
    data *= f.size;
  CHECK(data == 256);

  // No mesh: all chips on the data axis.
  Plan data_only =
      finalize_plan(Plan{}, test::vit22b(), test::vit22b_linears(), test::tpu_v4(), 64);
  CHECK(data_only.mesh.data == 64);
  CHECK(data_only.mesh.model() == 1);
}

TEST_CASE("plan validation: GPU model axis lands in the NVLink node when it fits", "[plan]") {
  auto in_node = [](const std::string& mesh) {
    return finalize_plan(flags_plan(mesh), test::vit22b(), test::vit22b_linears(), test::h100(), 0)
        .mapping.model_in_node;
  };
  CHECK(in_node("128x8"));
  CHECK(in_node("256x4"));
  CHECK(in_node("1024x1"));
  CHECK_FALSE(in_node("64x16"));
}

TEST_CASE("plan validation: plans that cannot apply are rejected with the reason", "[plan]") {
  const auto vit = test::vit22b();
  const auto lin = test::vit22b_linears();
  const auto v4 = test::tpu_v4();
  ModelConfig no_batch = vit;
  no_batch.train_batch = 0;
  Plan bad_override = flags_plan("256x4");
  bad_override.sharding_overrides["fused_in_prj"] = Sharding::Row;
  Plan bad_mapping = flags_plan("256x4");
  bad_mapping.mapping.given = true;
  bad_mapping.mapping.torus_shape = {16, 8, 4};
  bad_mapping.mapping.model1 = {{2, 4}};
  bad_mapping.mapping.data = {{0, 16}, {1, 8}};
  Plan wrong_factors = flags_plan("256x4");
  wrong_factors.mapping.given = true;
  wrong_factors.mapping.torus_shape = {16, 16, 4};
  wrong_factors.mapping.model1 = {{2, 2}};
  wrong_factors.mapping.data = {{0, 16}, {1, 16}, {2, 2}};

  struct Case {
    const char* what;
    std::function<std::string()> run;
    std::vector<const char*> words;
  };
  std::vector<Case> cases{
      {"mesh product != chips",
       [&] { return rejection(flags_plan("256x4"), vit, lin, v4, 512); },
       {"--mesh", "mesh product does not equal the chip count", "1024", "512"}},
      {"model axis does not divide heads",
       [&] { return rejection(flags_plan("64x5"), vit, lin, v4, 0); },
       {"--mesh", "model axis (5 chips) does not divide the attention heads (48)"}},
      {"model axis 32 does not divide 48 heads",
       [&] { return rejection(flags_plan("32x32"), vit, lin, v4, 0); },
       {"does not divide the attention heads"}},
      {"model axis does not divide F",
       [&] {
         ModelConfig m = odd_mlp();
         std::vector<Linear> l{{"fused_in_proj", 1024, 3 * 1024 + 4100, true},
                               {"fused_out_proj", 1024 + 4100, 1024, true}};
         return rejection(flags_plan("4x16"), m, l, v4, 0);
       },
       {"does not divide the MLP width F (4100)"}},
      {"model axis does not divide a linear's features",
       [&] {
         std::vector<Linear> l{{"fused_in_proj", 6144, 43010, true}};
         return rejection(flags_plan("256x4"), vit, l, v4, 0);
       },
       {"fused_in_proj's output features (43010)"}},
      {"batch not divisible by data axis",
       [&] { return rejection(flags_plan("256x4", "1000"), vit, lin, v4, 0); },
       {"--batch", "not divisible by data axis x microbatches", "1000", "256 x 1 = 256"}},
      {"batch not divisible by data x microbatches",
       [&] { return rejection(flags_plan("256x4", "", "3"), vit, lin, v4, 0); },
       {"not divisible by data axis x microbatches", "65536", "768"}},
      {"beyond the profile's chips",
       [&] { return rejection(flags_plan("2048x4"), vit, lin, v4, 0); },
       {"--mesh", "more chips than the largest TPU v4 system", "8192", "4096"}},
      {"no published batch",
       [&] { return rejection(flags_plan("256x4"), no_batch, lin, v4, 0); },
       {"no published training batch", "--batch"}},
      {"unknown linear override",
       [&] { return rejection(bad_override, vit, lin, v4, 0); },
       {"no such linear", "did you mean 'fused_in_proj'"}},
      {"torus shape does not hold the chips",
       [&] { return rejection(bad_mapping, vit, lin, v4, 0); },
       {"torus_shape does not hold the chip count", "16x8x4 = 512"}},
      {"axis factors do not multiply to the axis",
       [&] { return rejection(wrong_factors, vit, lin, v4, 0); },
       {"model axis's torus factors do not multiply to its size"}},
      {"torus mapping on a GPU cluster",
       [&] { return rejection(wrong_factors, vit, lin, test::h100(), 0); },
       {"GPU cluster"}},
  };
  for (const auto& c : cases) {
    INFO(c.what);
    std::string message = c.run();
    for (const char* word : c.words)
      CHECK_THAT(message, Catch::Contains(word));
  }
}

TEST_CASE("plan validation: with the zoo's TPU v4 and H100 profiles", "[plan]") {
  HardwareProfile v4 = load_hardware("tpu-v4");
  Plan plan = finalize_plan(
      load_plan_file(std::string(MESHSIM_SOURCE_DIR) + "/plans/vit22b-tpuv4-256x4.json"),
      test::vit22b(), test::vit22b_linears(), v4, 1024);
  CHECK(plan.mapping.text() == "data: x16 y16, model: z4");
  std::string too_many;
  try {
    finalize_plan(flags_plan("8192x1"), test::vit22b(), test::vit22b_linears(), v4, 0);
  } catch (const InputError& e) {
    too_many = e.what();
  }
  CHECK_THAT(too_many, Catch::Contains("more chips than the largest TPU v4"));
  HardwareProfile h100 = load_hardware("h100-sxm");
  Plan gpu = finalize_plan(
      load_plan_file(std::string(MESHSIM_SOURCE_DIR) + "/plans/vit22b-h100-128x8.json"),
      test::vit22b(), test::vit22b_linears(), h100, 1024);
  CHECK(gpu.mapping.model_in_node == (h100.gpu.gpus_per_node % 8 == 0));
  CHECK(gpu.global_batch == 65536);
}
