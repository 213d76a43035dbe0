#include <catch2/catch.hpp>

#include "sim/plan/plan.hpp"

using namespace meshsim;

namespace {
std::string error_of(const std::string& text) {
  try {
    parse_plan_json(text, "p.json");
  } catch (const InputError& e) {
    return e.what();
  }
  return "(no error)";
}
}  // namespace

TEST_CASE("plan json: the example plan files load", "[plan]") {
  Plan tpu = load_plan_file(std::string(MESHSIM_SOURCE_DIR) + "/plans/vit22b-tpuv4-256x4.json");
  CHECK(tpu.name == "vit22b-tpuv4-256x4");
  CHECK(tpu.mesh.data == 256);
  CHECK(tpu.mesh.model1 == 4);
  REQUIRE(tpu.mapping.given);
  CHECK(tpu.mapping.torus_shape == std::vector<std::int64_t>{16, 16, 4});
  REQUIRE(tpu.mapping.model1.size() == 1);
  CHECK(tpu.mapping.model1[0].dim == 2);
  CHECK(tpu.mapping.model1[0].size == 4);
  CHECK(tpu.fsdp);
  CHECK(tpu.remat == Remat::Full);
  CHECK(tpu.gradient_dtype == GradientDtype::Fp32);
  CHECK(tpu.global_batch == 65536);

  Plan gpu = load_plan_file(std::string(MESHSIM_SOURCE_DIR) + "/plans/vit22b-h100-128x8.json");
  CHECK(gpu.mesh.text() == "128x8");
  CHECK_FALSE(gpu.mapping.given);
  CHECK(gpu.remat == Remat::Selective);
  CHECK(gpu.microbatches == 4);
  CHECK(gpu.global_batch == 0);  // the model's train_batch, filled by finalize_plan
}

TEST_CASE("plan json: every field, per-linear overrides and torus factors", "[plan]") {
  Plan plan = parse_plan_json(R"({"schema": "meshsim.plan/v1", "mesh": "128x4x2",
      "mapping": {"torus_shape": [16, 8, 8], "data": ["x", "y", "z:2"], "model": ["z:4"], "model2": ["y:2"]},
      "sharding": {"default": "row", "linears": {"fused_out_proj": "column"}},
      "async": false, "bidirectional": false, "fsdp": true, "remat": "selective",
      "optimizer": {"name": "adafactor", "master_weights_fp32": false, "momentum": true},
      "gradient_dtype": "bf16", "weight_grad_input": "regather", "microbatches": 8, "global_batch": 8192})",
                              "all.json");
  CHECK(plan.name == "all");
  CHECK(plan.mesh.two_model_axes);
  CHECK(plan.mesh.model2 == 2);
  REQUIRE(plan.mapping.data.size() == 3);
  CHECK(plan.mapping.data[2].dim == 2);
  CHECK(plan.mapping.data[2].size == 2);
  CHECK(plan.sharding_for("fused_in_proj") == Sharding::Row);
  CHECK(plan.sharding_for("fused_out_proj") == Sharding::Column);
  CHECK_FALSE(plan.async_collective_matmul);
  CHECK(plan.optimizer.adafactor_momentum);
  CHECK(plan.weight_grad_input == WeightGradInput::Regather);
  CHECK(plan.microbatches == 8);
  CHECK(plan.site("mesh").pointer == "/mesh");
}

TEST_CASE("plan json: strict schema, unknown fields with did-you-mean, wrong enums", "[plan]") {
  const std::string head = R"({"schema": "meshsim.plan/v1", )";
  CHECK_THAT(error_of(head + R"("fsdb": true})"), Catch::Contains("did you mean 'fsdp'"));
  CHECK_THAT(error_of(head + R"("fsdb": true})"), Catch::Contains("/fsdb"));
  CHECK_THAT(error_of(head + R"("microbatch": 2})"),
             Catch::Contains("did you mean 'microbatches'"));
  CHECK_THAT(error_of(head + R"("remat": "partial"})"), Catch::Contains("none, full, selective"));
  CHECK_THAT(error_of(head + R"("optimizer": "lamb"})"), Catch::Contains("adam, adafactor, sgd"));
  CHECK_THAT(error_of(head + R"("optimizer": {"name": "adam", "master_weight_fp32": true}})"),
             Catch::Contains("did you mean 'master_weights_fp32'"));
  CHECK_THAT(error_of(head + R"("optimizer": {"name": "adam", "momentum": true}})"),
             Catch::Contains("Adafactor"));
  CHECK_THAT(
      error_of(head + R"("sharding": {"default": "auto", "linears": {"fused_in_proj": "rows"}}})"),
      Catch::Contains("/sharding/linears/fused_in_proj"));
  CHECK_THAT(error_of(head + R"("sharding": "diagonal"})"), Catch::Contains("auto, row, column"));
  CHECK_THAT(error_of(head + R"("fsdp": "on"})"), Catch::Contains("true or false"));
  CHECK_THAT(error_of(head + R"("mesh": "256*4"})"), Catch::Contains("/mesh"));
  CHECK_THAT(error_of(head + R"("microbatches": 0})"), Catch::Contains("out of range"));
  CHECK_THAT(error_of(head + R"("mapping": {"torus_shape": [4, 4], "model": ["w"]}})"),
             Catch::Contains("not a torus dimension"));
  CHECK_THAT(error_of(head + R"("mapping": {"torus_shape": [4, 4], "model": ["z"]}})"),
             Catch::Contains("no such dimension"));
  CHECK_THAT(error_of(R"({"schema": "meshsim.plan/v2"})"), Catch::Contains("meshsim.plan/v1"));
  CHECK_THAT(error_of(R"({"mesh": "256x4"})"), Catch::Contains("schema"));
  CHECK_THAT(error_of("[1, 2]"), Catch::Contains("expected a JSON object"));
}
